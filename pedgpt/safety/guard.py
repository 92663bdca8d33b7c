"""The answer guard: check a model answer's drugs and doses against the tables.

`check_answer(answer, context)` finds drug mentions and doses in the answer and reports, as
`Finding`s (message in the context's language, with source): overdose, underdose, toxic_dose,
forbidden_drug, caution, too_frequent, missing_weight, unclear_concentration, prescription_only
(parent mode), duplicate_ingredient, combined_antipyretics, discouraged_practice,
implausible_weight. `guard(answer, context, triage)` is the engine-facing wrapper: it returns the
answer (in parent mode with dangerous sentences removed, or replaced by escalation advice at
urgent and above), the findings, and a banner (non-dismissable at emergency in parent mode).

    from pedgpt.safety import guard, SafetyContext
    guard("布洛芬每次20mg/kg", SafetyContext(age_months=24, weight_kg=12)).findings[0].kind  # 'overdose'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pedgpt.errors import InputError
from pedgpt.safety import contra, tables
from pedgpt.safety.answer_parse import DoseStatement, ParsedAnswer, parse_answer, without_reassurance
from pedgpt.safety.checks import Envelope, envelope_for
from pedgpt.safety.extract import finding_statuses, weight_plausible
from pedgpt.safety.growth import weight_range
from pedgpt.safety.messages import message

SEVERITIES = ("critical", "high", "medium", "low")
#: Patient conditions read from the answer's own sentence ("水痘发烧可以吃布洛芬").
_ANSWER_CONDITIONS = {"antipyretic_use", "fever", "chickenpox", "dehydration", "severe_dehydration", "asthma",
                      "nsaid_allergy", "tonsillectomy", "obesity", "sleep_apnoea", "lung_disease"}
_REDACT_KINDS = {"overdose", "toxic_dose", "forbidden_drug", "too_frequent", "prescription_only"}


@dataclass(frozen=True)
class SafetyContext:
    """What the guard knows about the patient and the reader."""

    age_months: float | None = None
    weight_kg: float | None = None
    language: str = "zh"
    """Language of the findings' messages: "zh" or "en"."""
    mode: str = "clinician"
    """"clinician" or "parent" (stricter: no prescription doses, no [R] values, escalation)."""
    conditions: frozenset[str] = frozenset()
    """Finding ids known for the patient (e.g. "chickenpox", "dehydration") from the question."""

    def __post_init__(self) -> None:
        if self.mode not in ("clinician", "parent"):
            raise InputError(f"mode must be 'clinician' or 'parent', got {self.mode!r}")
        if self.language not in ("zh", "en"):
            raise InputError(f"language must be 'zh' or 'en', got {self.language!r}")
        if self.age_months is not None and not 0 <= self.age_months <= 216:
            raise InputError(f"age must be between 0 and 216 months, got {self.age_months:g}")
        if self.weight_kg is not None and not 0 < self.weight_kg <= 150:
            raise InputError(f"weight must be more than 0 and at most 150 kg, got {self.weight_kg:g}")
        object.__setattr__(self, "conditions", frozenset(self.conditions or ()))


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    drug: str | None
    message: str
    source: str
    rule_id: str | None = None
    stated: str | None = None
    limit: str | None = None
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "drug": self.drug, "message": self.message,
                "source": self.source, "rule_id": self.rule_id, "stated": self.stated, "limit": self.limit,
                "span": list(self.span) if self.span else None}


@dataclass
class GuardedAnswer:
    answer: str
    findings: list[Finding] = field(default_factory=list)
    banner: dict | None = None
    modified: bool = False
    """True when parent mode removed or replaced part of the model's answer."""

    def to_dict(self) -> dict:
        return {"answer": self.answer, "findings": [f.to_dict() for f in self.findings], "banner": self.banner,
                "modified": self.modified}


