"""Retrieval quality on the real CMeKG index: precision@5 over the evaluation set
(`retrieval_eval.jsonl`, see `kb_retrieval_eval.py`), and no adult or surgical detours.

Marked `slow`: builds the real index in a temporary home (~30 s) unless one is cached there.
"""

from __future__ import annotations

import pytest

from pedgpt.knowledge import load_index, retrieve
from pedgpt.knowledge.intent import adult_only

from kb_retrieval_eval import evaluate, load_cases

pytestmark = pytest.mark.slow

#: precision@5 measured 0.66 with this retrieval (0.46 before); a drop below this is a regression.
MIN_PRECISION = 0.6


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    return load_index(path=tmp_path_factory.mktemp("real-kb-eval") / "cmekg.sqlite")


def test_eval_set_is_large_and_well_formed():
    cases = load_cases()
    assert len(cases) >= 40
    assert any(c["q"].isascii() for c in cases) and any(not c["q"].isascii() for c in cases)
    assert all(c["entities"] and isinstance(c["predicates"], list) for c in cases)


def test_precision_at_5(real_index):
    result = evaluate(retrieve, real_index)
    assert result["precision"] >= MIN_PRECISION, result["precision"]


@pytest.mark.parametrize("question, age, banned", [
    ("我家宝宝1岁半，发烧38.8度，精神还可以，需要马上去医院吗？", 18, "术后"),
    ("My 2 year old has a fever and runny nose", 24, "脑膜炎"),
])
def test_symptom_questions_lead_with_common_pediatric_content(real_index, question, age, banned):
    facts = retrieve(question, patient={"age_months": age}, index=real_index)
    assert facts and not any(banned in f.entity for f in facts[:3])
    assert all(real_index.entity(f.entity).pediatric for f in facts[:3])


def test_drug_contraindication_question(real_index):
    facts = retrieve("布洛芬的禁忌是什么", patient={"age_months": 36}, index=real_index)
    assert facts[0].predicate == "禁忌" and "布洛芬" in facts[0].entity
    assert not any(f.predicate == "用法用量" and adult_only(f.value) for f in facts)
