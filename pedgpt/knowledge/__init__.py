"""Pediatric knowledge base from CMeKG: cited facts for grounded answers and a deterministic differential.

    from pedgpt.knowledge import load_index, link_entities, retrieve, differential
    index = load_index()                               # SQLite+FTS5 index under PEDGPT_HOME
    index.facts("小儿腹泻", ["常见症状"])               # -> [Fact(id="kb-…", ...), ...]
    link_entities("孩子拉肚子还发烧")                   # -> 腹泻 (colloquial), 发热
    retrieve("小儿腹泻怎么治疗？", k=8)                 # -> facts, pediatric entities first
    differential(["发热", "咳嗽", "喘息"], age_months=10)

Command line: `pedgpt kb search TEXT`, `pedgpt kb differential --symptoms S1,S2`, `pedgpt kb stats`.
Data: CMeKG via the `pycmekg` package (MIT); see `ATTRIBUTION`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pedgpt.knowledge.model import Candidate, Entity, Fact, LinkedEntity, fact_id

#: Attribution of the knowledge source, for the app's About text and the README.
ATTRIBUTION = (
    "Medical knowledge: CMeKG (Chinese Medical Knowledge Graph, 中文医学知识图谱), "
    "Peking University Institute of Computational Linguistics, Zhengzhou University and Peng Cheng "
    "Laboratory; data as packaged in pycmekg 0.2.5 (https://github.com/king-yyf/PyCMeKG), MIT License, "
    "Copyright (c) 2018-2019 cmekg authors. Facts are shown as found in the graph and are not "
    "clinical advice."
)

if TYPE_CHECKING:
    from pedgpt.knowledge.index import KnowledgeIndex

__all__ = [
    "ATTRIBUTION", "Candidate", "Entity", "Fact", "KnowledgeIndex", "LinkedEntity", "differential",
    "fact_id", "format_facts_for_prompt", "link_entities", "load_index", "retrieve", "warm_up",
]

# Heavy parts (sqlite build, jieba) load on first use so `import pedgpt.knowledge` stays instant.
_LAZY = {
    "load_index": "pedgpt.knowledge.index",
    "KnowledgeIndex": "pedgpt.knowledge.index",
    "link_entities": "pedgpt.knowledge.linking",
    "warm_up": "pedgpt.knowledge.linking",
    "retrieve": "pedgpt.knowledge.retrieval",
    "format_facts_for_prompt": "pedgpt.knowledge.retrieval",
    "differential": "pedgpt.knowledge.ddx",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pedgpt.knowledge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