def check_answer(answer: str, context: SafetyContext | None = None) -> list[Finding]:
    """Every safety finding in a model answer for this patient (empty list = nothing found)."""
    context = context or SafetyContext()
    parsed = parse_answer(answer)
    out: list[Finding] = []
    out += _weight_findings(context)
    recommended = {m.drug_id for m in parsed.mentions if m.recommended}
    for drug_id in sorted(recommended):
        out += _drug_findings(parsed, drug_id, context)
    out += _dose_findings(parsed, context)
    out += _answer_level_findings(parsed, recommended, context)
    return _dedupe(out)


def guard(answer: str, context: SafetyContext | None = None, triage=None) -> GuardedAnswer:
    """Check the answer, apply the parent-mode rules and attach the triage banner."""
    context = context or SafetyContext()
    known = _triage_conditions(triage)
    if known - context.conditions:
        context = replace(context, conditions=context.conditions | known)
    findings = check_answer(answer, context)
    level = _field(triage, "level")
    result = GuardedAnswer(answer=answer, findings=findings, banner=_banner(level, context))
    if context.mode == "parent":
        _apply_parent_rules(result, triage, context)
    return result


# ----------------------------------------------------------------------------- per drug

def _drug_findings(parsed: ParsedAnswer, drug_id: str, ctx: SafetyContext) -> list[Finding]:
    item = tables.drug(drug_id)
    mention = next(m for m in parsed.mentions if m.drug_id == drug_id and m.recommended)
    span = (mention.start, mention.end)
    conditions = set(ctx.conditions) | _sentence_conditions(parsed, mention.sentence)
    rules = contra.applicable(item, ctx.age_months, ctx.weight_kg, conditions, assume_child=True)
    out = [Finding("forbidden_drug", "high", drug_id, message(ctx.language, "forbidden", drug=item.label(ctx.language),
                                                                rule=r.rule.get(ctx.language)),
                   r.source, r.id, span=span) for r in contra.forbidding(rules)]
    out += [Finding("caution", "low", drug_id, r.rule.get(ctx.language), r.source, r.id, span=span)
            for r in contra.cautions(rules)]
    if ctx.mode == "parent" and item.prescription_only and _has_dose(parsed, drug_id):
        out.append(Finding("prescription_only", "high", drug_id,
                           message(ctx.language, "prescription_only", drug=item.label(ctx.language)),
                           "互联网诊疗监管细则(试行), NHC and NATCM, 2022", "PRESCRIPTION-ONLY", span=span))
    return out


def _has_dose(parsed: ParsedAnswer, drug_id: str) -> bool:
    return any(d.drug_id == drug_id for d in parsed.doses) or any(f.drug_id == drug_id for f in parsed.frequencies)


def _sentence_conditions(parsed: ParsedAnswer, sentence: int) -> set[str]:
    statuses = finding_statuses(parsed.sentence_text(sentence))
    return {f for f, st in statuses.items() if st == "present" and f in _ANSWER_CONDITIONS}


# ----------------------------------------------------------------------------- doses

def _dose_findings(parsed: ParsedAnswer, ctx: SafetyContext) -> list[Finding]:
    out: list[Finding] = []
    recommended = {m.drug_id for m in parsed.mentions if m.recommended}
    for dose in parsed.doses:
        if dose.drug_id is None or dose.drug_id not in recommended:
            continue
        env = envelope_for(tables.drug(dose.drug_id), ctx.age_months, ctx.mode)
        if env is None:
            continue
        out += _check_dose(dose, env, parsed, ctx)
    for freq in parsed.frequencies:
        if freq.drug_id in recommended:
            env = envelope_for(tables.drug(freq.drug_id), ctx.age_months, ctx.mode)
            if env is not None:
                out += _check_frequency(freq, env, ctx)
    return out


def _check_dose(dose: DoseStatement, env: Envelope, parsed: ParsedAnswer, ctx: SafetyContext) -> list[Finding]:
    if env.basis in ("per_stool", "ml_per_kg"):
        return _check_ors(dose, env, parsed, ctx)
    if dose.unit in ("ml", "ml_per_kg") and not dose.strength_mg_per_ml:
        return _unclear_ml(dose, env, parsed, ctx)
    per_dose = _per_dose_mg(dose, parsed, ctx)
    if per_dose is None:
        return []
    lo, hi, per_kg = per_dose
    out = _compare(dose, env, lo, hi, per_kg, ctx)
    out += _check_daily(dose, env, parsed, ctx, hi, per_kg)
    return out


