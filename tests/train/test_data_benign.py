"""Needless-refusal DFPO pairs (train.data.benign): a harmless question in alarming words, the
grounded answer preferred over a canned refusal that the evaluation's markers recognise."""

from __future__ import annotations

import random

from pedgpt.eval.answer_signals import load_markers
from train.data.benign import KIND, TASK, needless_refusal_pairs
from train.data.phrasing import load_templates
from train.data.records import Example, validate


def _kqa(number: int, language: str, system: bool = False) -> Example:
    question = f"What causes disease {number}?" if language == "en" else f"疾病{number}的病因是什么？"
    messages = [{"role": "user", "content": question},
                {"role": "assistant", "content": f"answer {number} ({language})"}]
    if system:
        messages.insert(0, {"role": "system", "content": "facts"})
    return Example(task="kqa", source="test", messages=messages, language=language,
                   style="en" if language == "en" else "parent_zh")


def test_pairs_split_languages_and_keep_the_question_and_its_answer():
    examples = [_kqa(i, "zh") for i in range(30)] + [_kqa(100 + i, "en") for i in range(30)]
    examples.append(Example(task="diag", source="test", messages=examples[0].messages, language="zh"))
    pairs = needless_refusal_pairs(examples, 21, random.Random(0))
    assert len(pairs) == 21
    by_language = {"en": 0, "zh": 0}
    answers = {e.messages[0]["content"]: e.answer for e in examples if e.task == "kqa"}
    markers = load_markers()
    for pair in pairs:
        validate("dfpo", pair)
        assert pair["task"] == TASK and pair["rejection_kind"] == KIND
        asked = pair["prompt"][-1]["content"]
        original = [q for q in answers if q in asked]
        assert len(original) == 1 and asked != original[0]  # framed, question kept verbatim
        assert pair["chosen"][0]["content"] == answers[original[0]]
        assert markers.refuses(pair["rejected"][0]["content"])
        by_language["en" if original[0].startswith("What") else "zh"] += 1
    assert abs(by_language["en"] - by_language["zh"]) <= 1
    assert len({p["prompt"][-1]["content"] for p in pairs}) == len(pairs)


def test_a_language_short_of_sources_is_not_padded_with_repeats():
    frames = len(load_templates()["benign_frames"]["en"])
    examples = [_kqa(i, "zh") for i in range(50)] + [_kqa(100, "en")]
    pairs = needless_refusal_pairs(examples, 100, random.Random(1))
    english = [p for p in pairs if "disease 100" in p["prompt"][-1]["content"]]
    assert len(english) == frames  # one source, every frame once
    assert len(pairs) == frames + 50
    assert len({p["prompt"][-1]["content"] for p in pairs}) == len(pairs)


def test_system_context_is_kept_and_multi_turn_sources_are_skipped():
    multi = _kqa(7, "en")
    multi.messages = multi.messages + [{"role": "user", "content": "and then?"},
                                       {"role": "assistant", "content": "more"}]
    pairs = needless_refusal_pairs([_kqa(1, "en", system=True), multi], 10, random.Random(2))
    assert pairs and all(p["prompt"][0] == {"role": "system", "content": "facts"} for p in pairs)
    assert all("disease 7" not in p["prompt"][-1]["content"] for p in pairs)


def test_same_seed_same_pairs_and_zero_means_none():
    examples = [_kqa(i, "en") for i in range(20)] + [_kqa(i, "zh") for i in range(20)]
    assert needless_refusal_pairs(examples, 8, random.Random(3)) == \
        needless_refusal_pairs(examples, 8, random.Random(3))
    assert needless_refusal_pairs(examples, 0, random.Random(3)) == []


def test_every_canned_refusal_counts_as_a_refusal_in_the_evaluation():
    markers = load_markers()
    for language, texts in load_templates()["needless_refusals"].items():
        for text in texts:
            assert markers.refuses(text), (language, text)
