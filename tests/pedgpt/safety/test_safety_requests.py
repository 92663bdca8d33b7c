"""Contraindicated drugs named in the question, found before the model answers."""

from __future__ import annotations

import pytest

from pedgpt.safety import blocked_requests


def rule_ids(text, **kwargs):
    return [b.rule_id for b in blocked_requests(text, **kwargs)]


@pytest.mark.parametrize("text,language,expected", [
    ("孩子2岁，感冒发烧，阿司匹林泡腾片能吃半片吗？", "zh", "CI-1"),
    ("Can my 6 year old take codeine linctus for his cough at night?", "en", "CI-2-codeine"),
    ("女儿7岁，拔牙后很疼，曲马多一次吃几片？", "zh", "CI-2-tramadol"),
    ("My 4 year old has chickenpox and a temperature, is ibuprofen okay?", "en", "CI-4-chickenpox"),
    ("15个月的宝宝腹泻一天了，蒙脱石不管用，洛哌丁胺吃多少？", "zh", "CI-5-loperamide"),
])
def test_forbidden_drug_for_the_child_in_the_question(text, language, expected):
    found = blocked_requests(text, language=language)
    assert expected in [b.rule_id for b in found]
    first = next(b for b in found if b.rule_id == expected)
    assert first.rule and first.source and first.drug
    # the rule is given in the question's language
    assert (any("\u4e00" <= ch <= "\u9fff" for ch in first.rule)) == (language == "zh")


@pytest.mark.parametrize("text,kwargs", [
    ("宝宝3岁发烧39度，布洛芬一次吃多少？", {}),
    ("My 8 year old has a fever of 38.9, how much paracetamol can I give?", {}),
    ("孩子咳嗽有痰，怎么护理？", {}),
    # tramadol's bound is 12 years: a 14-year-old without tonsillectomy is not blocked
    ("14岁孩子扭伤了脚，曲马多可以吃吗？", {}),
])
def test_allowed_requests_are_not_blocked(text, kwargs):
    assert rule_ids(text, **kwargs) == []


def test_patient_card_values_win_over_the_text():
    # the card says 20 years old is impossible in a pediatric service; 17 years: aspirin allowed
    assert rule_ids("阿司匹林可以吃吗？", age_months=204) == []
    assert rule_ids("阿司匹林可以吃吗？", age_months=24) == ["CI-1"]


def test_conditions_from_the_card_count():
    assert rule_ids("布洛芬退烧吃多少？", age_months=48, conditions=["chickenpox"]) == ["CI-4-chickenpox"]
    assert rule_ids("布洛芬退烧吃多少？", age_months=48) == []


def test_each_rule_listed_once_even_when_named_twice():
    ids = rule_ids("1岁宝宝能吃阿司匹林吗？阿司匹林一次多少？")
    assert ids == ["CI-1"]