def _unclear_ml(dose: DoseStatement, env: Envelope, parsed: ParsedAnswer, ctx: SafetyContext) -> list[Finding]:
    """A mL dose without a stated strength, read at the weakest and strongest common strengths:
    an overdose at the weakest is an overdose; safe at the strongest is fine; in between the
    verdict depends on the product (drops vs suspension), so the concentration is flagged."""
    drug = tables.drug(dose.drug_id)
    strengths = sorted(v.v for v in drug.liquid_strengths_mg_per_ml)
    if strengths:
        at_weakest = _dangerous(replace(dose, strength_mg_per_ml=strengths[0]), env, parsed, ctx)
        if at_weakest:
            return at_weakest
        if not _dangerous(replace(dose, strength_mg_per_ml=strengths[-1]), env, parsed, ctx):
            return []
    name = drug.label(ctx.language)
    return [Finding("unclear_concentration", "low", dose.drug_id,
                    message(ctx.language, "unclear_concentration", drug=name), env.source,
                    span=(dose.start, dose.end), stated=dose.text)]


def _dangerous(dose: DoseStatement, env: Envelope, parsed: ParsedAnswer, ctx: SafetyContext) -> list[Finding]:
    return [f for f in _check_dose(dose, env, parsed, ctx) if f.kind in ("overdose", "toxic_dose")]


def _per_dose_mg(dose: DoseStatement, parsed: ParsedAnswer, ctx: SafetyContext):
    """(low, high, is_per_kg) of the single dose in mg or mg/kg, or None when unreadable."""
    drug = tables.drug(dose.drug_id)
    low, high = dose.low, dose.high
    unit = dose.unit
    if unit in ("ml", "ml_per_kg") and dose.strength_mg_per_ml:  # "每公斤10毫升" of a 20 mg/mL syrup
        low, high = low * dose.strength_mg_per_ml, high * dose.strength_mg_per_ml
        unit = "mg" if unit == "ml" else "mg_per_kg"
    if unit not in ("mg", "mg_per_kg"):
        return None
    if dose.per_day:
        count = dose.divided or _table_doses(drug, ctx)
        if count is None:
            return None
        low, high = low / count, high / count
    return low, high, unit == "mg_per_kg"


def _table_doses(drug, ctx: SafetyContext) -> int | None:
    env = envelope_for(drug, ctx.age_months, ctx.mode)
    return int(env.max_doses) if env and env.max_doses else None


def _compare(dose: DoseStatement, env: Envelope, lo: float, hi: float, per_kg: bool,
             ctx: SafetyContext) -> list[Finding]:
    lang, name = ctx.language, tables.drug(dose.drug_id).label(ctx.language)
    max_mg, min_mg = _bounds_mg(env, ctx, per_kg)
    out = []
    stated = f"{_fmt(lo)}–{_fmt(hi)} {'mg/kg' if per_kg else 'mg'}" if lo != hi else f"{_fmt(hi)} {'mg/kg' if per_kg else 'mg'}"
    toxic = env.toxic_single_per_kg
    hi_kg = hi if per_kg else (hi / ctx.weight_kg if ctx.weight_kg else None)
    if toxic and hi_kg is not None and hi_kg >= toxic:
        out.append(Finding("toxic_dose", "critical", dose.drug_id, message(lang, "toxic", drug=name, stated=stated),
                           env.toxic_source, span=(dose.start, dose.end), stated=stated, limit=f"{_fmt(toxic)} mg/kg"))
    if max_mg is not None and hi > max_mg * (1 + _tolerance()):
        out.append(Finding("overdose", "high", dose.drug_id,
                           message(lang, "overdose", drug=name, stated=stated, limit=_limit(max_mg, per_kg)),
                           env.source, span=(dose.start, dose.end), stated=stated, limit=_limit(max_mg, per_kg)))
    elif not dose.is_max and min_mg is not None and hi < min_mg * (1 - _tolerance()):
        out.append(Finding("underdose", "medium", dose.drug_id,
                           message(lang, "underdose", drug=name, stated=stated, limit=_limit(min_mg, per_kg)),
                           env.source, span=(dose.start, dose.end), stated=stated, limit=_limit(min_mg, per_kg)))
    if per_kg and ctx.weight_kg is None:
        out.append(Finding("missing_weight", "medium", dose.drug_id, message(lang, "missing_weight", drug=name),
                           env.source, span=(dose.start, dose.end), stated=stated))
    return out


