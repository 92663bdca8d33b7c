"""Build the SQLite + FTS5 knowledge index from a CMeKG-shaped graph.

`build_database(graph, path, meta)` writes every table in one transaction; the caller
(`pedgpt.knowledge.index`) decides when a (re)build is needed and swaps the file in atomically.
Tables:

- `meta(key, value)`: versions, source fingerprint, build time;
- `entities(id, name, kind, pediatric, age_min, age_max, bands, sex)`;
- `aliases(alias, norm, entity_id, source)`: `norm` is the lookup key (English lower-cased);
- `facts(id, entity_id, predicate, value, ord)`: one row per triple, `id` stable (`fact_id`);
- `symptom_forms(entity_id, term, weight, fact_id)`: normalised findings of each disease;
- `symptom_vocab(term, df)`: how many diseases list each finding (for IDF);
- `names_fts`: FTS5 (trigram) over names and aliases, for "did you mean" suggestions.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from pedgpt.knowledge import classify, symptoms
from pedgpt.knowledge.model import fact_id

#: Bump when tables or derived content change: old indexes are rebuilt automatically.
SCHEMA_VERSION = 8
#: Predicates that list a disease's findings (the differential's evidence).
SYMPTOM_PREDICATES = ("常见症状", "临床症状及体征", "诊断依据_症状", "诊断依据_临床表现", "诊断依据_体征")
#: Minimum number of diseases that list a phrase for it to count as a vocabulary term.
MIN_VOCAB_DF = 2
#: Minimum number of diseases listing a term on its own for it to be a head of longer terms.
MIN_HEAD_DF = 5

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    pediatric INTEGER NOT NULL, age_min INTEGER, age_max INTEGER, bands TEXT NOT NULL, sex TEXT NOT NULL,
    n_facts INTEGER NOT NULL, refs INTEGER NOT NULL);
CREATE TABLE aliases (alias TEXT NOT NULL, norm TEXT NOT NULL, entity_id INTEGER NOT NULL, source TEXT NOT NULL);
CREATE TABLE facts (id TEXT PRIMARY KEY, entity_id INTEGER NOT NULL, predicate TEXT NOT NULL,
    value TEXT NOT NULL, ord INTEGER NOT NULL);
CREATE TABLE symptom_forms (entity_id INTEGER NOT NULL, term TEXT NOT NULL, weight REAL NOT NULL,
    fact_id TEXT NOT NULL);
CREATE TABLE symptom_vocab (term TEXT PRIMARY KEY, df INTEGER NOT NULL, primary_df INTEGER NOT NULL);
CREATE VIRTUAL TABLE names_fts USING fts5(name, aliases, tokenize='trigram');
"""
_INDEXES = """
CREATE INDEX aliases_norm ON aliases(norm);
CREATE INDEX facts_entity ON facts(entity_id);
CREATE INDEX symptom_forms_entity ON symptom_forms(entity_id);
"""


def build_database(graph: dict[str, dict[str, list[str]]], path: Path | str, meta: dict[str, str]) -> float:
    """Write the index for `graph` into a new SQLite file at `path`; returns build seconds."""
    started = time.perf_counter()
    conn = sqlite3.connect(str(path))
    try:
        conn.executescript(_SCHEMA)
        names = sorted(graph)
        ids = {name: number for number, name in enumerate(names, start=1)}
        with conn:
            diseases, counts = _disease_findings(graph)
            _write_entities(conn, graph, names, ids, symptoms.known_terms() | set(counts))
            _write_facts(conn, graph, names, ids)
            _write_symptoms(conn, diseases, counts, ids)
            conn.executescript(_INDEXES)
            seconds = time.perf_counter() - started
            rows = {**meta, "schema_version": str(SCHEMA_VERSION), "build_seconds": f"{seconds:.2f}",
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(rows.items()))
        conn.execute("VACUUM")
    finally:
        conn.close()
    return seconds


