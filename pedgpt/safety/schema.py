"""Schemas of the clinical tables under `assets/safety/` (validated with pydantic at load time).

A malformed table raises `TableError` (a `PedGPTError`) naming the file and the field, when
`pedgpt.safety` first loads it — at start-up, never silently at answer time. Run
`python -m pedgpt.safety.tables` to check every table.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pedgpt.errors import PedGPTError

Tag = Literal["V", "R"]
Level = Literal["emergency", "urgent", "routine"]


class TableError(PedGPTError):
    """A shipped rule, dose or contraindication table is malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


class Value(_Strict):
    """One sourced number: `v` with its tag ([V] verified, [R] unverified) and source."""

    v: float = Field(ge=0)
    tag: Tag
    source: str = Field(min_length=3)


class AgeBand(_Strict):
    """Age range in months: `min` inclusive, `max` exclusive; either may be open."""

    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, gt=0)

    def contains(self, age_months: float) -> bool:
        return (self.min is None or age_months >= self.min) and (self.max is None or age_months < self.max)


class WeightBand(_Strict):
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, gt=0)

    def contains(self, weight_kg: float) -> bool:
        return (self.min is None or weight_kg >= self.min) and (self.max is None or weight_kg < self.max)


class Names(_Strict):
    zh: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)
    brands: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.zh, *self.en, *self.brands]


class Floor(_Strict):
    """An age or weight below which the drug is not given without a doctor (allowed: false)."""

    id: str
    age_months_below: float | None = None
    weight_kg_below: float | None = None
    rule: Bilingual
    source: str
    tag: Tag

    @model_validator(mode="after")
    def _one_bound(self) -> "Floor":
        if self.age_months_below is None and self.weight_kg_below is None:
            raise ValueError(f"floor {self.id} needs age_months_below or weight_kg_below")
        return self


class Regimen(_Strict):
    """One dosing regimen; per-kg values in mg/kg (mL/kg for ORS), caps absolute (mg or mL)."""

    id: str
    indications: list[str] = Field(min_length=1)
    label: Bilingual
    age_months: AgeBand = AgeBand()
    weight_kg: WeightBand = WeightBand()
    basis: Literal["per_kg", "fixed", "ml_per_kg", "per_stool"]
    per_dose_min: list[Value] = Field(default_factory=list)
    per_dose_max: list[Value] = Field(default_factory=list)
    per_dose_cap: list[Value] = Field(default_factory=list)
    interval_hours_min: list[Value] = Field(default_factory=list)
    max_doses_per_24h: list[Value] = Field(default_factory=list)
    max_daily_per_kg: list[Value] = Field(default_factory=list)
    max_daily_cap: list[Value] = Field(default_factory=list)
    daily_volume: list[Value] = Field(default_factory=list)
    over_hours: list[Value] = Field(default_factory=list)
    duration: Bilingual | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Regimen":
        lo = [v.v for v in self.per_dose_min]
        hi = [v.v for v in self.per_dose_max]
        if lo and hi and min(lo) > max(hi):
            raise ValueError(f"regimen {self.id}: per_dose_min exceeds per_dose_max")
        if bool(self.per_dose_min) != bool(self.per_dose_max):
            raise ValueError(f"regimen {self.id}: give both per_dose_min and per_dose_max or neither")
        return self


class Warning_(_Strict):
    text: Bilingual
    source: str
    tag: Tag
    age_months_below: float | None = None


class IndicationBlock(_Strict):
    """An indication for which the drug must not be advised at home (e.g. ORS in shock)."""

    id: str
    indications: list[str] = Field(min_length=1)
    rule: Bilingual
    source: str
    tag: Tag


class Toxicity(_Strict):
    single_dose_per_kg: list[Value] = Field(default_factory=list)
    daily_per_kg: list[Value] = Field(default_factory=list)


