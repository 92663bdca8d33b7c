"""Curated data tables of the knowledge base, read from `assets/knowledge/*.tsv`.

Each table is UTF-8, tab-separated, `#` starts a comment line. They are small, hand-checked and
versioned with the code; their content hash is part of the index version, so editing one rebuilds
the index on next load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pedgpt.paths import asset

#: Table files that shape the index (their hash goes into the index version).
INDEX_TABLES = ("age_groups.tsv", "symptom_synonyms.tsv", "symptom_fragments.tsv", "colloquial_zh.tsv",
                "pediatric_extra.tsv")


def _rows(name: str, min_columns: int) -> list[list[str]]:
    path: Path = asset("knowledge", name)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = [col.strip() for col in line.split("\t")]
        if len(cols) < min_columns or not all(cols[:min_columns]):
            raise ValueError(f"{path}:{number}: expected {min_columns} tab-separated columns")
        rows.append(cols)
    return rows


@dataclass(frozen=True)
class AgeGroup:
    """A population word and the age band (months) it denotes."""

    term: str
    """Word as it appears in 多发群体 or in an entity name ("婴幼儿")."""
    min_months: int
    """Youngest age of the band, in months."""
    max_months: int
    """Oldest age of the band, in months."""
    pediatric: bool
    """Whether the word designates children."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_months <= self.max_months:
            raise ValueError(f"bad age band for {self.term}: {self.min_months}-{self.max_months}")


@lru_cache(maxsize=1)
def age_groups() -> tuple[AgeGroup, ...]:
    """Population words, longest first (so 学龄前儿童 wins over 儿童)."""
    groups = [AgeGroup(c[0], int(c[1]), int(c[2]), c[3] == "1") for c in _rows("age_groups.tsv", 4)]
    return tuple(sorted(groups, key=lambda g: (-len(g.term), g.term)))


@lru_cache(maxsize=1)
def pediatric_extra() -> frozenset[str]:
    """Disease names pediatrics treats as its own although CMeKG does not flag them."""
    return frozenset(c[0] for c in _rows("pediatric_extra.tsv", 2))


@lru_cache(maxsize=1)
def symptom_fragments() -> frozenset[str]:
    """Words that are never a finding on their own ("急促", "呼吸", "手")."""
    return frozenset(c[0] for c in _rows("symptom_fragments.tsv", 1))


@lru_cache(maxsize=1)
def symptom_synonyms() -> dict[str, str]:
    """Clinical variant → canonical symptom term (声嘶 → 声音嘶哑; relation "=")."""
    return {c[0]: c[1] for c in _rows("symptom_synonyms.tsv", 3) if c[2] == "=" and c[0] != c[1]}


@lru_cache(maxsize=1)
def symptom_parents() -> dict[str, tuple[str, ...]]:
    """Specific finding → the more general findings it implies (高热 → 发热; relation "<")."""
    parents: dict[str, list[str]] = {}
    for cols in _rows("symptom_synonyms.tsv", 3):
        if cols[2] == "<" and cols[0] != cols[1]:
            parents.setdefault(cols[0], []).append(cols[1])
    return {key: tuple(vals) for key, vals in parents.items()}


@lru_cache(maxsize=1)
def colloquial_zh() -> dict[str, str]:
    """Lay Chinese phrasing → formal term found in the graph (拉肚子 → 腹泻)."""
    return {c[0]: c[1] for c in _rows("colloquial_zh.tsv", 2)}


@lru_cache(maxsize=1)
def english_zh() -> dict[str, str]:
    """Curated lower-case English pediatric terms → Chinese graph term (fever → 发热)."""
    return {c[0].lower(): c[1] for c in _rows("english_zh.tsv", 2)}


def tables_hash() -> str:
    """Short hash over the tables that shape the index content."""
    digest = hashlib.sha256()
    for name in INDEX_TABLES:
        digest.update(asset("knowledge", name).read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def common_pediatric() -> frozenset[str]:
    """CMeKG names of the conditions most often seen in children (a prior for symptom questions)."""
    return frozenset(c[0] for c in _rows("common_pediatric.tsv", 2))
