"""TreRecom dose questions answered from the safety layer's dose calculator
(`pedgpt.safety.calculate`, clinician mode): the reference dose with interval and daily limits
when allowed, a refusal with the calculator's reason when not (age or weight floors,
contraindications). Ages and weights come from `assets/data/red_flags.yaml` (`dose_cases`).

Weaker DFPO answers: the dose of the heaviest case given to this child ("wrong dose for the
age"), a drug the contraindication table forbids at this age ("wrong drug"), the bare numbers
without checks and sources, and "yes, give it" where the calculator refuses.
"""

from __future__ import annotations

from typing import Any

from train.data.config import DataBuildConfig
from train.data.phrasing import Phraser, language_of
from train.data.records import Example
from train.data.safety import SafetyTables, _as_dict, red_flags
from train.data.text import join_items, numbered, rng_for

DOSE_QUESTIONS_PER_DRUG = 12


def dose_treat_examples(tables: SafetyTables, config: DataBuildConfig) -> list[Example]:
    """TreRecom dose questions for training (task "treat")."""
    phraser = Phraser(rng_for(config.seed, "train", "dose"), config.en_share, config.clinician_share)
    return dose_examples(tables, phraser, per_drug=DOSE_QUESTIONS_PER_DRUG)


def dose_examples(tables: SafetyTables, phraser: Phraser, per_drug: int) -> list[Example]:
    """TreRecom dose questions answered from the dose calculator."""
    out = []
    cases = red_flags()["dose_cases"]
    for drug in tables.dose_drugs:
        for _ in range(per_drug):
            case = phraser.rng.choice(cases)
            indication = phraser.rng.choice(drug["indications"])
            style = phraser.style()
            language = language_of(style)
            result = _calculate(drug["id"], case, indication["id"], language)
            if result is None:
                continue
            # "Wrong dose for the age": the heaviest case's dose, given to this child.
            older = max(cases, key=lambda c: c["weight_kg"])
            heavier = _calculate(drug["id"], older, indication["id"], language) if older is not case else None
            example = _dose_example(phraser, style, drug, indication, case, result, heavier or {})
            other = _forbidden_drug(tables, case, drug, phraser)
            if other:
                example.rejections.append(("wrong_drug", phraser.text(
                    "unsafe", "other_drug", language, drug=drug[language], other=other[language])))
            out.append(example)
    return out


def _forbidden_drug(tables: SafetyTables, case: dict, drug: dict, phraser: Phraser) -> dict | None:
    """A drug the safety table forbids at this child's age (for a "wrong drug" answer)."""
    names = {drug["zh"], drug["en"]}
    rules = [r for r in tables.contraindications
             if r.forbids_at(case["age_months"]) and r.drug["zh"] not in names]
    return phraser.rng.choice(rules).drug if rules else None


def _calculate(drug_id: str, case: dict, indication: str, language: str) -> dict | None:
    """The dose calculator's answer (clinician mode: full numbers, as the SFT answers explain
    them), or None when it rejects the question itself."""
    from pedgpt.errors import PedGPTError
    from pedgpt.safety import calculate

    try:
        return _as_dict(calculate(drug_id, case["weight_kg"], case["age_months"], indication,
                                  mode="clinician", language=language))
    except PedGPTError:
        return None


def _dose_example(phraser: Phraser, style: str, drug: dict, indication: dict, case: dict,
                  result: dict, heavier: dict) -> Example:
    language = language_of(style)
    name = drug[language]
    question = phraser.question("treat", "dose", style, age=case[language], weight=_num(case["weight_kg"]),
                                indication=indication[language], drug=name)
    body = dose_body(phraser, language, name, case["weight_kg"], result)
    sources = join_items(result.get("sources", [])[:3], language) or "PedGPT dose table"
    advice = [phraser.text("dose", "check", language)] if result.get("allowed") else []
    advice.append(phraser.text("dose", "source", language, sources=sources))
    advice.append(phraser.text("treat", "no_prescription", language))
    answer = "\n\n".join([phraser.opening(style), body, *advice, phraser.closing(style)])
    rejections = [("no_safety", body), ("terse", body.split("\n")[0])]
    wrong = _dose_text(heavier, language)
    if wrong and wrong != _dose_text(result, language):
        rejections.append(("wrong_dose", phraser.text("unsafe", "dose_wrong", language, drug=name, dose=wrong)))
    if not result.get("allowed"):
        rejections.append(("unsafe_compliance", phraser.text("unsafe", "allow_drug", language, drug=name)))
    return Example(
        task="treat", source=f"safety:dose:{drug['id']}",
        messages=[{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
        language=language, style=style, subject=drug["id"], rejections=rejections,
        meta={"rule": f"dose:{drug['id']}", "allowed": bool(result.get("allowed"))},
    )


def dose_body(phraser: Phraser, language: str, name: str, weight: float, result: dict) -> str:
    """The calculator's answer in words: dose range, interval, daily limits, warnings."""
    if not result.get("allowed"):
        return phraser.text("dose", "refused", language, drug=name, reason=result.get("reason") or "")
    amount = result.get("per_dose_ml") or result.get("volume_ml")
    key = "allowed_ml" if amount else "allowed"
    amount = amount or result.get("per_dose_mg") or {}
    lines = [phraser.text("dose", key, language, drug=name, weight=_num(weight),
                          low=_num(amount.get("min")), high=_num(amount.get("max")))]
    limits = []
    if result.get("interval_hours_min"):
        limits.append(phraser.text("dose", "interval", language, hours=_num(result["interval_hours_min"])))
    if result.get("max_doses_per_24h"):
        limits.append(phraser.text("dose", "max_doses", language, count=_num(result["max_doses_per_24h"])))
    if result.get("max_daily_mg"):
        limits.append(phraser.text("dose", "max_daily", language, mg=_num(result["max_daily_mg"])))
    if limits:
        joined = ("; ".join(limits) + ".") if language == "en" else ("；".join(limits) + "。")
        lines.append(joined[:1].upper() + joined[1:])
    warnings = [w if isinstance(w, str) else _as_dict(w).get("text", "") for w in result.get("warnings", [])]
    warnings = [w for w in warnings if w][:3]
    if warnings:
        lines.append(numbered(warnings))
    return "\n".join(lines)


def _dose_text(result: dict, language: str) -> str:
    if not result.get("allowed"):
        return ""
    amount = result.get("per_dose_ml") or result.get("volume_ml")
    unit = "mL" if amount else "mg"
    amount = amount or result.get("per_dose_mg") or {}
    return f"{_num(amount.get('max'))} {unit}" if amount.get("max") else ""


def _num(value: Any) -> str:
    """12.0 → "12", 12.5 → "12.5" (no float noise)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)
