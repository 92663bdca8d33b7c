"""Retrieval on the tiny graph: entity facts, pediatric preference, symptom questions, bounds."""

from __future__ import annotations

import re

from pedgpt.knowledge import format_facts_for_prompt, retrieve
from pedgpt.knowledge.retrieval import citation_map, citations, estimate_tokens, intent_predicates


def test_intent_predicates_lead(tiny_index):
    facts = retrieve("小儿腹泻是什么原因引起的？", k=4, index=tiny_index)
    assert {f.entity for f in facts} == {"小儿腹泻"}
    assert [f.predicate for f in facts[:2]] == ["常见病因", "常见病因"]
    assert len(facts) == 4


def test_pediatric_entity_preferred(tiny_index):
    facts = retrieve("腹泻有哪些症状？", k=6, index=tiny_index)
    assert facts[0].entity == "小儿腹泻"  # pediatric form of the linked 腹泻 comes first
    assert {f.entity for f in facts} == {"小儿腹泻", "腹泻"}
    assert all(f.predicate == "常见症状" for f in facts)


def test_symptom_only_question_uses_differential(tiny_index):
    facts = retrieve("孩子发烧、咳嗽、喘得厉害", patient={"age_months": 8}, k=6, index=tiny_index)
    assert facts and facts[0].entity == "毛细支气管炎"
    assert "老年性肺炎" not in {f.entity for f in facts}


def test_no_entity_gives_nothing(tiny_index):
    assert retrieve("今天天气很好", index=tiny_index) == []
    assert "没有找到" in format_facts_for_prompt([], "zh")
    assert "no facts" in format_facts_for_prompt([], "en")


def test_bounded_in_facts_and_tokens(tiny_index):
    facts = retrieve("小儿腹泻的症状、病因、检查和治疗", k=50, max_tokens=60, index=tiny_index)
    assert facts
    assert sum(estimate_tokens(f.text) + 4 for f in facts) <= 60
    assert len(retrieve("小儿腹泻的症状", k=2, index=tiny_index)) == 2


def test_prompt_markers_map_to_fact_ids(tiny_index):
    facts = retrieve("儿童急性中耳炎有什么症状", k=3, index=tiny_index)
    block = format_facts_for_prompt(facts, "zh")
    markers = re.findall(r"^\[(F\d+)\] (.+)$", block, flags=re.M)
    mapping = citation_map(facts)
    assert [m for m, _ in markers] == list(mapping) == ["F1", "F2", "F3"]
    for marker, text in markers:
        fact = tiny_index.fact(mapping[marker])
        assert fact is not None and fact.text == text
    assert citations(facts)[0] == {"marker": "F1", "id": facts[0].id, "text": facts[0].text}


def test_intent_detection_english_and_chinese():
    assert intent_predicates("阿莫西林的用法用量")[0] == "用法用量"
    assert "不良反应" in intent_predicates("What are the side effects?")
    assert intent_predicates("你好") == []


def test_patient_object_and_out_of_range_age(tiny_index):
    class Patient:
        age_months = 900  # nonsense age must not make retrieval fail
        sex = "M"

    assert retrieve("发烧、咳嗽、喘", patient=Patient(), index=tiny_index)
