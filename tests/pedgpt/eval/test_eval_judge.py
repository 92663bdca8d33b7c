"""Pairwise judge with scripted judges: verdict parsing, position-bias cancellation, tie rules."""

from __future__ import annotations

import json
import re
import threading

import pytest

from pedgpt.engine.base import Engine, EngineStats
from pedgpt.errors import InputError
from pedgpt.eval.judge import JudgeConfig, combine, judge_messages, parse_verdict, run_judge


class ScriptedJudge(Engine):
    """Test double: `decide(answer_1, answer_2)` → reply text."""

    backend = "scripted-judge"

    def __init__(self, decide):
        super().__init__()
        self.decide, self.prompts = decide, []

    def info(self):
        return {"model": "scripted-judge", "backend": self.backend}

    def count_tokens(self, text):
        return len(text)

    def _generate(self, messages, params, cancel: threading.Event):
        user = messages[-1]["content"]
        self.prompts.append(messages)
        one = re.search(r"(?:【回答1】|\[Answer 1\])\n(.*?)\n\n", user, re.S).group(1)
        two = re.search(r"(?:【回答2】|\[Answer 2\])\n(.*?)\n\n", user, re.S).group(1)
        self.last_stats = EngineStats(finish_reason="stop")
        yield self.decide(one, two)


def fair(one, two):
    """Prefers the answer that says GOOD, wherever it is shown."""
    if ("GOOD" in one) == ("GOOD" in two):
        return '{"winner": "tie", "reason": "same"}'
    return json.dumps({"winner": "1" if "GOOD" in one else "2", "reason": "better"})


def always_first(one, two):
    return '{"winner": "1", "reason": "first is best"}'


@pytest.fixture
def runs(tmp_path):
    def write(name, answers, language="zh"):
        folder = tmp_path / name / "predictions"
        folder.mkdir(parents=True)
        with (folder / "kqa.jsonl").open("w", encoding="utf-8") as handle:
            for n, answer in enumerate(answers):
                handle.write(json.dumps({"id": f"q{n}", "task": "kqa", "language": language,
                                         "question": f"问题{n}", "prediction": answer},
                                        ensure_ascii=False) + "\n")
        return tmp_path / name

    a = write("a", ["GOOD 答案", "普通答案", "GOOD 好", "答案"])
    b = write("b", ["普通答案", "GOOD 答案", "GOOD 也好", "答案"])
    return a, b


@pytest.mark.parametrize("reply,verdict", [
    ('{"winner": "1", "reason": "x"}', "1"),
    ('好的。\n{"winner": "2", "reason": "回答2更准确"}', "2"),
    ('{"winner": "tie"}', "tie"),
    ('{"winner": "平局"}', "tie"),
    ('winner: 2', "2"),
    ("I like both.", None),
    ("", None),
])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


@pytest.mark.parametrize("first,second,outcome", [
    ("1", "2", "win"),     # A shown first wins; A shown second wins
    ("2", "1", "loss"),
    ("1", "1", "tie"),     # the judge just picks the first position: cancelled
    ("2", "2", "tie"),
    ("1", "tie", "tie"),
    ("tie", "tie", "tie"),
    (None, "2", "tie"),
])
def test_combine_tie_rules(first, second, outcome):
    assert combine(first, second) == outcome


def test_fair_judge_counts_wins_losses_and_ties(runs, tmp_path):
    a, b = runs
    summary = run_judge(JudgeConfig(a=a, b=b, out=tmp_path / "j", tasks=("kqa",)),
                        engine=ScriptedJudge(fair))
    row = summary["tasks"]["kqa"]
    assert (row["win"], row["tie"], row["loss"]) == (1, 2, 1)
    assert row["win_rate"] == 25.0 and row["position_consistency"] == 100.0
    report = (tmp_path / "j" / "judge.md").read_text(encoding="utf-8")
    assert "76 / 66 / 66" in report and (tmp_path / "j" / "charts" / "judge.png").is_file()


def test_position_biased_judge_yields_only_ties(runs, tmp_path):
    a, b = runs
    judge = ScriptedJudge(always_first)
    summary = run_judge(JudgeConfig(a=a, b=b, out=tmp_path / "j", tasks=("kqa",)), engine=judge)
    row = summary["tasks"]["kqa"]
    assert row["tie"] == 4 and row["win"] == row["loss"] == 0
    assert row["position_consistency"] == 0.0
    assert len(judge.prompts) == 8  # both orders for every pair


def test_resume_and_limit(runs, tmp_path):
    a, b = runs
    out = tmp_path / "j"
    run_judge(JudgeConfig(a=a, b=b, out=out, tasks=("kqa",), limit=2), engine=ScriptedJudge(fair))
    judge = ScriptedJudge(fair)
    summary = run_judge(JudgeConfig(a=a, b=b, out=out, tasks=("kqa",)), engine=judge)
    assert len(judge.prompts) == 4 and summary["tasks"]["kqa"]["n"] == 4


def test_judge_prompt_carries_criteria_context_and_language():
    conversation = [{"role": "user", "content": "医生你好"}, {"role": "assistant", "content": "请讲"},
                    {"role": "user", "content": "孩子咳嗽"}]
    zh = judge_messages(conversation, "甲", "乙", "zh")
    assert "有用性" in zh[0]["content"] and "一致性" in zh[0]["content"]
    assert "医生：请讲" in zh[1]["content"] and "【回答1】\n甲" in zh[1]["content"]
    en = judge_messages([{"role": "user", "content": "cough?"}], "x", "", "en")
    assert "smoothness" in en[0]["content"] and "[Answer 2]\n（空）" in en[1]["content"]


def test_missing_run_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="pedgpt eval run"):
        JudgeConfig(a=tmp_path / "nope", b=tmp_path / "nope", out=tmp_path / "j")


def test_cli_judge_with_the_tiny_transformers_model(runs, tmp_path, tiny_model_dir, capsys):
    from pedgpt.cli import main

    a, b = runs
    code = main(["eval", "judge", "--a", str(a), "--b", str(b), "--tasks", "kqa", "--limit", "1",
                 "--judge-model", str(tiny_model_dir), "--judge-backend", "transformers",
                 "--out", str(tmp_path / "j"), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tasks"]["kqa"]["n"] == 1  # a random model's reply is unreadable → a tie
    assert summary["tasks"]["kqa"]["tie"] + summary["tasks"]["kqa"]["win"] + \
        summary["tasks"]["kqa"]["loss"] == 1