def _write_entities(conn: sqlite3.Connection, graph: dict, names: list[str], ids: dict[str, int],
                    findings: set[str]) -> None:
    """Entities, aliases and the name search table. A derived alias that is also a symptom term
    ("咳嗽" from 咳嗽糖浆) is dropped so that a finding never links to a medicine."""
    entity_rows, alias_rows, fts_rows = [], [], []
    mentions = _mention_counts(graph)
    for name in names:
        prof = classify.profile(name, graph[name])
        entity_rows.append((ids[name], name, prof.kind, int(prof.pediatric), prof.age_min, prof.age_max,
                            json.dumps(prof.bands), prof.sex, sum(map(len, graph[name].values())),
                            _refs(name, mentions)))
        aliases = [(a, s) for a, s in classify.aliases_of(name, graph[name])
                   if a not in ids and not (s == "药名词干" and a in findings)]
        for alias, source in aliases:
            norm = classify.normalise_english(alias) if classify.is_english(alias) else alias
            if norm:
                alias_rows.append((alias, norm, ids[name], source))
        if classify.is_english(name):
            alias_rows.append((name, classify.normalise_english(name), ids[name], "名称"))
        fts_rows.append((ids[name], name, " ".join(a for a, _ in aliases)))
    conn.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entity_rows)
    conn.executemany("INSERT INTO aliases VALUES (?, ?, ?, ?)", alias_rows)
    conn.executemany("INSERT INTO names_fts(rowid, name, aliases) VALUES (?, ?, ?)", fts_rows)


def _mention_counts(graph: dict) -> dict[str, int]:
    """How many entities mention each value text (a disease's name in drugs' 适应症, in 并发症 ...)."""
    counts: dict[str, int] = {}
    for predicates in graph.values():
        for value in {v.strip() for values in predicates.values() for v in values}:
            counts[value] = counts.get(value, 0) + 1
    return counts


def _refs(name: str, mentions: dict[str, int]) -> int:
    """Mentions of the entity, or of its stem for pediatric names (小儿腹泻 → 腹泻): a proxy for
    how common and well-described the condition is, used as a weak prior by the differential."""
    stem = classify.stem(name)
    return mentions.get(name, 0) + (mentions.get(stem, 0) if stem != name else 0)


def _fact_rows(graph: dict, names: list[str], ids: dict[str, int]) -> Iterator[tuple]:
    """One row per distinct triple. Two different triples with the same id (a hash collision)
    would violate the facts primary key and fail the build loudly rather than lose a fact."""
    for name in tqdm(names, desc="knowledge index", unit="entity", disable=len(names) < 5000):
        for predicate, values in graph[name].items():
            seen: set[str] = set()
            for order, value in enumerate(values):
                value = value.strip()
                if not value or value in seen:  # repeated triple in the source: one fact
                    continue
                seen.add(value)
                yield fact_id(name, predicate, value), ids[name], predicate, value, order


def _write_facts(conn: sqlite3.Connection, graph: dict, names: list[str], ids: dict[str, int]) -> None:
    conn.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?)", _fact_rows(graph, names, ids))


def _symptom_values(predicates: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(p, v.strip()) for p in SYMPTOM_PREDICATES for v in predicates.get(p, []) if v.strip()]


def _disease_findings(graph: dict) -> tuple[dict[str, list[tuple[str, str]]], dict[str, int]]:
    """Each disease's (predicate, symptom value) pairs, and how many diseases list each term."""
    diseases = {n: _symptom_values(p) for n, p in graph.items()
                if classify.kind_of(n, p) == "disease" and _symptom_values(p)}
    counts: dict[str, int] = {}
    for values in diseases.values():
        for term in {t for _, v in values for t in symptoms.primary_terms(v)}:
            counts[term] = counts.get(term, 0) + 1
    return diseases, counts


def _write_symptoms(conn: sqlite3.Connection, diseases: dict, counts: dict[str, int], ids: dict[str, int]) -> None:
    """Normalise each disease's findings; IDF statistics come from the same pass."""
    vocabulary = {t for t, n in counts.items() if n >= MIN_VOCAB_DF and len(t) >= 2} | symptoms.known_terms()
    heads = {t for t, n in counts.items() if n >= MIN_HEAD_DF and len(t) >= 2} | symptoms.known_terms()
    rows, df = [], {}
    for name, values in diseases.items():
        best: dict[str, tuple[float, str]] = {}
        for predicate, value in values:
            for term, weight in symptoms.expand(value, vocabulary, heads).items():
                if weight > best.get(term, (0.0, ""))[0]:
                    best[term] = (weight, fact_id(name, predicate, value))
        for term, (weight, key) in best.items():
            rows.append((ids[name], term, weight, key))
            df[term] = df.get(term, 0) + 1
    conn.executemany("INSERT INTO symptom_forms VALUES (?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO symptom_vocab VALUES (?, ?, ?)",
                     [(term, n, counts.get(term, 0)) for term, n in sorted(df.items())])
