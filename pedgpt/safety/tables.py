"""Loaders for the clinical tables in `assets/safety/` (drugs, contraindications, triage).

Every table is validated against `pedgpt.safety.schema` and cross-checked (a contraindication
names existing drugs or classes, a rule names existing findings) the first time it is loaded;
`pedgpt.safety` loads them all at import, so a malformed table fails loudly at start-up.

Check the shipped tables:  python -m pedgpt.safety
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pedgpt.paths import asset
from pedgpt.safety.schema import (AdviceTable, Contraindication, ContraindicationTable, Drug, DrugTable,
                                  FindingDef, FindingTable, GrowthTable, TableError, TriageRuleTable)

M = TypeVar("M", bound=BaseModel)

#: Indication and condition keys that are not finding ids but may appear in `conditions_any`.
EXTRA_CONDITIONS = {"some_dehydration_signs"}


def load_table(path: Path, model: type[M]) -> M:
    """Read one YAML file and validate it; any problem raises `TableError` naming the file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TableError(f"cannot read safety table {path}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TableError(f"safety table {Path(path).name} is malformed at {where or 'top level'}: "
                         f"{first['msg']} ({exc.error_count()} error(s))") from None


@functools.cache
def drug_table() -> DrugTable:
    return load_table(asset("safety", "drugs.yaml"), DrugTable)


@functools.cache
def contraindication_table() -> ContraindicationTable:
    table = load_table(asset("safety", "contraindications.yaml"), ContraindicationTable)
    _check_contraindication_refs(table, drug_table(), finding_table())
    return table


@functools.cache
def finding_table() -> FindingTable:
    return load_table(asset("safety", "triage_findings.yaml"), FindingTable)


@functools.cache
def triage_rule_table() -> TriageRuleTable:
    table = load_table(asset("safety", "triage_rules.yaml"), TriageRuleTable)
    _check_rule_refs(table, finding_table())
    return table


@functools.cache
def advice() -> AdviceTable:
    return load_table(asset("safety", "advice.yaml"), AdviceTable)


@functools.cache
def growth() -> GrowthTable:
    return load_table(asset("safety", "growth.yaml"), GrowthTable)


def drugs() -> list[Drug]:
    """Every drug, product or substance the safety layer knows (dosable or not)."""
    return list(drug_table().drugs)


def contraindications() -> list[Contraindication]:
    """Every contraindication / caution rule (stable `id`, `rule.zh/en`, `source`, `tag`)."""
    return list(contraindication_table().contraindications)


def findings() -> list[FindingDef]:
    return list(finding_table().findings)


def drug(drug_id: str) -> Drug:
    for item in drug_table().drugs:
        if item.id == drug_id:
            return item
    raise KeyError(drug_id)


def names_for(rule: Contraindication) -> dict[str, list[str]]:
    """Names (zh / en / brands) of every drug a contraindication targets, for data builders."""
    from pedgpt.safety.contra import targets

    out: dict[str, list[str]] = {"zh": [], "en": [], "brands": []}
    for item in drug_table().drugs:
        if targets(rule, item):
            out["zh"] += item.names.zh
            out["en"] += item.names.en
            out["brands"] += item.names.brands
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def load_all() -> dict[str, int]:
    """Load and cross-check every table; returns counts (raises `TableError` on any problem)."""
    return {
        "drugs": len(drug_table().drugs),
        "contraindications": len(contraindication_table().contraindications),
        "findings": len(finding_table().findings),
        "triage_rules": len(triage_rule_table().rules),
        "advice_levels": len(advice().levels),
        "growth_rows": len(growth().rows),
    }


# ----------------------------------------------------------------------------- drug names

def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-_/'’.]+", "", name.strip().lower())


@functools.cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for item in drug_table().drugs:
        for name in [item.id, *item.names.all()]:
            index.setdefault(_norm_name(name), item.id)
    return index


def resolve_drug(name: str) -> Drug | None:
    """A drug by any of its names: id, Chinese, English or brand ('美林', 'Tylenol', 'APAP')."""
    drug_id = _name_index().get(_norm_name(name))
    return drug(drug_id) if drug_id else None


def suggest_drugs(name: str, limit: int = 3) -> list[str]:
    """Closest known drug names to an unknown one (difflib), for a helpful error message."""
    names = {n: None for item in drug_table().drugs for n in item.names.all()}
    close = difflib.get_close_matches(name, list(names), n=limit, cutoff=0.5)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.4)]
    return close


@functools.cache
def drug_mention_pattern() -> re.Pattern[str]:
    """One regex that finds any known drug name in text, longest names first."""
    names = sorted({n for item in drug_table().drugs for n in item.names.all()}, key=len, reverse=True)
    parts = []
    for name in names:
        escaped = re.escape(name)
        # an English name may carry a plural ending ("salicylate teething gels"), left outside the match
        parts.append(rf"(?<![A-Za-z]){escaped}(?=(?:e?s)?(?![A-Za-z]))" if re.search(r"[A-Za-z]", name) else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


# ----------------------------------------------------------------------------- cross-checks

def _check_contraindication_refs(table: ContraindicationTable, drug_tab: DrugTable, finding_tab: FindingTable) -> None:
    drug_ids = {d.id for d in drug_tab.drugs}
    classes = {c for d in drug_tab.drugs for c in d.classes}
    conditions = {f.id for f in finding_tab.findings} | EXTRA_CONDITIONS
    for item in table.contraindications:
        for ref in item.drugs:
            if ref not in drug_ids:
                raise TableError(f"contraindications.yaml: {item.id} names unknown drug {ref!r}")
        for ref in item.classes:
            if ref not in classes:
                raise TableError(f"contraindications.yaml: {item.id} names unknown class {ref!r}")
        for ref in item.conditions_any:
            if ref not in conditions:
                raise TableError(f"contraindications.yaml: {item.id} names unknown condition {ref!r}")


def _check_rule_refs(table: TriageRuleTable, finding_tab: FindingTable) -> None:
    ids = {f.id for f in finding_tab.findings}
    groups = {f.group for f in finding_tab.findings if f.group}
    for rule in table.rules:
        for ref in rule.when.findings_any:
            if ref not in ids:
                raise TableError(f"triage_rules.yaml: {rule.id} names unknown finding {ref!r}")
        if rule.when.group_count and rule.when.group_count.group not in groups:
            raise TableError(f"triage_rules.yaml: {rule.id} names unknown group {rule.when.group_count.group!r}")

