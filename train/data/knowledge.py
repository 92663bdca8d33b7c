"""The knowledge the corpus is written from: pediatric diseases and drugs of the CMeKG graph,
read through `pedgpt.knowledge.load_index()` and cleaned into `Subject`s.

    from train.data.knowledge import load_subjects
    subjects = load_subjects()          # sorted by name, deterministic
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from train.data.text import clean_values

DISEASE_PREDICATES = ("多发群体", "常见病因", "常见症状", "检查", "就诊科室", "治疗", "并发症", "相关药物")
DRUG_PREDICATES = ("适应症", "禁忌", "不良反应", "用法用量", "注意事项")
#: Sentence-like predicates may hold longer values than list-like ones.
_LONG_VALUES = {"用法用量": 80, "注意事项": 80, "禁忌": 60, "治疗": 40}


@dataclass(frozen=True)
class FactRef:
    """One knowledge-graph triple, kept as provenance of every generated answer."""

    id: str
    predicate: str
    value: str


@dataclass
class Subject:
    """A pediatric disease or drug with its cleaned facts, grouped by predicate."""

    name: str
    kind: str  # "disease" | "drug"
    aliases: tuple[str, ...] = ()
    facts: dict[str, list[FactRef]] = field(default_factory=dict)

    def values(self, predicate: str) -> list[str]:
        return [fact.value for fact in self.facts.get(predicate, [])]

    def fact_ids(self, *predicates: str) -> tuple[str, ...]:
        chosen = predicates or tuple(self.facts)
        return tuple(f.id for p in chosen for f in self.facts.get(p, []))

    @property
    def fact_count(self) -> int:
        return sum(len(v) for v in self.facts.values())


@dataclass
class KnowledgeSnapshot:
    """Subjects plus a description of where they came from (for the manifest)."""

    subjects: list[Subject]
    source: dict[str, Any]

    @property
    def diseases(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "disease"]

    @property
    def drugs(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "drug"]


def load_subjects(index: Any = None) -> KnowledgeSnapshot:
    """All pediatric diseases and drugs of `index` (default: `pedgpt.knowledge.load_index()`),
    sorted by name."""
    if index is None:
        from pedgpt.knowledge import load_index

        index = load_index()
    subjects = []
    for entity in sorted(index.entities(pediatric_only=True), key=lambda e: e.name):
        subject = subject_from(entity.name, tuple(getattr(entity, "aliases", ()) or ()),
                               index.facts(entity.name), getattr(entity, "kind", ""))
        if subject is not None:
            subjects.append(subject)
    return KnowledgeSnapshot(subjects, _describe(index))


def subject_from(name: str, aliases: tuple[str, ...], facts: Iterable[Any],
                 kind_hint: str = "") -> Subject | None:
    """Group an entity's facts by predicate and classify it (the index's kind wins when it says
    disease or drug); None if it is neither, or has nothing usable to say."""
    grouped: dict[str, list[Any]] = {}
    for fact in facts:
        grouped.setdefault(fact.predicate, []).append(fact)
    if kind_hint in ("disease", "drug"):
        kind = kind_hint
    elif kind_hint in ("herb", "exam", "symptom", "other"):
        return None
    else:
        kind = _kind(grouped)
    if kind is None:
        return None
    wanted = DISEASE_PREDICATES if kind == "disease" else DRUG_PREDICATES
    cleaned: dict[str, list[FactRef]] = {}
    for predicate in wanted:
        raw = grouped.get(predicate, [])
        keep = clean_values([f.value for f in raw], exclude=name,
                            max_chars=_LONG_VALUES.get(predicate, 30))
        by_value = {}
        for fact in raw:  # first fact id of each kept (cleaned) value
            value = clean_values([fact.value], exclude=name, max_chars=_LONG_VALUES.get(predicate, 30))
            if value and value[0] in keep and value[0] not in by_value:
                by_value[value[0]] = FactRef(str(fact.id), predicate, value[0])
        if by_value:
            cleaned[predicate] = [by_value[v] for v in keep if v in by_value]
    if not cleaned:
        return None
    aliases = tuple(a for a in clean_values(aliases, exclude=name) if len(a) >= 2)
    return Subject(name=name, kind=kind, aliases=aliases, facts=cleaned)


def _kind(grouped: dict[str, list[Any]]) -> str | None:
    if any(p in grouped for p in ("常见症状", "常见病因", "并发症")):
        return "disease"
    if "适应症" in grouped or "禁忌" in grouped:
        return "drug"
    if "就诊科室" in grouped or "治疗" in grouped:
        return "disease"
    return None


def _describe(index: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"name": "CMeKG via pedgpt.knowledge"}
    for attribute in ("version", "source_version", "sha256", "fingerprint"):
        value = getattr(index, attribute, None)
        if isinstance(value, (str, int, float)):
            info[attribute] = value
    stats = getattr(index, "stats", None)
    if callable(stats):
        try:
            result = stats()
            if isinstance(result, dict):
                info["stats"] = {k: v for k, v in result.items() if isinstance(v, (str, int, float))}
        except Exception:  # stats are informative only
            pass
    try:
        from importlib.metadata import version

        info["pycmekg"] = version("pycmekg")
    except Exception:
        pass
    return info
