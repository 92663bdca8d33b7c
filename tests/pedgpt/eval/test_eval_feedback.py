"""`pedgpt eval feedback` on a real SQLite app database: per-model summary and DFPO pairs."""

from __future__ import annotations

import json

import pytest

from pedgpt.cli import main
from pedgpt.eval.feedback import preference_pairs


@pytest.fixture
def db_url(tmp_path):
    from pedgpt.storage import ConsultationStore, UserStore, open_database

    url = f"sqlite:///{tmp_path / 'app.db'}"
    db = open_database(url)
    users, store = UserStore(db), ConsultationStore(db)
    doc = users.add("doctor", "correct horse battery staple")
    cid = store.create(doc.id, "medicate").id
    store.add_user_message(doc.id, cid, "2岁12公斤，布洛芬吃多少？")
    bad = store.add_assistant_message(doc.id, cid, "每次500毫克。", model="base-0.5b")
    store.add_feedback(doc.id, bad, "down", "剂量错误", "每次按5–10 mg/kg，约60–120毫克，间隔6–8小时。")
    store.add_user_message(doc.id, cid, "可以和对乙酰氨基酚一起吃吗？")
    good = store.add_assistant_message(doc.id, cid, "不建议同时服用。", model="sft-0.5b")
    store.add_feedback(doc.id, good, "up")
    other = store.create(doc.id, "consult").id
    store.add_user_message(doc.id, other, "孩子咳嗽怎么办？")
    meh = store.add_assistant_message(doc.id, other, "多喝水。", model="base-0.5b")
    store.add_feedback(doc.id, meh, "down", "不完整")
    db.dispose()
    return url


def test_feedback_summary_and_dfpo_export(db_url, tmp_path, capsys):
    out = tmp_path / "fb"
    assert main(["eval", "feedback", "--db", db_url, "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    base = summary["models"]["base-0.5b"]
    assert (base["total"], base["up"], base["down"], base["corrected"]) == (2, 0, 2, 1)
    assert base["reasons"] == {"剂量错误": 1, "不完整": 1}
    assert summary["models"]["sft-0.5b"]["up_rate"] == 100.0
    pairs = [json.loads(line) for line in (out / "dfpo_pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(pairs) == summary["pairs"] == 1
    pair = pairs[0]
    assert set(pair) == {"prompt", "chosen", "rejected", "task", "rejection_kind"}
    assert pair["prompt"] == [{"role": "user", "content": "2岁12公斤，布洛芬吃多少？"}]
    assert pair["chosen"][0]["content"].startswith("每次按5–10 mg/kg")
    assert pair["rejected"] == [{"role": "assistant", "content": "每次500毫克。"}]
    assert pair["task"] == "treat"
    assert "base-0.5b" in (out / "feedback.md").read_text(encoding="utf-8")


def test_human_readable_output(db_url, capsys):
    assert main(["eval", "feedback", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "sft-0.5b" in out and "3 rated answers; 1 DFPO preference pairs" in out


def test_pairs_need_a_question_and_a_real_correction():
    records = [{"context": [], "answer": "a", "corrected_answer": "b", "task": "consult"},
               {"context": [{"role": "user", "content": "q"}], "answer": "a",
                "corrected_answer": "a", "task": "consult"},
               {"context": [{"role": "user", "content": "q"}], "answer": "a",
                "corrected_answer": None, "task": "consult"}]
    assert preference_pairs(records) == []


def test_missing_database_is_a_clear_error(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["eval", "feedback", "--db", url]) == 2
    assert "no PedGPT app database" in capsys.readouterr().err
