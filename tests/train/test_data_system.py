"""Training conversations carry the system message the app sends (data option system_prompt: task)."""

from __future__ import annotations

import pytest

from pedgpt.assistant import Assistant
from pedgpt.engine.base import Engine, EngineStats
from train.data.records import Example
from train.data.system import with_system_prompt


class EchoEngine(Engine):
    """Counts characters as tokens; never asked to generate here."""

    backend = "echo"

    def info(self):
        return {"model": "echo"}

    def count_tokens(self, text):
        return len(text)

    def _generate(self, messages, params, cancel):
        self.last_stats = EngineStats(finish_reason="stop")
        yield ""


def served_system(task: str, question: str) -> str:
    assistant = Assistant(EchoEngine(context_length=100_000), use_knowledge=False)
    return assistant.prepare(task, [], question).messages[0]["content"]


@pytest.mark.parametrize("task,serving,language,question", [
    ("safety", "consult", "en", "My 5 year old has a bad cough, how much codeine syrup can she have?"),
    ("safety", "consult", "zh", "3岁宝宝出水痘还发烧，布洛芬吃多少？"),
    ("treat", "medicate", "zh", "孩子2岁12公斤，发烧39度，对乙酰氨基酚吃多少？"),
    ("kqa", "consult", "zh", "6周的宝宝发烧38.5度，要紧吗？"),
])
def test_training_system_message_is_the_served_one(task, serving, language, question):
    example = Example(task=task, source="test", language=language,
                      messages=[{"role": "user", "content": question},
                                {"role": "assistant", "content": "…"}])
    trained = with_system_prompt(example, facts={}).messages
    assert trained[0]["role"] == "system" and trained[1:] == example.messages
    assert trained[0]["content"] == served_system(serving, question)


def test_contraindication_rule_and_patient_reach_the_training_prompt():
    example = Example(task="safety", source="test", language="zh",
                      messages=[{"role": "user", "content": "1岁孩子发烧，阿司匹林吃多少？"},
                                {"role": "assistant", "content": "不能给。"}])
    system = with_system_prompt(example, facts={}).messages[0]["content"]
    assert "年龄：1岁" in system and "系统安全规则" in system and "阿司匹林" in system


def test_grounded_facts_are_numbered_and_capped_like_retrieval():
    from pedgpt.assistant import FACTS_PER_TURN

    facts = {f"f{i}": f"小儿腹泻 — 常见症状: 症状{i}" for i in range(FACTS_PER_TURN + 3)}
    example = Example(task="kqa", source="test", fact_ids=tuple(facts),
                      messages=[{"role": "user", "content": "小儿腹泻有哪些症状？"},
                                {"role": "assistant", "content": "腹泻、呕吐。"}])
    system = with_system_prompt(example, facts).messages[0]["content"]
    assert f"[F{FACTS_PER_TURN}] " in system and f"[F{FACTS_PER_TURN + 1}]" not in system
