"""`pedgpt kb` on the tiny graph (the CLI builds its index from a patched source)."""

from __future__ import annotations

import json

import pytest

from pedgpt.cli import main
from pedgpt.knowledge import source


@pytest.fixture
def tiny_cli(kb_home, tiny_pickle, monkeypatch):
    monkeypatch.setattr(source, "default_source", lambda: tiny_pickle)
    return kb_home


def _json(capsys):
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    return json.loads(out)


def test_search_json(tiny_cli, capsys):
    assert main(["kb", "search", "小儿急性中耳炎", "--json"]) == 0
    data = _json(capsys)
    entity = data["entities"][0]
    assert entity["name"] == "儿童急性中耳炎" and entity["pediatric"] is True
    predicates = {f["predicate"] for f in entity["facts"]}
    assert {"常见症状", "常见病因", "就诊科室"} <= predicates
    assert all(f["id"].startswith("kb-") for f in entity["facts"])


def test_search_text_and_free_text(tiny_cli, capsys):
    assert main(["kb", "search", "孩子拉肚子怎么办"]) == 0
    out = capsys.readouterr().out
    assert out.index("小儿腹泻") < out.index("腹泻 (")  # pediatric form first
    assert "常见症状: 腹泻" in out


def test_search_unknown_exits_2_with_suggestions(tiny_cli, capsys):
    assert main(["kb", "search", "小儿急性腹痛炎"]) == 2
    err = capsys.readouterr().err
    assert "no match" in err and "小儿" in err and "closest" in err
    assert "Traceback" not in err


def test_search_symptom_points_to_differential(tiny_cli, capsys):
    assert main(["kb", "search", "发烧"]) == 2
    assert "kb differential --symptoms 发热" in capsys.readouterr().err


def test_differential_json(tiny_cli, capsys):
    assert main(["kb", "differential", "--symptoms", "发热,咳嗽,喘息", "--age-months", "8", "--json"]) == 0
    data = _json(capsys)
    first = data["candidates"][0]
    assert first["name"] == "毛细支气管炎"
    assert set(first) >= {"name", "score", "matched", "unmatched", "examinations", "department", "facts"}
    assert data["unrecognised"] == []


def test_differential_text_and_errors(tiny_cli, capsys):
    assert main(["kb", "differential", "--symptoms", "黄疸,嗜睡", "--age-months", "0.5"]) == 0
    assert " 1. 新生儿黄疸" in capsys.readouterr().out
    assert main(["kb", "differential", "--symptoms", "喵喵叫"]) == 2
    assert "no match" in capsys.readouterr().err
    for bad in (["--age-months", "abc"], ["--sex", "X"]):
        with pytest.raises(SystemExit) as exc:
            main(["kb", "differential", "--symptoms", "发热", *bad])
        assert exc.value.code == 2
    assert main(["kb", "differential", "--symptoms", "发热", "--age-months", "900"]) == 2


def test_stats(tiny_cli, capsys):
    assert main(["kb", "stats", "--json"]) == 0
    data = _json(capsys)
    assert data["entities"] == 8 and data["facts"] > 0 and data["index_bytes"] > 0
    assert set(data["latency_ms"]) == {"search", "link", "retrieve", "differential"}
    assert main(["kb", "stats"]) == 0
    out = capsys.readouterr().out
    assert "index build time" in out and "index size" in out and "latency" in out


def test_search_partial_match_offers_suggestions(tiny_cli, capsys):
    assert main(["kb", "search", "小儿腹泻病", "--json"]) == 0
    data = _json(capsys)
    assert [e["name"] for e in data["entities"]] == ["小儿腹泻"]
    assert "小儿腹泻" not in data["suggestions"] and data["suggestions"]
    assert main(["kb", "search", "儿童急性耳炎"]) == 2
    assert "closest entries: 儿童急性中耳炎" in capsys.readouterr().err
