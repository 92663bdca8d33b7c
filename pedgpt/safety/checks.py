"""The acceptable-dose envelope of a drug for the answer guard.

When the indication of an answer is unknown, the guard accepts anything inside the union of the
drug's regimens that fit the age and of every cited value (lowest minimum, highest maximum,
shortest interval, most doses), so that an answer that follows any listed source is not flagged
in clinician mode. Parent mode uses [V] values only.
"""

from __future__ import annotations

from dataclasses import dataclass

from pedgpt.safety.dose import pick
from pedgpt.safety.schema import Drug, Regimen, Value


@dataclass(frozen=True)
class Envelope:
    basis: str
    per_dose_min: float | None
    """mg/kg for per-kg regimens, mg for fixed ones."""
    per_dose_max: float | None
    per_dose_cap: float | None
    max_daily_per_kg: float | None
    max_daily_cap: float | None
    interval_min: float | None
    max_doses: float | None
    dosing_weight_cap: float | None
    toxic_single_per_kg: float | None
    toxic_source: str
    plan_b_ml_per_kg: float | None
    source: str


def envelope_for(drug: Drug, age_months: float | None, mode: str) -> Envelope | None:
    """The envelope over the regimens that fit the age (all regimens when the age is unknown)."""
    regimens = [r for r in drug.regimens if age_months is None or r.age_months.contains(age_months)]
    if not regimens:
        regimens = list(drug.regimens)
    if not regimens:
        return None

    def values(name: str) -> list[float]:
        return [v.v for r in regimens for v in _allowed(getattr(r, name), mode)]

    sources = [v.source for r in regimens for name in ("per_dose_max", "max_daily_per_kg", "interval_hours_min")
               if (v := pick(getattr(r, name), mode)) is not None]
    mg_regimens = [r for r in regimens if r.basis in ("per_kg", "fixed")]
    tox = pick(drug.toxicity.single_dose_per_kg, mode) if drug.toxicity else None
    cap = pick(drug.dosing_weight_cap, mode)
    return Envelope(
        basis=_basis(regimens, mg_regimens),
        per_dose_min=_lowest([v for r in mg_regimens if (v := _value(r, "per_dose_min", mode)) is not None]),
        per_dose_max=_highest([v for r in mg_regimens if (v := _value(r, "per_dose_max", mode)) is not None]),
        per_dose_cap=_highest(values("per_dose_cap")),
        max_daily_per_kg=_highest(values("max_daily_per_kg")),
        max_daily_cap=_highest(values("max_daily_cap")),
        interval_min=_lowest(values("interval_hours_min")),
        max_doses=_highest(values("max_doses_per_24h")),
        dosing_weight_cap=cap.v if cap else None,
        toxic_single_per_kg=tox.v if tox else None,
        toxic_source=tox.source if tox else "",
        plan_b_ml_per_kg=_highest([v for r in regimens if r.basis == "ml_per_kg"
                                   and (v := _value(r, "per_dose_max", mode)) is not None]),
        source="; ".join(dict.fromkeys(sources)) or "PedGPT drug table",
    )


def _allowed(values: list[Value], mode: str) -> list[Value]:
    return [v for v in values if mode != "parent" or v.tag == "V"]


def _value(regimen: Regimen, name: str, mode: str) -> float | None:
    value = pick(getattr(regimen, name), mode)
    if value is None and name == "per_dose_min":
        value = pick(regimen.per_dose_max, mode)
    return value.v if value is not None else None


def _basis(regimens: list[Regimen], mg_regimens: list[Regimen]) -> str:
    if mg_regimens:
        return mg_regimens[0].basis
    return "ml_per_kg" if any(r.basis == "ml_per_kg" for r in regimens) else "per_stool"


def _lowest(values: list[float]) -> float | None:
    return min(values) if values else None


def _highest(values: list[float]) -> float | None:
    return max(values) if values else None
