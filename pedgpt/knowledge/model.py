"""Value types of the knowledge base: entities, cited facts, linked mentions and differential candidates.

Pure data (no I/O); everything here serialises to JSON through `to_dict()`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

#: Entity kinds assigned at build time from the predicates an entity carries.
KINDS = ("disease", "drug", "herb", "exam", "symptom", "other")


def fact_id(entity: str, predicate: str, value: str) -> str:
    """Stable id of one (entity, predicate, value) triple: same text, same id, on every rebuild.

    48 bits of SHA-1 keep collisions improbable (p ≈ 0.3 % over the ~1 M CMeKG triples); the
    index builder checks uniqueness anyway.
    """
    digest = hashlib.sha1(f"{entity}\x1f{predicate}\x1f{value}".encode("utf-8")).hexdigest()
    return "kb-" + digest[:12]


@dataclass(frozen=True)
class Entity:
    """One CMeKG entity (disease, drug, herb, examination, ...)."""

    name: str
    """Canonical CMeKG name, e.g. "小儿腹泻"."""
    aliases: tuple[str, ...] = ()
    """Other names: 别称/又称/同义词/英文名/商品名/通用名, plus pediatric-prefix variants."""
    pediatric: bool = False
    """Pediatric by name (小儿/婴儿/新生儿/儿童/幼儿), by 多发群体 or by 就诊科室 (儿科...)."""
    kind: str = "other"
    """One of `KINDS`."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Entity.name must be non-empty")
        if self.kind not in KINDS:
            raise ValueError(f"Entity.kind must be one of {KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict:
        return {"name": self.name, "aliases": list(self.aliases), "pediatric": self.pediatric,
                "kind": self.kind}


@dataclass(frozen=True)
class Fact:
    """One citable triple of the knowledge graph."""

    id: str
    """Stable id, `fact_id(entity, predicate, value)`."""
    entity: str
    """Subject entity name."""
    predicate: str
    """CMeKG predicate, e.g. "常见症状"."""
    value: str
    """Object text."""

    @property
    def text(self) -> str:
        """Human-readable rendering: "小儿腹泻 — 常见症状: 腹泻"."""
        return f"{self.entity} — {self.predicate}: {self.value}"

    def to_dict(self) -> dict:
        return {"id": self.id, "entity": self.entity, "predicate": self.predicate,
                "value": self.value, "text": self.text}


@dataclass(frozen=True)
class LinkedEntity:
    """A mention found in free text and what it resolves to."""

    surface: str
    """The text as written ("拉肚子", "otitis media")."""
    name: str
    """Resolved name: an entity name, or a canonical symptom term when `kind == "symptom"`."""
    start: int
    """Character offset of the mention in the input text."""
    end: int
    """End offset (exclusive)."""
    kind: str
    """Entity kind, or "symptom" for a symptom term that is not itself a CMeKG entity."""
    via: str
    """How it was resolved: "name", "alias", "colloquial", "english", "symptom"."""
    pediatric: bool = False
    """The resolved entity's pediatric flag (False for bare symptom terms)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Candidate:
    """One disease of a knowledge-based differential, with the evidence behind its score."""

    name: str
    """Disease entity name."""
    score: float
    """IDF-weighted share of the given findings the disease explains (0-1), times age/sex factors."""
    matched: tuple[str, ...] = ()
    """Given findings the disease's symptoms cover, as "finding" or "finding→disease symptom"."""
    unmatched: tuple[str, ...] = ()
    """The disease's most characteristic symptoms that were not given (for history taking)."""
    examinations: tuple[str, ...] = ()
    """Recommended examinations (检查, 实验室检查, 辅助检查, 影像学检查)."""
    department: str = ""
    """就诊科室, joined with "、" ("" when the graph has none)."""
    facts: tuple[str, ...] = field(default=())
    """Fact ids supporting the candidate (matched symptoms, department, examinations)."""
    contradicted: tuple[str, ...] = ()
    """Denied findings ("无发热") the disease lists; each lowered its score."""

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        return {key: list(val) if isinstance(val, tuple) else val for key, val in data.items()}