class Drug(_Strict):
    """A substance or product: names, classes, ingredients, floors and regimens."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    names: Names
    classes: list[str] = Field(default_factory=list)
    ingredients: list[str] = Field(default_factory=list)
    prescription_only: bool = False
    floors: list[Floor] = Field(default_factory=list)
    regimens: list[Regimen] = Field(default_factory=list)
    dosing_weight_cap: list[Value] = Field(default_factory=list)
    toxicity: Toxicity | None = None
    liquid_strengths_mg_per_ml: list[Value] = Field(default_factory=list)
    """Common oral-liquid strengths: a mL dose that overdoses even at the weakest is an overdose."""
    warnings: list[Warning_] = Field(default_factory=list)
    indication_blocks: list[IndicationBlock] = Field(default_factory=list)

    @property
    def dosable(self) -> bool:
        return bool(self.regimens)

    def label(self, language: str) -> str:
        return self.names.zh[0] if language == "zh" else self.names.en[0]


class DrugTable(_Strict):
    version: int
    sources: dict[str, str] = Field(default_factory=dict)
    guard_tolerance: Value
    indications: dict[str, list[str]] = Field(min_length=1)
    drugs: list[Drug] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "DrugTable":
        _require_unique([d.id for d in self.drugs], "drug id")
        _require_unique([r.id for d in self.drugs for r in d.regimens], "regimen id")
        used = {i for d in self.drugs for r in d.regimens for i in r.indications}
        used |= {i for d in self.drugs for b in d.indication_blocks for i in b.indications}
        unknown = used - set(self.indications)
        if unknown:
            raise ValueError(f"regimens use indications missing from `indications`: {sorted(unknown)}")
        for d in self.drugs:
            if d.regimens and not any("default" in r.indications for r in d.regimens):
                raise ValueError(f"drug {d.id} has regimens but none for the `default` indication")
        return self


class Contraindication(_Strict):
    """A hard block (`forbid`) or a `caution` for a drug or class, by age, weight or condition."""

    id: str
    drugs: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)
    age_months_below: float | None = None
    age_months_min: float | None = None
    weight_kg_below: float | None = None
    conditions_any: list[str] = Field(default_factory=list)
    action: Literal["forbid", "caution"]
    rule: Bilingual
    source: str
    tag: Tag

    @model_validator(mode="after")
    def _targets(self) -> "Contraindication":
        if not self.drugs and not self.classes:
            raise ValueError(f"contraindication {self.id} names no drugs and no classes")
        return self


class ContraindicationTable(_Strict):
    version: int
    contraindications: list[Contraindication] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "ContraindicationTable":
        _require_unique([c.id for c in self.contraindications], "contraindication id")
        return self


class FindingDef(_Strict):
    """A clinical finding and the regular expressions that find it in zh / en text."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Bilingual
    zh: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)
    group: str | None = None

    @field_validator("zh", "en")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns


class FindingTable(_Strict):
    version: int
    findings: list[FindingDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "FindingTable":
        _require_unique([f.id for f in self.findings], "finding id")
        return self


class GroupCount(_Strict):
    group: str
    min: int = Field(ge=1)


class When(_Strict):
    """Conditions of a triage rule; all given ones must hold (see triage_rules.yaml)."""

    findings_any: list[str] = Field(default_factory=list)
    group_count: GroupCount | None = None
    age_months_min: float | None = None
    age_months_below: float | None = None
    age_unknown: bool | None = None
    temp_unknown: bool | None = None
    fever: bool | None = None
    temp_c_min: float | None = None
    temp_c_below: float | None = None
    fever_days_min: float | None = None
    resp_rate_min: float | None = None
    heart_rate_min: float | None = None
    spo2_max: float | None = None
    crt_s_min: float | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "When":
        if not any(v not in (None, []) for v in self.__dict__.values()):
            raise ValueError("a rule's `when` needs at least one condition")
        return self


class TriageRule(_Strict):
    id: str
    level: Literal["emergency", "urgent"]
    when: When
    text: Bilingual
    source: str
    tag: Tag


class TriageRuleTable(_Strict):
    version: int
    sources: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, Value]
    rules: list[TriageRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "TriageRuleTable":
        _require_unique([r.id for r in self.rules], "rule id")
        if "fever_temp_c" not in self.thresholds:
            raise ValueError("thresholds.fever_temp_c is required")
        return self


class Sourced(_Strict):
    zh: str
    en: str
    source: str
    tag: Tag


class AdviceTable(_Strict):
    version: int
    emergency_number: Bilingual
    levels: dict[Level, Sourced]
    safety_net: Sourced
    antipyretic_advice: Sourced
    young_infant_no_drug: Sourced
    banners: dict[Literal["emergency", "urgent"], Bilingual]
    parent_escalation: Bilingual
    parent_withheld: Bilingual
    disclaimer: Bilingual
    implausible_weight: Bilingual
    unverified_flag: Bilingual

    @model_validator(mode="after")
    def _all_levels(self) -> "AdviceTable":
        missing = {"emergency", "urgent", "routine"} - set(self.levels)
        if missing:
            raise ValueError(f"advice for levels {sorted(missing)} is missing")
        return self


class GrowthRow(_Strict):
    age_months: float = Field(ge=0)
    min_kg: float = Field(gt=0)
    max_kg: float = Field(gt=0)


class GrowthTable(_Strict):
    version: int
    source: str
    tag: Tag
    rows: list[GrowthRow] = Field(min_length=2)

    @model_validator(mode="after")
    def _sorted(self) -> "GrowthTable":
        ages = [r.age_months for r in self.rows]
        if ages != sorted(ages) or len(set(ages)) != len(ages):
            raise ValueError("growth rows must be sorted by age without repeats")
        if any(r.min_kg >= r.max_kg for r in self.rows):
            raise ValueError("each growth row needs min_kg < max_kg")
        return self


def _require_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} {item!r}")
        seen.add(item)
