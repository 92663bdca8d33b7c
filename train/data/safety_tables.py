"""Read the safety layer's tables (`pedgpt.safety.tables`) into the shapes the safety
instructions are phrased from: one `Contraindication` per rule (drug name to ask about, an age and
a context for which the rule applies, the reason and the source) and the dosable drugs with their
indications.
"""

from __future__ import annotations

from typing import Any

from train.data.safety import Contraindication, SafetyTables

#: Indication ids of dose regimens → how a parent says it (ids not listed are skipped).
INDICATION_WORDS = {
    "fever": {"zh": "发烧", "en": "a fever"},
    "pain": {"zh": "喊疼", "en": "pain"},
    "diarrhoea": {"zh": "拉肚子", "en": "diarrhoea"},
    "plan_a": {"zh": "拉肚子", "en": "diarrhoea"},
    "pneumonia": {"zh": "医生说是肺炎", "en": "pneumonia diagnosed by the doctor"},
    "aom": {"zh": "医生说是中耳炎", "en": "an ear infection diagnosed by the doctor"},
}


def get(row: Any, key: str, default: Any = None) -> Any:
    """Field of a table row, whether the table gives dicts or objects."""
    if isinstance(row, dict):
        return row.get(key, default)
    return getattr(row, key, default)


def read_tables() -> SafetyTables:
    from pedgpt.safety import tables

    drugs = list(tables.drugs())
    by_id = {get(d, "id"): d for d in drugs}
    labels = _finding_labels(tables)
    rules = [normalise_rule(rule, drugs, by_id, labels) for rule in tables.contraindications()]
    dose_drugs = [d for d in (dose_drug(d) for d in drugs) if d is not None]
    version = getattr(tables, "VERSION", None) or getattr(tables, "version", None)
    source = {"name": "pedgpt.safety.tables", "contraindications": len(rules), "dose_drugs": len(dose_drugs)}
    if isinstance(version, (str, int)):
        source["version"] = version
    source["tables_sha256"] = _tables_hash()
    return SafetyTables(rules, dose_drugs, source)


def normalise_rule(rule: Any, drugs: list[Any], by_id: dict[str, Any],
                   labels: dict[str, dict[str, str]]) -> Contraindication:
    drug = _drug_for(rule, drugs, by_id)
    names = get(drug, "names", {}) or {}
    zh_names, en_names = list(get(names, "zh", []) or []), list(get(names, "en", []) or [])
    text = get(rule, "rule", {}) or {}
    return Contraindication(
        id=str(get(rule, "id")),
        drug={"zh": zh_names[0] if zh_names else str(get(drug, "id")),
              "en": en_names[0] if en_names else str(get(drug, "id"))},
        reason={"zh": str(get(text, "zh", "")), "en": str(get(text, "en", ""))},
        context=_context(rule, labels),
        age_band=_age_band(rule),
        source=str(get(rule, "source", "")),
        action=str(get(rule, "action", "forbid")),
        by_age_only=not get(rule, "conditions_any") and get(rule, "weight_kg_below") is None,
    ) if drug is not None else _unmatched(rule, labels)


def _drug_for(rule: Any, drugs: list[Any], by_id: dict[str, Any]) -> Any:
    """The rule's first named drug, else the first drug of one of its classes."""
    for drug_id in get(rule, "drugs", []) or []:
        if drug_id in by_id:
            return by_id[drug_id]
    classes = set(get(rule, "classes", []) or [])
    for drug in drugs:
        if classes & set(get(drug, "classes", []) or []):
            return drug
    return None


def _unmatched(rule: Any, labels: dict[str, dict[str, str]]) -> Contraindication:
    """A rule naming no known drug: ask about the rule's own wording."""
    text = get(rule, "rule", {}) or {}
    return Contraindication(
        id=str(get(rule, "id")), drug={"zh": "这种药", "en": "this medicine"},
        reason={"zh": str(get(text, "zh", "")), "en": str(get(text, "en", ""))},
        context=_context(rule, labels), age_band=_age_band(rule), source=str(get(rule, "source", "")),
        action=str(get(rule, "action", "forbid")))


def _age_band(rule: Any) -> tuple[int, int]:
    """[low, high) months in which the rule applies, for drawing a vignette age."""
    low, high = get(rule, "age_months_min"), get(rule, "age_months_below")
    if low is None and high is None:
        # A weight floor concerns small infants; other unbounded rules any child.
        return (3, 7) if get(rule, "weight_kg_below") is not None else (12, 120)
    if high is None:
        return int(low), int(low) + 60
    if low is None:
        low = 1 if high <= 12 else 6
    return int(low), max(int(low) + 1, int(high))


def _context(rule: Any, labels: dict[str, dict[str, str]]) -> dict[str, str]:
    """What the child has, from the rule's conditions (finding labels) or weight floor."""
    conditions = [c for c in get(rule, "conditions_any", []) or [] if c in labels]
    if conditions:
        label = labels[conditions[0]]
        return {"zh": f"有{label['zh']}", "en": f"has {label['en']}"}
    weight = get(rule, "weight_kg_below")
    if weight is not None:
        kg = max(1, int(weight) - 1)
        return {"zh": f"体重只有{kg}公斤，发烧了", "en": f"weighs only {kg} kg and has a fever"}
    return {"zh": "", "en": ""}


def _finding_labels(tables: Any) -> dict[str, dict[str, str]]:
    finder = getattr(tables, "findings", None)
    rows = finder() if callable(finder) else []
    out = {}
    for row in rows:
        label = get(row, "label", {}) or {}
        if get(label, "zh") and get(label, "en"):
            out[str(get(row, "id"))] = {"zh": str(get(label, "zh")), "en": str(get(label, "en"))}
    return out


def dose_drug(drug: Any) -> dict[str, Any] | None:
    """A drug with at least one regimen, and the parent-phrased indications it can be asked for."""
    regimens = get(drug, "regimens", []) or []
    if not regimens:
        return None
    names = get(drug, "names", {}) or {}
    ids = []
    for regimen in regimens:
        for indication in get(regimen, "indications", []) or []:
            if indication in INDICATION_WORDS and indication not in ids:
                ids.append(indication)
    if not ids:
        return None
    zh, en = list(get(names, "zh", []) or []), list(get(names, "en", []) or [])
    return {"id": str(get(drug, "id")), "zh": zh[0] if zh else str(get(drug, "id")),
            "en": en[0] if en else str(get(drug, "id")),
            "indications": [{"id": i, **INDICATION_WORDS[i]} for i in ids]}


def _tables_hash() -> str:
    import hashlib

    from pedgpt.paths import asset

    digest = hashlib.sha256()
    for path in sorted(asset("safety").glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
