"""Fixtures of the knowledge tests: a tiny hand-made CMeKG-shaped graph and its index."""

from __future__ import annotations

import pickle

import pytest

from pedgpt.knowledge.index import KnowledgeIndex, clear_cache

from kb_tiny_graph import TINY_GRAPH


@pytest.fixture
def kb_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "home"))
    clear_cache()
    yield tmp_path
    clear_cache()


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory) -> KnowledgeIndex:
    return KnowledgeIndex.from_graph(TINY_GRAPH, tmp_path_factory.mktemp("kb") / "tiny.sqlite")


@pytest.fixture
def tiny_pickle(tmp_path):
    path = tmp_path / "cmekg.pkl"
    path.write_bytes(pickle.dumps(TINY_GRAPH))
    return path
