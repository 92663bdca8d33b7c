"""`kb search` and `kb stats` logic (kept out of the CLI module so the app can reuse it).

    from pedgpt.knowledge.search import search
    search("小儿急性中耳炎")   # {"query", "entities": [{"name", "aliases", "pediatric", "kind", "facts": [...]}]}
"""

from __future__ import annotations

import statistics
import time

from pedgpt.errors import InputError
from pedgpt.knowledge.retrieval import DEFAULT_PREDICATES

#: Queries up to this long that are not an exact name or alias also get "did you mean" names.
SUGGEST_MAX_CHARS = 12
#: Runs per query kind when measuring latency.
LATENCY_RUNS = 5


def _ordered_facts(index, name: str, kind: str, limit: int) -> list[dict]:
    facts = index.facts(name)
    first = DEFAULT_PREDICATES.get(kind, ())
    rank = {p: i for i, p in enumerate(first)}
    facts.sort(key=lambda f: rank.get(f.predicate, len(rank)))  # stable: source order within
    return [{"id": f.id, "predicate": f.predicate, "value": f.value} for f in facts[:limit]]


def matching_entities(index, text: str, max_entities: int) -> list[str]:
    """The entity the whole text names, else the entities linked in it (pediatric forms first)."""
    from pedgpt.knowledge.linking import link_entities
    from pedgpt.knowledge.retrieval import pediatric_first

    whole = index.resolve(text)
    if whole:
        return pediatric_first(index, [whole])[:max_entities]
    linked = [item.name for item in link_entities(text, index) if item.kind != "symptom"]
    return pediatric_first(index, linked)[:max_entities]


def search(text: str, facts_per_entity: int = 40, max_entities: int = 5, index=None) -> dict:
    """Entities named in `text` with their facts; `InputError` with suggestions when none."""
    from pedgpt.knowledge.index import load_index
    from pedgpt.knowledge.linking import link_entities

    text = (text or "").strip()
    if not text:
        raise InputError("empty search text")
    index = index or load_index()
    names = matching_entities(index, text, max_entities)
    if not names:
        near = index.suggest(text, limit=5)
        message = (f"no match for {text!r} in the knowledge base; closest entries: "
                   + ("、".join(near) if near else "none"))
        symptoms = [item.name for item in link_entities(text, index) if item.kind == "symptom"]
        if symptoms:
            message += (f" ({'、'.join(symptoms)} is a symptom, not an entry: try "
                        f"pedgpt kb differential --symptoms {','.join(symptoms)})")
        raise InputError(message)
    entities = []
    for name in names:
        entity = index.entity(name)
        entities.append({**entity.to_dict(), "facts": _ordered_facts(index, name, entity.kind, facts_per_entity)})
    result = {"query": text, "entities": entities}
    if index.resolve(text) is None and len(text) <= SUGGEST_MAX_CHARS:
        # A short query that only partly matched may be a misspelt name (手足口炎 → 口炎, but
        # 手足口病 was meant): offer the closest whole names too.
        result["suggestions"] = [n for n in index.suggest(text, limit=5) if n not in names]
    return result


def _median_ms(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def stats_with_latency(runs: int = LATENCY_RUNS) -> dict:
    """`KnowledgeIndex.stats()` plus measured open time, warm-up and per-query latency (ms)."""
    from pedgpt.knowledge.ddx import differential
    from pedgpt.knowledge.index import KnowledgeIndex, load_index
    from pedgpt.knowledge.linking import link_entities
    from pedgpt.knowledge.retrieval import retrieve

    index = load_index()
    started = time.perf_counter()
    KnowledgeIndex.open(index.path).close()
    open_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    link_entities("小儿腹泻", index)
    differential(["发热"], index=index)
    warmup_ms = (time.perf_counter() - started) * 1000
    latency = {
        "search": _median_ms(lambda: search("小儿急性中耳炎", index=index), runs),
        "link": _median_ms(lambda: link_entities("孩子拉肚子两天，还发烧，精神不好", index), runs),
        "retrieve": _median_ms(lambda: retrieve("小儿腹泻怎么治疗？", index=index), runs),
        "differential": _median_ms(lambda: differential(["发热", "咳嗽", "喘息"], age_months=10, index=index), runs),
    }
    return {**index.stats(), "open_ms": round(open_ms, 2), "warmup_ms": round(warmup_ms, 1),
            "latency_ms": {k: round(v, 2) for k, v in latency.items()}, "latency_runs": runs}
