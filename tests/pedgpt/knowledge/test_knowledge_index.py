"""Index: build, entity/alias lookup, stable fact ids, versioned rebuild."""

from __future__ import annotations

import os
import pickle


from pedgpt.knowledge import build, fact_id
from pedgpt.knowledge.index import KnowledgeIndex, load_index

from kb_tiny_graph import TINY_GRAPH


def test_entities_kinds_and_pediatric_flag(tiny_index):
    names = {e.name: e for e in tiny_index.entities()}
    assert set(names) == set(TINY_GRAPH)
    assert names["小儿腹泻"].pediatric and names["小儿腹泻"].kind == "disease"
    assert names["新生儿黄疸"].pediatric  # by name
    assert names["儿童急性中耳炎"].pediatric  # by name and 多发群体
    assert names["毛细支气管炎"].pediatric  # by 多发群体 / 就诊科室 only
    assert not names["老年性肺炎"].pediatric
    assert names["口服补液盐III"].kind == "drug"
    pediatric = {e.name for e in tiny_index.entities(pediatric_only=True)}
    assert "老年性肺炎" not in pediatric and "小儿肺炎" in pediatric


def test_alias_resolution(tiny_index):
    assert tiny_index.entity("拉肚子").name == "腹泻"
    assert tiny_index.entity("DIARRHEA").name == "腹泻"
    assert tiny_index.entity("acute otitis media").name == "儿童急性中耳炎"
    assert tiny_index.entity("小儿急性中耳炎").name == "儿童急性中耳炎"  # pediatric prefix variant
    assert tiny_index.entity("不存在的病") is None


def test_facts_are_citable_and_stable(tiny_index, tmp_path):
    facts = tiny_index.facts("小儿腹泻", ["就诊科室", "常见症状"])
    assert facts[0].predicate == "就诊科室" and facts[0].value == "儿科"
    assert [f.value for f in facts[1:3]] == ["腹泻", "呕吐"]
    assert facts[0].text == "小儿腹泻 — 就诊科室: 儿科"
    assert facts[0].id == fact_id("小儿腹泻", "就诊科室", "儿科")
    assert tiny_index.fact(facts[0].id) == facts[0]
    again = KnowledgeIndex.from_graph(TINY_GRAPH, tmp_path / "again.sqlite")
    assert [f.id for f in again.facts("小儿腹泻")] == [f.id for f in tiny_index.facts("小儿腹泻")]
    assert tiny_index.fact("kb-000000000000") is None


def test_stats_counts(tiny_index):
    stats = tiny_index.stats()
    assert stats["entities"] == len(TINY_GRAPH)
    assert stats["facts"] == sum(len(v) for p in TINY_GRAPH.values() for v in p.values())
    assert stats["pediatric"] == 5
    assert stats["index_bytes"] > 0


def test_load_index_is_cached_and_idempotent(kb_home, tiny_pickle):
    first = load_index(source_path=tiny_pickle)
    built_at = first.meta["built_at"]
    assert load_index(source_path=tiny_pickle) is first
    from pedgpt.knowledge.index import clear_cache

    clear_cache()
    second = load_index(source_path=tiny_pickle)
    assert second is not first and second.meta["built_at"] == built_at  # reopened, not rebuilt
    assert second.path.startswith(str(kb_home / "home"))


def test_rebuild_when_source_changes(kb_home, tiny_pickle):
    first = load_index(source_path=tiny_pickle)
    assert first.entity("新病") is None
    graph = dict(TINY_GRAPH, 新病={"常见症状": ["发热"], "多发群体": ["儿童"]})
    tiny_pickle.write_bytes(pickle.dumps(graph))
    os.utime(tiny_pickle, ns=(1, 1))
    assert load_index(source_path=tiny_pickle).entity("新病").name == "新病"


def test_touched_but_identical_source_is_not_rebuilt(kb_home, tiny_pickle):
    first = load_index(source_path=tiny_pickle)
    os.utime(tiny_pickle, ns=(5, 5))
    second = load_index(source_path=tiny_pickle)
    assert second is first


def test_rebuild_on_schema_version_change(kb_home, tiny_pickle, monkeypatch):
    first = load_index(source_path=tiny_pickle)
    monkeypatch.setattr(build, "SCHEMA_VERSION", build.SCHEMA_VERSION + 1)
    second = load_index(source_path=tiny_pickle)
    assert second is not first
    assert second.stats()["schema_version"] == build.SCHEMA_VERSION


def test_rebuild_on_package_version_change(kb_home, tiny_pickle, monkeypatch):
    from pedgpt.knowledge import source

    first = load_index(source_path=tiny_pickle)
    monkeypatch.setattr(source, "package_version", lambda: "9.9.9")
    second = load_index(source_path=tiny_pickle)
    assert second is not first and second.meta["pycmekg_version"] == "9.9.9"


def test_iter_facts_bulk(tiny_index):
    symptoms = list(tiny_index.iter_facts(["常见症状"], pediatric_only=True))
    assert symptoms and all(f.predicate == "常见症状" for f in symptoms)
    assert {f.entity for f in symptoms} == {"小儿腹泻", "儿童急性中耳炎", "小儿肺炎", "毛细支气管炎"}
    drugs = list(tiny_index.iter_facts(kind="drug"))
    assert {f.entity for f in drugs} == {"口服补液盐III"}
    assert len(list(tiny_index.iter_facts())) == tiny_index.stats()["facts"]


def test_version_and_fingerprint(tiny_index, kb_home, tiny_pickle):
    assert tiny_index.version == "fixture"
    real = load_index(source_path=tiny_pickle)
    assert real.fingerprint.startswith("pycmekg-") and "schema-" in real.fingerprint
    assert real.fingerprint.endswith(real.meta["source_sha256"][:12])


def test_missing_data_package_is_a_clear_error(kb_home, monkeypatch):
    import importlib.util

    from pedgpt.errors import PedGPTError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    try:
        load_index()
    except PedGPTError as exc:
        assert "pycmekg" in str(exc)
    else:
        raise AssertionError("expected a PedGPTError")


def test_index_path_with_spaces_and_hash(tmp_path):
    folder = tmp_path / "my kb #1"
    folder.mkdir()
    index = KnowledgeIndex.from_graph(TINY_GRAPH, folder / "tiny index.sqlite")
    assert index.entity("拉肚子").name == "腹泻"
