"""The knowledge index: a read-only SQLite file built once from CMeKG, with typed queries.

    from pedgpt.knowledge import load_index
    index = load_index()                     # builds on first use (~1 min), then opens in ms
    index.entity("拉肚子")                    # alias resolution → Entity("腹泻", ...)
    index.facts("小儿腹泻", ["常见症状"])

The file lives at `PEDGPT_HOME/knowledge/cmekg-index.sqlite`. It records the schema version, the
pycmekg version, the hash of the curated tables and the source pickle's size/mtime/sha256; when any
of them differs from what is installed now the index is rebuilt (into a temporary file that
replaces the old one atomically, so a concurrent reader never sees half an index).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from pedgpt.errors import InputError
from pedgpt.knowledge import build, source
from pedgpt.knowledge.model import Entity, Fact
from pedgpt.knowledge.resources import tables_hash
from pedgpt.paths import cache_dir

INDEX_FILE = "cmekg-index.sqlite"
#: Entity-kind order used to pick among entities sharing an alias.
_KIND_RANK = {"disease": 0, "drug": 1, "exam": 2, "other": 3, "herb": 4, "symptom": 5}

_ALIAS_SQL = ("SELECT a.norm, e.name, e.kind, e.pediatric, a.source, e.n_facts "
              "FROM aliases a JOIN entities e ON e.id = a.entity_id")
_DERIVED_SOURCES = ("前缀变体", "药名词干")


def _alias_rank(row: tuple) -> tuple:
    """Several entities share some aliases (brand names, "diarrhea", drug stems): prefer diseases,
    pediatric entities, real aliases over derived ones, then the richest entry, then the name."""
    _, name, kind, pediatric, alias_source, n_facts = row
    return (_KIND_RANK.get(kind, 9), -pediatric, alias_source in _DERIVED_SOURCES, -n_facts, name)


_LOCK = threading.RLock()
_CACHE: dict[tuple[str, str], "KnowledgeIndex"] = {}


class KnowledgeIndex:
    """Typed, thread-safe read access to one index file (or an in-memory one for tests)."""

    def __init__(self, conn: sqlite3.Connection, path: str = ":memory:") -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self._meta = dict(self._rows("SELECT key, value FROM meta"))
        self._cache: dict[str, object] = {}

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> "KnowledgeIndex":
        return cls(sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False), str(path))

    @classmethod
    def from_graph(cls, graph: dict[str, dict[str, list[str]]], path: Path | str | None = None) -> "KnowledgeIndex":
        """Build an index for a hand-made graph (tests, fixtures); in a temp file unless `path`."""
        if path is None:
            handle, name = tempfile.mkstemp(suffix=".sqlite", prefix="pedgpt-kb-")
            os.close(handle)
            os.unlink(name)
            path = name
        build.build_database(graph, path, {"source": "graph", "pycmekg_version": "fixture",
                                           "tables_hash": tables_hash()})
        return cls.open(path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- low-level ----------------------------------------------------------------------------
    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    @property
    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    @property
    def version(self) -> str:
        """pycmekg version the index was built from ("fixture" for `from_graph`)."""
        return self._meta.get("pycmekg_version", "")

    @property
    def fingerprint(self) -> str:
        """Identity of the index content (data version, schema, curated tables, source hash), for
        recording which knowledge a dataset or an answer came from."""
        meta = self._meta
        return (f"pycmekg-{meta.get('pycmekg_version', '?')}/schema-{meta.get('schema_version', '?')}"
                f"/tables-{meta.get('tables_hash', '?')}/src-{meta.get('source_sha256', 'none')[:12]}")

    # -- entities -----------------------------------------------------------------------------
    def _aliases(self, entity_id: int) -> tuple[str, ...]:
        rows = self._rows("SELECT alias FROM aliases WHERE entity_id = ? ORDER BY rowid", (entity_id,))
        return tuple(dict.fromkeys(r[0] for r in rows))

    def _entity(self, row: tuple) -> Entity:
        entity_id, name, kind, pediatric = row[:4]
        return Entity(name=name, aliases=self._aliases(entity_id), pediatric=bool(pediatric), kind=kind)

    def entities(self, pediatric_only: bool = False, kind: str | None = None) -> list[Entity]:
        """All entities (sorted by name), optionally only pediatric ones and/or of one kind."""
        sql = "SELECT id, name, kind, pediatric FROM entities WHERE 1=1"
        args: list = []
        if pediatric_only:
            sql += " AND pediatric = 1"
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self._rows(sql + " ORDER BY name", tuple(args))
        aliases: dict[int, list[str]] = {}
        for entity_id, alias in self._rows("SELECT entity_id, alias FROM aliases ORDER BY rowid"):
            aliases.setdefault(entity_id, []).append(alias)
        return [Entity(n, tuple(dict.fromkeys(aliases.get(i, ()))), bool(p), k) for i, n, k, p in rows]

    def resolve(self, name_or_alias: str) -> str | None:
        """Canonical entity name for a name or alias (English case-insensitive), else None."""
        from pedgpt.knowledge.classify import is_english, normalise_english

        text = name_or_alias.strip()
        if not text:
            return None
        row = self._rows("SELECT name FROM entities WHERE name = ?", (text,))
        if row:
            return row[0][0]
        key = normalise_english(text) if is_english(text) else text
        rows = self._rows(_ALIAS_SQL + " WHERE a.norm = ?", (key,))
        return min(rows, key=_alias_rank)[1] if rows else None

    def alias_table(self) -> dict[str, str]:
        """Every alias lookup key → the entity it resolves to (same rule as `resolve`)."""
        table = self._cache.get("alias_table")
        if table is None:
            best: dict[str, tuple] = {}
            for row in self._rows(_ALIAS_SQL):
                if row[0] not in best or _alias_rank(row) < _alias_rank(best[row[0]]):
                    best[row[0]] = row
            table = {norm: row[1] for norm, row in best.items()}
            self._cache["alias_table"] = table
        return table

    def entity(self, name_or_alias: str) -> Entity | None:
        name = self.resolve(name_or_alias)
        if name is None:
            return None
        return self._entity(self._rows("SELECT id, name, kind, pediatric FROM entities WHERE name = ?", (name,))[0])

    def profile(self, name: str) -> dict | None:
        """Age bands (months) and sex of an entity as stored at build time."""
        rows = self._rows("SELECT age_min, age_max, bands, sex FROM entities WHERE name = ?", (name,))
        if not rows:
            return None
        age_min, age_max, bands, sex = rows[0]
        return {"age_min": age_min, "age_max": age_max, "bands": [tuple(b) for b in json.loads(bands)], "sex": sex}

    # -- facts --------------------------------------------------------------------------------
    def facts(self, entity_name: str, predicates: list[str] | tuple[str, ...] | None = None) -> list[Fact]:
        """Facts of an entity (name or alias) in source order, optionally restricted to predicates
        (returned in the order the predicates are given)."""
        name = self.resolve(entity_name)
        if name is None:
            return []
        rows = self._rows("SELECT f.id, f.predicate, f.value FROM facts f JOIN entities e ON e.id = f.entity_id "
                          "WHERE e.name = ? ORDER BY f.rowid", (name,))
        facts = [Fact(fid, name, pred, value) for fid, pred, value in rows]
        if predicates is None:
            return facts
        order = {p: i for i, p in enumerate(predicates)}
        return sorted((f for f in facts if f.predicate in order), key=lambda f: order[f.predicate])

    def iter_facts(self, predicates: list[str] | tuple[str, ...] | None = None, pediatric_only: bool = False,
                   kind: str | None = None) -> Iterator[Fact]:
        """All facts in one pass (entity name order, then source order) — for bulk consumers such
        as the training-data builder; optionally only some predicates / pediatric entities / a kind."""
        sql = ("SELECT f.id, e.name, f.predicate, f.value FROM facts f JOIN entities e ON e.id = f.entity_id "
               "WHERE 1=1")
        args: list = []
        if predicates:
            sql += f" AND f.predicate IN ({','.join('?' * len(predicates))})"
            args.extend(predicates)
        if pediatric_only:
            sql += " AND e.pediatric = 1"
        if kind:
            sql += " AND e.kind = ?"
            args.append(kind)
        for row in self._rows(sql + " ORDER BY e.name, f.rowid", tuple(args)):
            yield Fact(*row)

    def fact(self, fact_id: str) -> Fact | None:
        rows = self._rows("SELECT f.id, e.name, f.predicate, f.value FROM facts f JOIN entities e "
                          "ON e.id = f.entity_id WHERE f.id = ?", (fact_id,))
        return Fact(*rows[0]) if rows else None

    def has_fact(self, fact_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM facts WHERE id = ?", (fact_id,)))

    # -- search -------------------------------------------------------------------------------
    def suggest(self, text: str, limit: int = 5) -> list[str]:
        """Entity names closest to `text` (for "no match — did you mean ..."), best first."""
        from pedgpt.knowledge.suggest import closest_names

        return closest_names(self, text, limit)

    def stats(self) -> dict:
        """Counts and build facts of the index (entities, pediatric, facts, build seconds, bytes)."""
        one = lambda sql: self._rows(sql)[0][0]  # noqa: E731 - tiny local helper
        kinds = dict(self._rows("SELECT kind, COUNT(*) FROM entities GROUP BY kind"))
        size = os.path.getsize(self.path) if self.path != ":memory:" and os.path.exists(self.path) else 0
        return {
            "entities": one("SELECT COUNT(*) FROM entities"),
            "pediatric": one("SELECT COUNT(*) FROM entities WHERE pediatric = 1"),
            "pediatric_diseases": one("SELECT COUNT(*) FROM entities WHERE pediatric = 1 AND kind = 'disease'"),
            "kinds": kinds,
            "facts": one("SELECT COUNT(*) FROM facts"),
            "aliases": one("SELECT COUNT(*) FROM aliases"),
            "build_seconds": float(self._meta.get("build_seconds", 0.0)),
            "built_at": self._meta.get("built_at", ""),
            "index_bytes": size,
            "path": self.path,
            "pycmekg_version": self._meta.get("pycmekg_version", ""),
            "schema_version": int(self._meta.get("schema_version", 0)),
        }


# -- loading with rebuild-on-change ----------------------------------------------------------
def _read_only_uri(path: Path | str) -> str:
    """SQLite URI opening `path` read-only (percent-encoded, so spaces and '#' are safe)."""
    return Path(path).resolve().as_uri() + "?mode=ro"



def _expected_meta(src: Path) -> dict[str, str]:
    info = source.describe(src)
    return {"source": info.path, "pycmekg_version": info.version, "source_size": str(info.size),
            "source_mtime_ns": str(info.mtime_ns), "tables_hash": tables_hash()}


def _is_current(path: Path, expected: dict[str, str], src: Path) -> bool:
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # corrupt or foreign file: rebuild
    if meta.get("schema_version") != str(build.SCHEMA_VERSION):
        return False
    if any(meta.get(k) != expected[k] for k in ("source", "pycmekg_version", "tables_hash")):
        return False
    if meta.get("source_size") == expected["source_size"] and meta.get("source_mtime_ns") == expected["source_mtime_ns"]:
        return True
    # Touched but maybe identical (e.g. reinstalled): compare content hashes before rebuilding.
    return meta.get("source_sha256") == source.sha256(src)


def ensure_index(path: Path, src: Path) -> Path:
    """(Re)build `path` from `src` when it is missing or stale; returns `path`."""
    expected = _expected_meta(src)
    if _is_current(path, expected, src):
        return path
    graph = source.load_graph(src)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(suffix=".tmp", prefix=path.name + ".", dir=path.parent)
    os.close(handle)
    os.unlink(tmp)
    try:
        build.build_database(graph, tmp, {**expected, "source_sha256": source.sha256(src)})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_index(path: Path | str | None = None, source_path: Path | str | None = None) -> KnowledgeIndex:
    """The process-wide index, built from the installed pycmekg data on first use.

    `path` overrides the index file (default `PEDGPT_HOME/knowledge/cmekg-index.sqlite`);
    `source_path` overrides the CMeKG pickle (default: the installed package's data).
    """
    src = Path(source_path) if source_path else source.default_source()
    target = Path(path) if path else cache_dir("knowledge") / INDEX_FILE
    key = (str(target.resolve()), str(src.resolve()))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and _is_current(target, _expected_meta(src), src):
            return cached
        # A stale instance stays open for whoever still holds it: the file was replaced, not edited.
        try:
            index = KnowledgeIndex.open(ensure_index(target, src))
        except OSError as exc:
            raise InputError(f"cannot build the knowledge index at {target}: {exc}") from exc
        _CACHE[key] = index
        return index


def clear_cache() -> None:
    """Forget the process-wide instances (tests; after replacing the data package)."""
    with _LOCK:
        for index in _CACHE.values():
            index.close()
        _CACHE.clear()
