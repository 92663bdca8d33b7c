"""Fact extraction: ages, temperatures, weights, vitals, fever duration, negation and history."""

from __future__ import annotations

import pytest

from pedgpt.safety import extract_patient

AGES = [
    ("6个月宝宝", 6), ("1岁半", 18), ("2岁3个月", 27), ("宝宝3周", 7 * 3 / 30.4375), ("出生10天", 10 / 30.4375),
    ("两岁半的孩子", 30), ("一岁零三个月", 15), ("11月龄", 11), ("孩子八个月了，发烧", 8),
    ("a 6-week-old", 6 * 7 / 30.4375), ("宝宝没满三个月", 2.5), ("不到2岁", 18), ("under 3 months old", 2.5),
    ("未满月宝宝", 1.0), ("發燒3天，孩子兩歲", 24), ("18 months old", 18), ("2 yo", 24), ("aged 3", 36),
    ("my 4 year old", 48), ("2y, HR 155", 24), ("7m, RR 52/min", 7), ("2y11m", 35), ("14 months, fever", 14), ("2 years and 3 months old", 27), ("10-day-old", 10 / 30.4375),
]


@pytest.mark.parametrize("text,months", AGES)
def test_safety_extract_age(text, months):
    assert extract_patient(text).age_months == pytest.approx(months, abs=0.01)


def test_safety_extract_duration_is_not_age():
    assert extract_patient("宝宝咳嗽2个月了").age_months is None
    assert extract_patient("cough for 3 months").age_months is None
    assert extract_patient("fever, see the doctor again in 2 weeks").age_months is None
    assert extract_patient("2周后复查").age_months is None
    assert extract_patient("孩子5岁，咳嗽3个月了").age_months == 60


def test_safety_extract_newborn_is_an_estimate():
    facts = extract_patient("新生儿发烧")
    assert facts.age_months is not None and facts.age_months < 1 and facts.age_estimated


TEMPS = [
    ("体温38.5度", 38.5), ("38.5℃", 38.5), ("38.5°c", 38.5), ("38.5°C", 38.5), ("101.3°F", 38.5),
    ("体温38度5", 38.5), ("三十九度五", 39.5), ("烧到40", 40.0), ("temp of 39.2", 39.2),
    ("fever of 102", 38.89), ("最高39.6，现在38", 39.6), ("３８．５度", 38.5), ("38度半", 38.5), ("体温38,5℃", 38.5),
]


@pytest.mark.parametrize("text,celsius", TEMPS)
def test_safety_extract_temperature(text, celsius):
    assert extract_patient(text).temp_c == pytest.approx(celsius, abs=0.02)


WEIGHTS = [("体重12kg", 12), ("12公斤", 12), ("24斤", 12), ("weighs 26 lb", 11.79), ("12.5 KG", 12.5),
           ("体重 15", 15)]


@pytest.mark.parametrize("text,kg", WEIGHTS)
def test_safety_extract_weight(text, kg):
    assert extract_patient(text).weight_kg == pytest.approx(kg, abs=0.01)


def test_safety_extract_mg_per_kg_is_not_a_weight():
    assert extract_patient("布洛芬10mg/kg").weight_kg is None


def test_safety_extract_vitals_and_duration():
    facts = extract_patient("呼吸60次/分，心率170，血氧93%，毛细血管再充盈时间4秒，发烧5天")
    assert (facts.resp_rate, facts.heart_rate, facts.spo2, facts.crt_s, facts.fever_days) == (60, 170, 93, 4, 5)
    en = extract_patient("RR 48, HR 150, SpO2 95% on room air, day 6 of fever")
    assert (en.resp_rate, en.heart_rate, en.spo2, en.fever_days) == (48, 150, 95, 6)
    assert extract_patient("烧了一周").fever_days == 7
    assert extract_patient("fever for a week").fever_days == 7


@pytest.mark.parametrize("text,finding", [
    ("没有抽搐", "convulsion"), ("无抽搐、皮疹、颈项强直", "neck_stiffness"), ("否认抽搐", "convulsion"),
    ("不抽了", "convulsion"), ("颈抵抗(-)", "neck_stiffness"), ("no rash, neck stiffness or seizures", "convulsion"),
    ("denies neck stiffness", "neck_stiffness"), ("she is not lethargic", "lethargy"),
    ("without grunting or retractions", "chest_indrawing"), ("nuchal rigidity: absent", "neck_stiffness"),
    ("He has not had any seizures", "convulsion"), ("she hasn't had a fit", "convulsion"),
    ("neither rash nor neck stiffness", "neck_stiffness"), ("抽搐？无", "convulsion"), ("Seizures? No.", "convulsion"),
    ("一次都没抽过", "convulsion"),
])
def test_safety_extract_negation(text, finding):
    facts = extract_patient(text)
    assert finding not in facts.findings and finding in facts.negated


@pytest.mark.parametrize("text,finding", [
    ("上次发烧抽过", "convulsion"), ("有热性惊厥史", "convulsion"), ("history of febrile seizures", "convulsion"),
    ("he had a seizure last year", "convulsion"),
])
def test_safety_extract_history(text, finding):
    facts = extract_patient(text)
    assert finding not in facts.findings and finding in facts.history


@pytest.mark.parametrize("text,finding", [
    ("发烧会不会抽搐？", "convulsion"), ("担心会抽搐", "convulsion"), ("发烧会引起抽搐吗", "convulsion"),
    ("出现抽搐时怎么办", "convulsion"), ("worried about a stiff neck", "neck_stiffness"),
    ("Can fever cause seizures?", "convulsion"), ("what should I do if he has a seizure", "convulsion"),
])
def test_safety_extract_hypothetical(text, finding):
    facts = extract_patient(text)
    assert finding not in facts.findings and finding in facts.hypothetical


@pytest.mark.parametrize("text,finding", [
    ("上次抽过，这次又抽了", "convulsion"), ("无发热但抽搐了", "convulsion"), ("不停地抽搐", "convulsion"),
    ("没多久就抽了", "convulsion"), ("no cough, but a stiff neck", "neck_stiffness"),
    ("history of febrile seizures, had another seizure today", "convulsion"),
    ("no fever and is very lethargic", "lethargy"), ("持续高热未退伴抽搐", "convulsion"), ("无缘无故抽搐", "convulsion"),
    ("宝宝毫无反应", "lethargy"), ("宝宝抽搐了会有后遗症吗", "convulsion"),
    ("I could see his ribs sucking in", "chest_indrawing"), ("even when I press on the spots they do not fade", "non_blanching_rash"),
])
def test_safety_extract_present_despite_cues(text, finding):
    assert finding in extract_patient(text).findings


def test_safety_extract_weight_plausibility():
    assert extract_patient("1岁，体重10公斤").weight_plausible is True
    assert extract_patient("1岁，体重60公斤").weight_plausible is False
    assert extract_patient("体重10公斤").weight_plausible is None


def test_safety_extract_never_raises_on_odd_text():
    for text in ("", "!!!", "12345", "°°°", "岁岁岁", "mg/kg/kg"):
        extract_patient(text)
