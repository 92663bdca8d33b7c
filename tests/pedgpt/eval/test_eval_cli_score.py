"""`pedgpt eval score`: file formats, JSON shape, and one-line errors."""

from __future__ import annotations

import json

import pytest

from pedgpt.cli import main
from pedgpt.eval.metrics import METRICS, corpus_scores


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "home"))


def _write_jsonl(path, texts, key="text"):
    path.write_text("".join(json.dumps({key: t}, ensure_ascii=False) + "\n" for t in texts),
                    encoding="utf-8")


def test_score_json_on_jsonl_and_plain_files(tmp_path, capsys):
    preds, refs = ["孩子发烧了，多喝水。", ""], ["孩子发烧，多喝水。", "建议就医"]
    _write_jsonl(tmp_path / "pred.jsonl", preds)
    (tmp_path / "ref.txt").write_text("\n".join(refs) + "\n", encoding="utf-8")
    assert main(["eval", "score", "--pred", str(tmp_path / "pred.jsonl"),
                 "--ref", str(tmp_path / "ref.txt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == list(METRICS)
    expected = corpus_scores(preds, refs)
    assert all(out[k] == pytest.approx(expected[k]) for k in METRICS)
    assert 0 < out["rouge-1"] < 100


def test_plain_blank_line_is_an_empty_answer(tmp_path, capsys):
    (tmp_path / "p.txt").write_text("孩子发烧\n\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("孩子发烧\n建议就医\n", encoding="utf-8")
    assert main(["eval", "score", "--pred", str(tmp_path / "p.txt"),
                 "--ref", str(tmp_path / "r.txt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rouge-1"] == pytest.approx(50.0, abs=1e-3)


def test_prediction_files_of_a_run_can_be_scored_directly(tmp_path, capsys):
    _write_jsonl(tmp_path / "run.jsonl", ["孩子发烧"], key="prediction")
    _write_jsonl(tmp_path / "ref.jsonl", ["孩子发烧"], key="reference")
    assert main(["eval", "score", "--pred", str(tmp_path / "run.jsonl"),
                 "--ref", str(tmp_path / "ref.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bleu-1"] == 100.0


def test_human_readable_output_lists_every_metric(tmp_path, capsys):
    (tmp_path / "p.txt").write_text("a\n", encoding="utf-8")
    assert main(["eval", "score", "--pred", str(tmp_path / "p.txt"),
                 "--ref", str(tmp_path / "p.txt")]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in METRICS)


@pytest.mark.parametrize("case", ["mismatch", "missing", "bad_json", "no_text"])
def test_errors_are_one_line_exit_2(tmp_path, capsys, case):
    pred, ref = tmp_path / "p.jsonl", tmp_path / "r.txt"
    _write_jsonl(pred, ["a", "b"])
    ref.write_text("a\n", encoding="utf-8")
    if case == "missing":
        ref = tmp_path / "nope.txt"
    elif case == "bad_json":
        pred.write_text('{"text": "a"}\n{oops\n', encoding="utf-8")
    elif case == "no_text":
        _write_jsonl(pred, ["a"], key="body")
    assert main(["eval", "score", "--pred", str(pred), "--ref", str(ref), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pedgpt: error:") and err.count("\n") == 1


def test_lines_split_only_at_newlines(tmp_path, capsys):
    # U+2028 and form feeds inside an answer must not split it; CRLF files work.
    (tmp_path / "p.txt").write_bytes("孩子\u2028发烧\x0c了\r\n建议就医\r\n".encode("utf-8"))
    _write_jsonl(tmp_path / "r.jsonl", ["孩子\u2028发烧\x0c了", "建议就医"])
    assert main(["eval", "score", "--pred", str(tmp_path / "p.txt"),
                 "--ref", str(tmp_path / "r.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["gleu"] == 100.0
