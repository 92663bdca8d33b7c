"""Triage: vignettes (zh + en) from the reference tables, overrides, advice, recall targets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from triage_vignettes import MORE_VIGNETTES, VIGNETTES  # noqa: E402

from pedgpt.errors import InputError  # noqa: E402
from pedgpt.safety import assess  # noqa: E402


@pytest.mark.parametrize("text,kwargs,level,flags", VIGNETTES, ids=[v[0][:40] for v in VIGNETTES])
def test_safety_triage_vignette(text, kwargs, level, flags):
    result = assess(text, **kwargs)
    assert result.level == level, (result.level, result.flag_ids, result.facts)
    for flag in flags:
        assert flag in result.flag_ids


@pytest.mark.parametrize("text,level", MORE_VIGNETTES, ids=[v[0][:40] for v in MORE_VIGNETTES])
def test_safety_triage_more_vignettes(text, level):
    result = assess(text)
    assert result.level == level, (result.level, result.flag_ids, result.facts)


def test_safety_triage_targets_on_the_vignette_set():
    emergencies = [v for v in VIGNETTES if v[2] == "emergency"]
    routines = [v for v in VIGNETTES if v[2] == "routine"]
    assert len(VIGNETTES) >= 60 and len(emergencies) >= 20 and len(routines) >= 15
    recall = sum(assess(t, **kw).level == "emergency" for t, kw, _, _ in emergencies) / len(emergencies)
    over = sum(assess(t, **kw).level != "routine" for t, kw, _, _ in routines) / len(routines)
    assert recall == 1.0
    assert over <= 0.10


def test_safety_triage_languages_in_vignettes():
    zh = sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t, *_ in VIGNETTES)
    assert zh >= 30 and len(VIGNETTES) - zh >= 30


def test_safety_triage_explicit_arguments_override_text():
    assert assess("宝宝6个月，发烧38.5度").level == "routine"
    assert assess("宝宝6个月，发烧38.5度", age_months=2).level == "emergency"
    assert assess("2-year-old with fever", temp_c=38.4).facts.temp_c == 38.4
    assert assess("4-month-old, fever", temp_c=39.1).level == "urgent"


def test_safety_triage_advice_language_and_emergency_number():
    zh = assess("孩子抽搐了")
    en = assess("my child is having a seizure")
    assert zh.language == "zh" and "120" in zh.advice
    assert en.language == "en" and "local emergency number" in en.advice
    assert assess("孩子抽搐了", language="en").language == "en"


def test_safety_triage_routine_has_safety_net():
    result = assess("3岁，发烧38.5度，精神好")
    assert result.level == "routine"
    assert "不褪色" in result.advice and "5天" in result.advice
    en = assess("3 year old, fever 38.5, playing")
    assert "5 days" in en.advice and "fit" in en.advice


def test_safety_triage_young_infant_gets_no_drug_advice():
    result = assess("2个月宝宝发烧38.5度")
    assert "不要自行使用退烧药" in result.advice


def test_safety_triage_to_dict_shape():
    data = assess("2岁，呼吸70次/分").to_dict()
    assert set(data) >= {"level", "flags", "advice", "language"}
    assert data["flags"] and set(data["flags"][0]) >= {"id", "text", "source"}
    assert data["facts"]["resp_rate"] == 70


def test_safety_triage_every_flag_is_sourced():
    result = assess("3周宝宝，38.5度，吃奶差，嘴唇发紫，抽搐，呼吸70次/分")
    assert result.level == "emergency"
    assert all(f.source and f.tag in ("V", "R") for f in result.flags)
    assert result.flags[0].level == "emergency"


def test_safety_triage_rejects_empty_and_out_of_range():
    with pytest.raises(InputError):
        assess("   ")
    with pytest.raises(InputError):
        assess("fever", age_months=300)
    with pytest.raises(InputError):
        assess("fever", temp_c=60)
    with pytest.raises(InputError):
        assess("fever", language="fr")


def test_safety_triage_implausible_weight_is_flagged_in_advice():
    result = assess("1岁，体重60公斤，发烧38度")
    assert result.facts.weight_plausible is False
    assert "体重" in result.advice


def test_safety_triage_parent_mode_hides_unverified_thresholds():
    clinician = assess("3周宝宝，腋温37.6度")
    parent = assess("3周宝宝，腋温37.6度", mode="parent")
    assert clinician.level == parent.level == "emergency"
    r_clin = [f for f in clinician.flags if f.tag == "R"]
    r_par = [f for f in parent.flags if f.tag == "R"]
    assert r_clin and "37.5" in r_clin[0].text
    assert r_par and "37.5" not in r_par[0].text


def test_safety_triage_dehydration_signs_count_only_with_gut_losses():
    assert assess("3岁，发烧，有点烦躁，口渴").level == "routine"
    assert assess("3岁，腹泻，有点烦躁，口渴").level == "urgent"
