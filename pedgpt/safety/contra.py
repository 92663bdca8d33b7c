"""Which contraindication rules (assets/safety/contraindications.yaml) apply to a drug and patient.

    hits = applicable(tables.resolve_drug("阿司匹林"), age_months=12, weight_kg=10, conditions=set())
    [h.id for h in hits if h.action == "forbid"]   # ['CI-1']
"""

from __future__ import annotations

from pedgpt.safety import tables
from pedgpt.safety.schema import Contraindication, Drug

#: A rule whose age bound is at least this many months is taken to apply to a child of unknown
#: age in the answer guard: PedGPT's patients are children, and under-12 bounds (codeine,
#: aspirin < 16) cover most of them. Age-neutral logic, not a clinical threshold.
UNKNOWN_AGE_APPLIES_FROM = 144


def targets(rule: Contraindication, drug: Drug) -> bool:
    """The rule names this drug, one of its ingredients or one of its classes."""
    if drug.id in rule.drugs or set(drug.ingredients) & set(rule.drugs):
        return True
    return bool(set(drug.classes) & set(rule.classes))


def applicable(drug: Drug, age_months: float | None, weight_kg: float | None, conditions: set[str],
               assume_child: bool = False) -> list[Contraindication]:
    """Rules that apply; with `assume_child`, an unknown age satisfies bounds >= 144 months."""
    out = []
    for rule in tables.contraindications():
        if targets(rule, drug) and _patient_matches(rule, age_months, weight_kg, conditions, assume_child):
            out.append(rule)
    return out


def _patient_matches(rule: Contraindication, age: float | None, weight: float | None, conditions: set[str],
                     assume_child: bool) -> bool:
    if rule.age_months_below is not None:
        if age is None:
            if not (assume_child and rule.age_months_below >= UNKNOWN_AGE_APPLIES_FROM and rule.age_months_min is None):
                return False
        elif age >= rule.age_months_below:
            return False
    if rule.age_months_min is not None and (age is None or age < rule.age_months_min):
        return False
    if rule.weight_kg_below is not None and (weight is None or weight >= rule.weight_kg_below):
        return False
    if rule.conditions_any and not set(rule.conditions_any) & conditions:
        return False
    return True


def forbidding(rules: list[Contraindication]) -> list[Contraindication]:
    return [r for r in rules if r.action == "forbid"]


def cautions(rules: list[Contraindication]) -> list[Contraindication]:
    return [r for r in rules if r.action == "caution"]