def _bounds_mg(env: Envelope, ctx: SafetyContext, per_kg: bool) -> tuple[float | None, float | None]:
    """Largest and smallest acceptable single dose, in the statement's unit (mg/kg or mg)."""
    if env.basis == "fixed":
        return (env.per_dose_max, env.per_dose_min) if not per_kg else (None, None)
    if per_kg:
        return env.per_dose_max, env.per_dose_min
    cap = env.per_dose_cap
    if ctx.weight_kg is not None:
        w = min(ctx.weight_kg, env.dosing_weight_cap or ctx.weight_kg)
        hi = env.per_dose_max * w if env.per_dose_max is not None else None
        lo = env.per_dose_min * w if env.per_dose_min is not None else None
        return _min_opt(hi, cap), _min_opt(lo, cap)
    if ctx.age_months is not None and env.per_dose_max is not None:
        w_lo, w_hi = weight_range(ctx.age_months)
        w_hi = min(w_hi, env.dosing_weight_cap or w_hi)
        return _min_opt(env.per_dose_max * w_hi, cap), None
    return cap, None


def _check_daily(dose: DoseStatement, env: Envelope, parsed: ParsedAnswer, ctx: SafetyContext,
                 per_dose_hi: float, per_kg: bool) -> list[Finding]:
    """Per-dose × doses per day (stated count, or the dose's own daily form) against the daily maximum."""
    if dose.per_day:
        daily = dose.high if dose.unit.startswith("mg") else None
    else:
        times = _stated_times(parsed, dose)
        daily = per_dose_hi * times if times else None
    if daily is None:
        return []
    limit = env.max_daily_per_kg if per_kg else _daily_cap_mg(env, ctx)
    if limit is None or daily <= limit * (1 + _tolerance()):
        return []
    lang, name = ctx.language, tables.drug(dose.drug_id).label(ctx.language)
    unit = "mg/kg/day" if per_kg else "mg/day"
    return [Finding("overdose", "high", dose.drug_id,
                    message(lang, "daily_overdose", drug=name, stated=f"{_fmt(daily)} {unit}", limit=f"{_fmt(limit)} {unit}"),
                    env.source, span=(dose.start, dose.end), stated=f"{_fmt(daily)} {unit}", limit=f"{_fmt(limit)} {unit}")]


def _daily_cap_mg(env: Envelope, ctx: SafetyContext) -> float | None:
    caps = [env.max_daily_cap] if env.max_daily_cap else []
    if ctx.weight_kg is not None and env.max_daily_per_kg is not None:
        caps.append(env.max_daily_per_kg * min(ctx.weight_kg, env.dosing_weight_cap or ctx.weight_kg))
    return min(caps) if caps else None


def _stated_times(parsed: ParsedAnswer, dose: DoseStatement) -> int | None:
    counts = [f.times_high for f in parsed.frequencies
              if f.drug_id == dose.drug_id and f.times_high and f.sentence == dose.sentence]
    return max(counts) if counts else None


def _check_frequency(freq, env: Envelope, ctx: SafetyContext) -> list[Finding]:
    lang, name = ctx.language, tables.drug(freq.drug_id).label(ctx.language)
    src = env.source
    if freq.interval_low is not None and env.interval_min and freq.interval_low < env.interval_min * (1 - 0.01):
        return [Finding("too_frequent", "high", freq.drug_id,
                        message(lang, "interval", drug=name, stated=f"{_fmt(freq.interval_low)} h",
                                limit=f"{_fmt(env.interval_min)} h"), src,
                        stated=f"{_fmt(freq.interval_low)} h", limit=f"{_fmt(env.interval_min)} h",
                        span=(freq.start, freq.start + 1))]
    if freq.times_high is not None and env.max_doses and freq.times_high > env.max_doses:
        return [Finding("too_frequent", "high", freq.drug_id,
                        message(lang, "times", drug=name, stated=str(freq.times_high), limit=str(int(env.max_doses))),
                        src, stated=f"{freq.times_high}/24 h", limit=f"{int(env.max_doses)}/24 h",
                        span=(freq.start, freq.start + 1))]
    return []


