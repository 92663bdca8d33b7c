"""Weight-for-age plausibility envelope (assets/safety/growth.yaml), interpolated by age."""

from __future__ import annotations

from pedgpt.safety import tables


def weight_range(age_months: float) -> tuple[float, float]:
    """(lowest, highest) plausible weight in kg at this age; clamps beyond the table's ends."""
    rows = tables.growth().rows
    if age_months <= rows[0].age_months:
        return rows[0].min_kg, rows[0].max_kg
    for lo, hi in zip(rows, rows[1:]):
        if age_months <= hi.age_months:
            share = (age_months - lo.age_months) / (hi.age_months - lo.age_months)
            return (round(lo.min_kg + share * (hi.min_kg - lo.min_kg), 2),
                    round(lo.max_kg + share * (hi.max_kg - lo.max_kg), 2))
    return rows[-1].min_kg, rows[-1].max_kg
