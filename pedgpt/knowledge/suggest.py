"""Closest entity names for text that links to nothing ("no match — did you mean ...").

Chinese: Dice similarity of character bigrams (unigrams for 1–2 character input) against every
entity name and alias; English: `difflib` ratio against the normalised English aliases.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pedgpt.knowledge.classify import is_english, normalise_english

if TYPE_CHECKING:
    from pedgpt.knowledge.index import KnowledgeIndex


def _grams(text: str) -> set[str]:
    if len(text) <= 2:
        return set(text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _name_table(index: "KnowledgeIndex") -> list[tuple[str, str, bool]]:
    """(surface, entity name, pediatric) for every name and alias, cached on the index."""
    table = index._cache.get("suggest_names")
    if table is None:
        rows = index._rows("SELECT name, name, pediatric FROM entities UNION ALL "
                           "SELECT a.norm, e.name, e.pediatric FROM aliases a JOIN entities e ON e.id = a.entity_id")
        table = [(surface, name, bool(ped)) for surface, name, ped in rows]
        index._cache["suggest_names"] = table
    return table


def closest_names(index: "KnowledgeIndex", text: str, limit: int = 5) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if is_english(text):
        return _closest_english(index, normalise_english(text), limit)
    query = _grams(text)
    scored: dict[str, float] = {}
    for surface, name, pediatric in _name_table(index):
        grams = _grams(surface)
        shared = len(query & grams)
        if not shared:
            continue
        score = 2 * shared / (len(query) + len(grams)) + (0.01 if pediatric else 0.0)
        if score > scored.get(name, 0.0):
            scored[name] = score
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
    return [name for name, _ in ranked[:limit]]


def _closest_english(index: "KnowledgeIndex", query: str, limit: int) -> list[str]:
    table = [(s, n) for s, n, _ in _name_table(index) if is_english(s)]
    matches = difflib.get_close_matches(query, [s for s, _ in table], n=limit * 3, cutoff=0.5)
    names = dict.fromkeys(n for m in matches for s, n in table if s == m)
    return list(names)[:limit]


def closest_terms(index: "KnowledgeIndex", text: str, vocabulary: dict[str, float], limit: int = 5) -> list[str]:
    """Known symptom terms and entity names closest to an unrecognised finding."""
    query = _grams(text.strip())
    if not query:
        return []
    scored = []
    for term in vocabulary:
        grams = _grams(term)
        shared = len(query & grams)
        if shared:
            scored.append((2 * shared / (len(query) + len(grams)), term))
    scored.sort(key=lambda s: (-s[0], len(s[1]), s[1]))
    terms = [t for _, t in scored[:limit]]
    return terms or closest_names(index, text, limit)