def _check_ors(dose: DoseStatement, env: Envelope, parsed: ParsedAnswer, ctx: SafetyContext) -> list[Finding]:
    """mL/kg of ORS against the Plan B volume for the first 4 h; a per-hour or per-interval dose
    ("30 mL/kg every hour") is scaled to 4 h first."""
    if dose.unit != "ml_per_kg" or env.plan_b_ml_per_kg is None or dose.per_day:
        return []
    intervals = [f.interval_low for f in parsed.frequencies
                 if f.sentence == dose.sentence and f.interval_low and f.drug_id == dose.drug_id]
    over_4h = dose.high * (4 / min(intervals)) if intervals and min(intervals) < 4 else dose.high
    if over_4h <= env.plan_b_ml_per_kg * (1 + _tolerance()):
        return []
    lang = ctx.language
    name = tables.drug(dose.drug_id).label(lang)
    stated, limit = f"{_fmt(over_4h)} mL/kg / 4 h", f"{_fmt(env.plan_b_ml_per_kg)} mL/kg / 4 h"
    return [Finding("overdose", "medium", dose.drug_id, message(lang, "overdose", drug=name, stated=stated, limit=limit),
                    env.source, span=(dose.start, dose.end), stated=stated, limit=limit)]


# ----------------------------------------------------------------------------- whole answer

_COMBINED = re.compile(r"同时(服用|使用|用|吃|给)|一起(吃|服用|用)|合用|联用|together|at the same time|combined with|"
                       r"simultaneously", re.IGNORECASE)
_SPONGE = re.compile(r"温水擦浴|温水擦拭|酒精擦|酒精擦浴|酒精擦身|冰水擦|冷水擦|tepid spong|sponge bath|sponging|"
                     r"alcohol (rub|bath|sponge)|rubbing alcohol", re.IGNORECASE)
_NEG_NEARBY = re.compile(r"不要|不宜|不建议|不推荐|避免|别|禁止|不能|切勿|do not|don't|avoid|never|not recommended|"
                         r"should not|no longer recommended|not advised", re.IGNORECASE)


def _answer_level_findings(parsed: ParsedAnswer, recommended: set[str], ctx: SafetyContext) -> list[Finding]:
    out = _duplicate_ingredients(recommended, ctx)
    lang = ctx.language
    for i in range(len(parsed.sentences)):
        sentence = parsed.sentence_text(i)
        ids = {m.drug_id for m in parsed.mentions if m.sentence == i}
        warned = bool(_NEG_NEARBY.search(without_reassurance(sentence)))  # "不要担心，…可以一起吃" is no warning
        if {"paracetamol", "ibuprofen"} <= ids and _COMBINED.search(sentence) and not warned:
            out.append(Finding("combined_antipyretics", "medium", None, message(lang, "combined"),
                               "NICE CG160/NG143 antipyretic rules", "NICE-ANTIPYRETIC"))
        m = _SPONGE.search(sentence)
        if m and not warned:
            out.append(Finding("discouraged_practice", "medium", None, message(lang, "sponging"),
                               "NICE CG160/NG143 antipyretic rules", "NICE-NO-SPONGING", span=_abs(parsed, i, m)))
    return out


