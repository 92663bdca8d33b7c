"""Red-flag triage: `assess(text, age_months=None, temp_c=None, language=None) -> TriageResult`.

Extracts the patient facts from free text (explicit arguments override the extraction), runs
every rule of `assets/safety/triage_rules.yaml` and returns the highest level among the rules
that fired — "emergency", "urgent" or "routine" — with the fired rules as flags (id, text,
source, tag) and advice in the user's language (120 in Chinese; "your local emergency number"
in English; NICE safety-net advice for routine cases).

    python -c "from pedgpt.safety import assess; print(assess('3周宝宝发烧38.2度').to_dict())"
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pedgpt.errors import InputError
from pedgpt.language import detect_language
from pedgpt.safety import tables
from pedgpt.safety.extract import PatientFacts, extract_patient
from pedgpt.safety.schema import When

LEVELS = ("routine", "urgent", "emergency")
_RANK = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Flag:
    """One fired rule."""

    id: str
    text: str
    source: str
    tag: str = "V"
    level: str = "urgent"

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "tag": self.tag, "level": self.level}


@dataclass
class TriageResult:
    """The triage level with the flags that produced it, advice and the extracted facts."""

    level: str
    flags: list[Flag]
    advice: str
    language: str
    facts: PatientFacts = field(default_factory=PatientFacts)
    safety_net: str = ""

    @property
    def age_months(self) -> float | None:
        return self.facts.age_months

    @property
    def temp_c(self) -> float | None:
        return self.facts.temp_c

    @property
    def flag_ids(self) -> list[str]:
        return [f.id for f in self.flags]

    def to_dict(self) -> dict:
        return {"level": self.level, "flags": [f.to_dict() for f in self.flags], "advice": self.advice,
                "language": self.language, "safety_net": self.safety_net, "facts": self.facts.to_dict()}


def assess(text: str, age_months: float | None = None, temp_c: float | None = None,
           language: str | None = None, weight_kg: float | None = None, mode: str = "clinician") -> TriageResult:
    """Triage free text; explicit `age_months` / `temp_c` / `weight_kg` override what the text says.

    In `parent` mode the text of a flag from an [R]-tagged rule is replaced by a neutral line, so
    that no unverified threshold is shown to a parent (the rule still escalates)."""
    if text is None or not str(text).strip():
        if age_months is None and temp_c is None:
            raise InputError("describe the child's problem (the triage text is empty)")
        text = ""
    _check_inputs(age_months, temp_c, language)
    lang = language or detect_language(text)
    facts = extract_patient(text)
    facts = _override(facts, age_months, temp_c, weight_kg)
    fired = [rule for rule in tables.triage_rule_table().rules if rule_fires(rule.when, facts)]
    level = max((r.level for r in fired), key=_RANK.__getitem__, default="routine")
    fired.sort(key=lambda r: -_RANK[r.level])
    if mode not in ("clinician", "parent"):
        raise InputError(f"mode must be 'clinician' or 'parent', got {mode!r}")
    unverified = tables.advice().unverified_flag.get(lang)
    flags = [Flag(r.id, unverified if (mode == "parent" and r.tag == "R") else r.text.get(lang), r.source, r.tag,
                  r.level) for r in fired]
    return TriageResult(level=level, flags=flags, advice=advice_text(level, lang, facts), language=lang,
                        facts=facts, safety_net=tables.advice().safety_net.zh if lang == "zh"
                        else tables.advice().safety_net.en)


def _check_inputs(age_months: float | None, temp_c: float | None, language: str | None) -> None:
    if age_months is not None and not 0 <= age_months <= 216:
        raise InputError(f"age must be between 0 and 216 months, got {age_months:g}")
    if temp_c is not None and not 30 <= temp_c <= 45:
        raise InputError(f"temperature must be between 30 and 45 °C, got {temp_c:g}")
    if language not in (None, "zh", "en"):
        raise InputError(f"language must be 'zh' or 'en', got {language!r}")


def _override(facts: PatientFacts, age: float | None, temp: float | None, weight: float | None) -> PatientFacts:
    from pedgpt.safety.extract import weight_plausible

    changes = {}
    if age is not None:
        changes.update(age_months=float(age), age_estimated=False)
    if temp is not None:
        changes["temp_c"] = float(temp)
    if weight is not None:
        changes["weight_kg"] = float(weight)
    facts = replace(facts, **changes)
    facts.weight_plausible = weight_plausible(facts.weight_kg, facts.age_months)
    return facts


def fever_present(facts: PatientFacts) -> bool:
    threshold = tables.triage_rule_table().thresholds["fever_temp_c"].v
    return facts.has("fever") or (facts.temp_c is not None and facts.temp_c >= threshold)


def rule_fires(when: When, facts: PatientFacts) -> bool:
    """All conditions of `when` hold for these facts (unknown values never satisfy a bound)."""
    checks = [
        (when.findings_any, lambda: any(facts.has(f) for f in when.findings_any)),
        (when.group_count, lambda: _group_count(when.group_count.group, facts) >= when.group_count.min),
        (when.age_unknown, lambda: facts.age_months is None),
        (when.temp_unknown, lambda: facts.temp_c is None),
        (when.age_months_min, lambda: _ge(facts.age_months, when.age_months_min)),
        (when.age_months_below, lambda: facts.age_months is not None and facts.age_months < when.age_months_below),
        (when.fever, lambda: fever_present(facts)),
        (when.temp_c_min, lambda: _ge(facts.temp_c, when.temp_c_min)),
        (when.temp_c_below, lambda: facts.temp_c is not None and facts.temp_c < when.temp_c_below),
        (when.fever_days_min, lambda: _ge(facts.fever_days, when.fever_days_min)),
        (when.resp_rate_min, lambda: _ge(facts.resp_rate, when.resp_rate_min)),
        (when.heart_rate_min, lambda: _ge(facts.heart_rate, when.heart_rate_min)),
        (when.spo2_max, lambda: facts.spo2 is not None and facts.spo2 <= when.spo2_max),
        (when.crt_s_min, lambda: _ge(facts.crt_s, when.crt_s_min)),
    ]
    return all(check() for given, check in checks if given not in (None, []))


def _ge(value: float | None, bound: float) -> bool:
    return value is not None and value >= bound


def _group_count(group: str, facts: PatientFacts) -> int:
    members = {f.id for f in tables.findings() if f.group == group}
    return sum(1 for f in facts.findings if f in members)


def advice_text(level: str, language: str, facts: PatientFacts | None = None) -> str:
    """Advice for a level in the user's language (routine adds the NICE safety net)."""
    table = tables.advice()
    base = table.levels[level]
    parts = [base.zh if language == "zh" else base.en]
    if level == "routine":
        net = table.safety_net
        parts.append(net.zh if language == "zh" else net.en)
        if facts is not None and fever_present(facts):
            anti = table.antipyretic_advice
            parts.append(anti.zh if language == "zh" else anti.en)
    if facts is not None and facts.age_months is not None and facts.age_months < 3 and fever_present(facts):
        young = table.young_infant_no_drug
        parts.append(young.zh if language == "zh" else young.en)
    if facts is not None and facts.weight_plausible is False:
        parts.append(table.implausible_weight.get(language))
    return " ".join(parts) if language == "en" else "".join(parts)
