"""Weight-based dose calculator: `calculate(drug, weight_kg, age_months, indication=None, mode=...)`.

Resolves Chinese, English and brand names ('美林' → ibuprofen), checks input ranges and the
weight-for-age plausibility, the contraindication table, age and weight floors and, in `parent`
mode, prescription-only drugs; then picks the regimen for the indication and age and returns
per-dose range, minimum interval, maximum doses and daily maximum with caps applied, warnings and
sources. All numbers come from `assets/safety/drugs.yaml`; in parent mode only [V] values are used.

    python -c "from pedgpt.safety import calculate; print(calculate('泰诺林', 12, 24).to_dict())"
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pedgpt.errors import InputError
from pedgpt.language import detect_language
from pedgpt.safety import contra, tables
from pedgpt.safety.extract import finding_statuses
from pedgpt.safety.growth import weight_range
from pedgpt.safety.messages import message
from pedgpt.safety.schema import Drug, Regimen, Value
from pedgpt.safety.textnorm import normalize

MODES = ("clinician", "parent")
MAX_WEIGHT_KG = 150.0
MAX_AGE_MONTHS = 216.0


@dataclass
class DoseAdvice:
    """Result of `calculate`; `to_dict()` is the `pedgpt dose --json` object (DESIGN.md)."""

    drug: str
    drug_name: str
    allowed: bool
    weight_kg: float
    age_months: float
    mode: str
    language: str
    indication: str | None = None
    regimen: str | None = None
    regimen_label: str | None = None
    unit: str = "mg"
    per_dose_mg: dict | None = None
    per_dose_mg_per_kg: dict | None = None
    per_dose_ml: dict | None = None
    volume_ml: dict | None = None
    over_hours: float | None = None
    daily_ml: float | None = None
    interval_hours_min: float | None = None
    max_doses_per_24h: int | None = None
    max_daily_mg: float | None = None
    per_dose_cap_mg: float | None = None
    duration: str | None = None
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None
    blocked_by: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    prescription_only: bool = False

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.unit == "mL":
            data.pop("max_daily_mg")
            data.pop("per_dose_cap_mg")
            data.pop("per_dose_mg_per_kg")
        return data


def calculate(drug: str, weight_kg: float, age_months: float, indication: str | None = None,
              mode: str = "clinician", language: str | None = None,
              conditions: set[str] | frozenset[str] = frozenset()) -> DoseAdvice:
    """Dose advice for one drug; raises `InputError` for bad input (see module docstring)."""
    item = _resolve(drug)
    weight_kg, age_months = check_patient(weight_kg, age_months)
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    lang = language or detect_language(f"{drug} {indication or ''}", default="en")
    key, cond = parse_indication(indication)
    advice = DoseAdvice(drug=item.id, drug_name=item.label(lang), allowed=True, weight_kg=weight_kg,
                        age_months=age_months, mode=mode, language=lang, indication=key,
                        prescription_only=item.prescription_only)
    if _blocked(advice, item, key, cond | set(conditions), lang):
        return advice
    regimen = _pick_regimen(item, key, age_months, weight_kg, advice, lang)
    _fill_numbers(advice, item, regimen, weight_kg, lang)
    _add_warnings(advice, item, age_months, lang)
    return advice


def check_patient(weight_kg: float, age_months: float) -> tuple[float, float]:
    """Validate weight, age and weight-for-age plausibility (one clear `InputError` line)."""
    for name, value in (("weight", weight_kg), ("age", age_months)):
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise InputError(f"{name} must be a number, got {value!r}")
    if not 0 < weight_kg <= MAX_WEIGHT_KG:
        raise InputError(f"weight must be more than 0 and at most {MAX_WEIGHT_KG:g} kg, got {weight_kg:g}")
    if not 0 <= age_months <= MAX_AGE_MONTHS:
        raise InputError(f"age must be between 0 and {MAX_AGE_MONTHS:g} months, got {age_months:g}")
    low, high = weight_range(age_months)
    if not low <= weight_kg <= high:
        raise InputError(f"weight {weight_kg:g} kg is implausible for age {age_months:g} months "
                         f"(expected {low:g}-{high:g} kg); check the weight and its unit")
    return float(weight_kg), float(age_months)


def _resolve(name: str) -> Drug:
    if not name or not str(name).strip():
        raise InputError("name a drug (e.g. paracetamol, 布洛芬, amoxicillin)")
    item = tables.resolve_drug(str(name))
    if item is None:
        close = tables.suggest_drugs(str(name))
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise InputError(f"unknown drug {name!r}{hint}")
    return item


def parse_indication(text: str | None) -> tuple[str | None, set[str]]:
    """(indication key or None, condition finding ids present in the text)."""
    if not text or not text.strip():
        return None, set()
    norm = normalize(text).strip().lower()
    names = [(n.lower(), key) for key, ns in tables.drug_table().indications.items() for n in ns]
    key = next((k for n, k in names if n == norm), None)
    if key is None:
        for n, k in sorted(names, key=lambda x: -len(x[0])):
            if (len(n) >= 4 or not n.isascii()) and n in norm:
                key = k
                break
    cond = {f for f, st in finding_statuses(norm).items() if st == "present"}
    return key or norm, cond


def _blocked(advice: DoseAdvice, item: Drug, key: str | None, cond: set[str], lang: str) -> bool:
    reasons: list[tuple[str, str, str]] = []
    for block in item.indication_blocks:
        if key in block.indications:
            reasons.append((block.id, block.rule.get(lang), block.source))
    rules = contra.applicable(item, advice.age_months, advice.weight_kg, cond | ({key} if key else set()))
    reasons += [(r.id, r.rule.get(lang), r.source) for r in contra.forbidding(rules)]
    advice.warnings += [r.rule.get(lang) for r in contra.cautions(rules)]
    advice.sources += [r.source for r in contra.cautions(rules)]
    for floor in item.floors:
        if _below_floor(floor, advice.age_months, advice.weight_kg):
            reasons.append((floor.id, floor.rule.get(lang), floor.source))
    if advice.mode == "parent" and item.prescription_only:
        reasons.append(("PRESCRIPTION-ONLY", _rx_only_text(lang), "互联网诊疗监管细则(试行), NHC and NATCM, 2022"))
    if not reasons and not item.dosable:
        reasons.append(("NO-DOSE-TABLE", _no_table_text(item, lang), "PedGPT drug table"))
    if not reasons:
        return False
    _block(advice, reasons)
    return True


def _block(advice: DoseAdvice, reasons: list[tuple[str, str, str]]) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for rid, text, source in reasons:
        seen.setdefault(rid, (text, source))
    advice.allowed = False
    advice.blocked_by = list(seen)
    advice.reason = " ".join(text for text, _ in seen.values())
    advice.sources = _unique(advice.sources + [source for _, source in seen.values()])


def _below_floor(floor, age: float, weight: float) -> bool:
    return ((floor.age_months_below is not None and age < floor.age_months_below)
            or (floor.weight_kg_below is not None and weight < floor.weight_kg_below))


def _rx_only_text(lang: str) -> str:
    return message(lang, "rx_only")


def _no_table_text(item: Drug, lang: str) -> str:
    return message(lang, "no_table", drug=item.label(lang))


def _pick_regimen(item: Drug, key: str | None, age: float, weight: float, advice: DoseAdvice, lang: str) -> Regimen:
    def fits(r: Regimen) -> bool:
        return r.age_months.contains(age) and r.weight_kg.contains(weight)

    wanted = key or "default"
    known_here = any(wanted in r.indications for r in item.regimens)
    chosen = next((r for r in item.regimens if wanted in r.indications and fits(r)), None)
    if chosen is None:
        chosen = next((r for r in item.regimens if "default" in r.indications and fits(r)), None)
        if chosen is not None and known_here and wanted != "default":
            advice.warnings.append(message(lang, "no_regimen", indication=key))
    if chosen is None:
        chosen = next(r for r in item.regimens if "default" in r.indications)
    return chosen


def pick(values: list[Value], mode: str) -> Value | None:
    """Clinician: the first value; parent: the first [V] value (None if only [R] values exist)."""
    if not values:
        return None
    if mode == "parent":
        return next((v for v in values if v.tag == "V"), None)
    return values[0]


def _fill_numbers(advice: DoseAdvice, item: Drug, regimen: Regimen, weight: float, lang: str) -> None:
    advice.regimen, advice.regimen_label = regimen.id, regimen.label.get(lang)
    advice.duration = regimen.duration.get(lang) if regimen.duration else None
    picked = {name: _pick_tracked(advice, name, getattr(regimen, name))
              for name in ("per_dose_min", "per_dose_max", "per_dose_cap", "interval_hours_min",
                           "max_doses_per_24h", "max_daily_per_kg", "max_daily_cap", "daily_volume", "over_hours")}
    if picked["per_dose_min"] is None and picked["per_dose_max"] is not None:
        picked["per_dose_min"] = picked["per_dose_max"]
    cap_w = pick(item.dosing_weight_cap, advice.mode)
    dosing_weight = min(weight, cap_w.v) if cap_w else weight
    if cap_w and weight > cap_w.v:
        advice.sources.append(cap_w.source)
    advice.interval_hours_min = _v(picked["interval_hours_min"])
    doses = _v(picked["max_doses_per_24h"])
    advice.max_doses_per_24h = int(doses) if doses is not None else None
    if regimen.basis in ("per_stool", "ml_per_kg"):
        _fill_ors(advice, regimen, picked, weight)
    else:
        _fill_mg(advice, regimen, picked, dosing_weight)
    advice.sources = _unique(advice.sources)


def _pick_tracked(advice: DoseAdvice, name: str, values: list[Value]) -> Value | None:
    value = pick(values, advice.mode)
    if values and value is None:
        advice.withheld.append(name)
    if value is not None:
        advice.tags[name] = value.tag
        advice.sources.append(value.source)
    return value


def _fill_mg(advice: DoseAdvice, regimen: Regimen, p: dict, dosing_weight: float) -> None:
    per_kg = regimen.basis == "per_kg"
    factor = dosing_weight if per_kg else 1.0
    lo, hi = _v(p["per_dose_min"]), _v(p["per_dose_max"])
    cap = _v(p["per_dose_cap"])
    if lo is not None and hi is not None:
        dose_lo, dose_hi = lo * factor, hi * factor
        if cap is not None:
            dose_lo, dose_hi = min(dose_lo, cap), min(dose_hi, cap)
        advice.per_dose_mg = _range(dose_lo, dose_hi)
        if per_kg:
            advice.per_dose_mg_per_kg = {"min": lo, "max": hi}
    advice.per_dose_cap_mg = cap
    daily_kg, daily_cap = _v(p["max_daily_per_kg"]), _v(p["max_daily_cap"])
    daily = [x for x in ((daily_kg * factor) if daily_kg is not None else None, daily_cap) if x is not None]
    advice.max_daily_mg = _floor(min(daily)) if daily else None


def _fill_ors(advice: DoseAdvice, regimen: Regimen, p: dict, weight: float) -> None:
    advice.unit = "mL"
    lo, hi = _v(p["per_dose_min"]), _v(p["per_dose_max"])
    if regimen.basis == "per_stool":
        advice.per_dose_ml = _range(lo, hi) if lo is not None else None
        advice.daily_ml = _v(p["daily_volume"])
        if lo is None:
            advice.warnings.append(message(advice.language, "ad_lib"))
    else:
        advice.volume_ml = _range(lo * weight, hi * weight) if lo is not None else None
        advice.over_hours = _v(p["over_hours"])


def _add_warnings(advice: DoseAdvice, item: Drug, age: float, lang: str) -> None:
    for w in item.warnings:
        if advice.mode == "parent" and w.tag == "R":
            continue
        if w.age_months_below is not None and age >= w.age_months_below:
            continue
        advice.warnings.append(w.text.get(lang))
        advice.sources.append(w.source)
    if item.prescription_only:
        advice.warnings.insert(0, message(lang, "rx_only_short"))
    advice.sources = _unique(advice.sources)


def _v(value: Value | None) -> float | None:
    return value.v if value is not None else None


def _range(lo: float, hi: float) -> dict:
    """Rounded to 0.1 inside the exact range: min rounded up, max rounded down."""
    low, high = _ceil(lo), _floor(hi)
    return {"min": min(low, high), "max": high}


def _floor(x: float) -> float:
    return math.floor(x * 10 + 1e-9) / 10


def _ceil(x: float) -> float:
    return math.ceil(x * 10 - 1e-9) / 10


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