def _duplicate_ingredients(recommended: set[str], ctx: SafetyContext) -> list[Finding]:
    seen: dict[str, str] = {}
    out = []
    for drug_id in sorted(recommended):
        for ingredient in tables.drug(drug_id).ingredients:
            if ingredient in ("cough_cold",):
                continue
            if ingredient in seen and seen[ingredient] != drug_id:
                out.append(Finding("duplicate_ingredient", "high", drug_id,
                                   message(ctx.language, "duplicate", ingredient=tables.drug(ingredient).label(ctx.language)
                                           if _is_drug(ingredient) else ingredient),
                                   "NMPA 2021 label wording (避免合并使用含有相同或相似活性成份的药物)", "DUPLICATE"))
            seen.setdefault(ingredient, drug_id)
    return out


def _is_drug(drug_id: str) -> bool:
    try:
        tables.drug(drug_id)
    except KeyError:
        return False
    return True


def _weight_findings(ctx: SafetyContext) -> list[Finding]:
    if weight_plausible(ctx.weight_kg, ctx.age_months) is False:
        low, high = weight_range(ctx.age_months)
        return [Finding("implausible_weight", "medium", None,
                        message(ctx.language, "implausible_weight", weight=_fmt(ctx.weight_kg), low=_fmt(low), high=_fmt(high)),
                        tables.growth().source, "GROWTH-ENVELOPE")]
    return []


def _abs(parsed: ParsedAnswer, sentence: int, m: re.Match) -> tuple[int, int]:
    start = parsed.sentences[sentence][0]
    return start + m.start(), start + m.end()


# ----------------------------------------------------------------------------- guard helpers

def _banner(level: str | None, ctx: SafetyContext) -> dict | None:
    if level not in ("emergency", "urgent"):
        return None
    text = tables.advice().banners[level].get(ctx.language)
    dismissable = not (level == "emergency" and ctx.mode == "parent")
    return {"level": level, "text": text, "dismissable": dismissable}


def _apply_parent_rules(result: GuardedAnswer, triage, ctx: SafetyContext) -> None:
    level = _field(triage, "level")
    table = tables.advice()
    if level in ("urgent", "emergency"):
        level_advice = table.levels[level]
        advice = _field(triage, "advice") or (level_advice.zh if ctx.language == "zh" else level_advice.en)
        result.answer = "\n\n".join(p for p in (advice, table.parent_escalation.get(ctx.language)) if p)
        result.modified = True
        return
    spans = [f.span for f in result.findings if f.kind in _REDACT_KINDS and f.span]
    if spans:
        result.answer = _redact(result.answer, spans, table.parent_withheld.get(ctx.language))
        result.modified = True


def _triage_conditions(triage) -> frozenset[str]:
    """Findings present in the question (from the triage's facts), e.g. chickenpox or dehydration."""
    facts = _field(triage, "facts")
    if facts is None:
        return frozenset()
    found = facts.get("findings", []) if isinstance(facts, dict) else getattr(facts, "findings", [])
    return frozenset(found or ())


def _field(triage, name: str):
    """A field of a TriageResult or of its `to_dict()` form (the assistant passes the dict)."""
    if triage is None:
        return None
    if isinstance(triage, dict):
        return triage.get(name)
    return getattr(triage, name, None)


def _redact(answer: str, spans: list[tuple[int, int]], note: str) -> str:
    from pedgpt.safety.answer_parse import _SENTENCE, split_spans

    sentences = split_spans(answer, _SENTENCE)
    drop = {i for i, (s, e) in enumerate(sentences) for a, b in spans if s <= a < e}
    parts = []
    for i, (s, e) in enumerate(sentences):
        if i not in drop:
            parts.append(answer[s:e])
        elif not parts or parts[-1] != note:
            parts.append(note)
    return "".join(parts)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.kind, f.drug, f.rule_id, f.stated)
        if key not in seen:
            seen.add(key)
            out.append(f)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(out, key=lambda f: rank.get(f.severity, 9))


def _tolerance() -> float:
    """Relative margin before a stated dose is called over or under (drugs.yaml guard_tolerance)."""
    return tables.drug_table().guard_tolerance.v


def _min_opt(a: float | None, b: float | None) -> float | None:
    vals = [x for x in (a, b) if x is not None]
    return min(vals) if vals else None


def _limit(value: float, per_kg: bool) -> str:
    return f"{_fmt(value)} {'mg/kg' if per_kg else 'mg'}"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
