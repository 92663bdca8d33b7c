"""Needless-refusal DFPO pairs (train.data.benign): a harmless question in alarming words, the
grounded answer preferred over a canned refusal that the evaluation's markers recognise."""

from __future__ import annotations

import random
from dataclasses import replace

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
        assert pair["chosen"][0]["content"].endswith(answers[original[0]])
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


def test_the_system_message_is_made_for_the_framed_question_and_multi_turn_sources_are_skipped():
    multi = _kqa(7, "en")
    multi.messages = multi.messages + [{"role": "user", "content": "and then?"},
                                       {"role": "assistant", "content": "more"}]

    def with_system(example: Example) -> Example:
        asked = example.messages[0]["content"]
        return replace(example, messages=[{"role": "system", "content": f"system for: {asked}"},
                                          *example.messages])

    pairs = needless_refusal_pairs([_kqa(1, "en"), multi], 10, random.Random(2), with_system=with_system)
    assert pairs and all(p["prompt"][0]["content"] == f"system for: {p['prompt'][1]['content']}"
                         for p in pairs)
    assert all("disease 7" not in p["prompt"][-1]["content"] for p in pairs)
    # a source that already carries a system turn is not re-framed under a stale system message
    assert needless_refusal_pairs([_kqa(2, "en", system=True)], 10, random.Random(2)) == []


def test_an_emergency_rated_framing_opens_with_emergency_advice_then_answers():
    from pedgpt.assistant import turn_safety

    markers = load_markers()
    examples = [_kqa(i, language) for i in range(20) for language in ("en", "zh")]
    pairs = needless_refusal_pairs(examples, 400, random.Random(4))
    rated = {True: 0, False: 0}
    for pair in pairs:
        asked, chosen = pair["prompt"][-1]["content"], pair["chosen"][0]["content"]
        language = "en" if asked.isascii() else "zh"
        emergency = turn_safety([asked], language, lenient=True).level == "emergency"
        rated[emergency] += 1
        assert (markers.escalation(chosen) == "emergency") == emergency, chosen
        assert not markers.refuses(chosen)
    assert rated[True] and rated[False]  # the frames include both kinds


def test_sources_are_questions_the_app_answers_in_their_language_and_not_red_flags():
    mostly_chinese = Example(task="kqa", source="test", language="en", style="en", messages=[
        {"role": "user", "content": "What causes 小儿阵发性室上性心动过速?"},
        {"role": "assistant", "content": "answer"}])
    red_flag = Example(task="kqa", source="test", language="en", style="en", messages=[
        {"role": "user", "content": "My baby is having a seizure and turning blue, what do I do?"},
        {"role": "assistant", "content": "call now"}])
    dose = Example(task="treat", source="test", language="en", style="en", messages=[
        {"role": "user", "content": "How much ibuprofen can my 15 kg son take?"},
        {"role": "assistant", "content": "dose answer"}])
    pairs = needless_refusal_pairs([mostly_chinese, red_flag, dose], 40, random.Random(5))
    asked = [p["prompt"][-1]["content"] for p in pairs]
    assert asked and all("ibuprofen" in q for q in asked)


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


def test_sft_examples_are_the_framed_questions_answered_under_the_source_tasks_prompt():
    from train.data.benign import benign_sft_examples

    markers = load_markers()
    treat = Example(task="treat", source="test", language="en", style="en", messages=[
        {"role": "user", "content": "How is disease 9 treated?"},
        {"role": "assistant", "content": "treatment 9"}])
    examples = [_kqa(i, "en") for i in range(10)] + [_kqa(i, "zh") for i in range(10)] + [treat]
    seen_tasks: list[str] = []

    def with_system(example: Example) -> Example:
        seen_tasks.append(example.task)
        return replace(example, messages=[{"role": "system", "content": "sys"}, *example.messages])

    framed = benign_sft_examples(examples, 40, random.Random(6), with_system=with_system)
    assert len(framed) == 40
    assert {e.language for e in framed} == {"en", "zh"}
    assert sum(e.language == "en" for e in framed) == 20
    assert set(seen_tasks) == {"kqa", "treat"}  # the serving prompt follows the source's task
    originals = {e.messages[0]["content"]: e.answer for e in examples}
    for example in framed:
        record = example.sft_record()
        validate("sft", record)
        assert record["task"] == TASK and "benign" in record["source"]
        assert [m["role"] for m in example.messages] == ["system", "user", "assistant"]
        source = [q for q in originals if q in example.messages[1]["content"]]
        assert len(source) == 1 and example.answer.endswith(originals[source[0]])
        assert not markers.refuses(example.answer)
