"""Dose calculator: names, boundaries, caps, floors, regimens, every contraindication, properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pedgpt.errors import InputError
from pedgpt.safety import calculate, tables
from pedgpt.safety.growth import weight_range


@pytest.mark.parametrize("name", ["paracetamol", "Acetaminophen", "对乙酰氨基酚", "扑热息痛", "泰诺林", "百服宁",
                                  "Tylenol", "Calpol", "Panadol", "APAP"])
def test_safety_dose_paracetamol_names(name):
    assert calculate(name, 12, 24).drug == "paracetamol"


@pytest.mark.parametrize("name", ["ibuprofen", "布洛芬", "美林", "Motrin", "Advil", "Nurofen", "芬必得"])
def test_safety_dose_ibuprofen_names(name):
    assert calculate(name, 12, 24).drug == "ibuprofen"


def test_safety_dose_tylenol_cold_is_not_plain_paracetamol():
    assert tables.resolve_drug("泰诺").id == "cold_combination_paracetamol"
    assert tables.resolve_drug("泰诺林").id == "paracetamol"


def test_safety_dose_paracetamol_reference_values():
    a = calculate("paracetamol", 12, 24)
    assert a.allowed and a.per_dose_mg == {"min": 120.0, "max": 180.0}
    assert (a.interval_hours_min, a.max_doses_per_24h, a.max_daily_mg) == (4, 4, 720)
    assert a.sources and any("WHO" in s for s in a.sources)


def test_safety_dose_paracetamol_caps():
    a = calculate("paracetamol", 80, 200)
    assert a.per_dose_mg["max"] == 1000 and a.max_daily_mg == 4000
    b = calculate("paracetamol", 66.7, 180)
    assert b.per_dose_mg["max"] == 1000


@pytest.mark.parametrize("age,allowed", [(2.9, False), (3.0, True)])
def test_safety_dose_paracetamol_age_floor(age, allowed):
    a = calculate("paracetamol", 5.5, age)
    assert a.allowed is allowed
    if not allowed:
        assert "3" in a.reason and a.per_dose_mg is None


@pytest.mark.parametrize("weight,allowed", [(4.9, False), (5.0, True)])
def test_safety_dose_ibuprofen_weight_floor(weight, allowed):
    assert calculate("ibuprofen", weight, 4).allowed is allowed


def test_safety_dose_ibuprofen_age_floor_and_young_warning():
    assert not calculate("布洛芬", 5.5, 2.5).allowed
    a = calculate("ibuprofen", 6.5, 4)
    assert a.allowed and any("6 months" in w for w in a.warnings)


def test_safety_dose_ibuprofen_clinician_and_parent():
    c = calculate("ibuprofen", 12, 24)
    assert c.per_dose_mg == {"min": 60.0, "max": 120.0} and c.interval_hours_min == 6
    assert c.max_daily_mg == 360 and c.max_doses_per_24h == 3 and c.tags["max_daily_per_kg"] == "V"
    p = calculate("ibuprofen", 12, 24, mode="parent")
    assert p.max_daily_mg == 360 and p.max_doses_per_24h == 3
    assert set(p.tags.values()) == {"V"}
    big = calculate("ibuprofen", 70, 200)
    assert big.per_dose_mg["max"] == 400 and big.max_daily_mg == 2100


def test_safety_dose_amoxicillin_regimens():
    pneu = calculate("amoxicillin", 12, 24, indication="肺炎")
    assert pneu.regimen == "amoxicillin_pneumonia" and pneu.per_dose_mg == {"min": 480.0, "max": 480.0}
    assert pneu.max_doses_per_24h == 2 and pneu.max_daily_mg == 960
    aom = calculate("阿莫西林", 12, 24, indication="acute otitis media")
    assert aom.per_dose_mg == {"min": 480.0, "max": 540.0} and aom.max_daily_mg == 1080
    std = calculate("Amoxil", 12, 24)
    assert std.regimen == "amoxicillin_standard" and std.per_dose_mg == {"min": 150.0, "max": 270.0}
    older = calculate("amoxicillin", 20, 84, indication="pneumonia")
    assert older.regimen != "amoxicillin_pneumonia" and any("pneumonia" in w for w in older.warnings)


def test_safety_dose_amoxicillin_dosing_weight_is_capped():
    a = calculate("amoxicillin", 60, 180, indication="aom")
    assert a.per_dose_mg["max"] == 40 * 45


def test_safety_dose_amoxicillin_is_prescription_only_in_parent_mode():
    a = calculate("amoxicillin", 12, 24, mode="parent")
    assert not a.allowed and "PRESCRIPTION-ONLY" in a.blocked_by and a.per_dose_mg is None


def test_safety_dose_ors_plans():
    a = calculate("ORS", 10, 18)
    assert a.unit == "mL" and a.per_dose_ml == {"min": 50.0, "max": 100.0}
    assert "per_dose_mg_per_kg" not in a.to_dict()
    b = calculate("口服补液盐", 10, 36)
    assert b.per_dose_ml == {"min": 100.0, "max": 200.0}
    plan_b = calculate("ORS", 10, 18, indication="some dehydration")
    assert plan_b.volume_ml == {"min": 750.0, "max": 750.0} and plan_b.over_hours == 4
    severe = calculate("Pedialyte", 10, 18, indication="重度脱水")
    assert not severe.allowed and "ORS-PLAN-C" in severe.blocked_by


@pytest.mark.parametrize("age,mg", [(3, 10), (6, 10), (7, 20), (60, 20)])
def test_safety_dose_zinc_by_age(age, mg):
    weight = sum(weight_range(age)) / 2
    a = calculate("zinc", weight, age)
    assert a.per_dose_mg == {"min": mg, "max": mg} and a.max_doses_per_24h == 1


@pytest.mark.parametrize("weight,age", [(0, 12), (-1, 12), (151, 200), (10, -1), (10, 217), (60, 12), (2, 60)])
def test_safety_dose_bad_numbers(weight, age):
    with pytest.raises(InputError):
        calculate("paracetamol", weight, age)


def test_safety_dose_non_numeric_and_nan():
    with pytest.raises(InputError):
        calculate("paracetamol", "12", 24)
    with pytest.raises(InputError):
        calculate("paracetamol", math.nan, 24)


def test_safety_dose_unknown_drug_suggests_names():
    with pytest.raises(InputError, match="paracetamol"):
        calculate("paracetamoll", 12, 24)
    with pytest.raises(InputError, match="ibuprofen"):
        calculate("ibuprofin", 12, 24)


def _patient_for(rule):
    """A patient who satisfies a contraindication rule (age just inside its band)."""
    if rule.age_months_below is not None:
        age = rule.age_months_below - 1 if rule.age_months_min is None else rule.age_months_min
    else:
        age = rule.age_months_min if rule.age_months_min is not None else 24
    if rule.weight_kg_below is not None:
        age = max(age if rule.age_months_below else 6, 6)
        weight = rule.weight_kg_below - 0.5
    else:
        weight = round(sum(weight_range(age)) / 2, 1)
    return weight, age


def _drug_for(rule):
    for drug in tables.drugs():
        if drug.id in rule.drugs or set(drug.classes) & set(rule.classes):
            return drug
    raise AssertionError(rule.id)


@pytest.mark.parametrize("rule", tables.contraindications(), ids=lambda r: r.id)
def test_safety_dose_every_contraindication(rule):
    drug = _drug_for(rule)
    weight, age = _patient_for(rule)
    conditions = set(rule.conditions_any[:1])
    advice = calculate(drug.id, weight, age, conditions=conditions, language="en")
    text = rule.rule.en
    if rule.action == "forbid":
        assert not advice.allowed and advice.reason
        assert rule.id in advice.blocked_by
        assert rule.source in advice.sources
    else:
        assert text in advice.warnings or (not advice.allowed and advice.reason)


def test_safety_dose_contraindication_through_indication_text():
    assert "CI-4-chickenpox" in calculate("美林", 12, 24, indication="水痘").blocked_by
    assert "CI-4-dehydration" in calculate("ibuprofen", 12, 24, indication="dehydration").blocked_by
    assert calculate("ibuprofen", 12, 24, indication="fever").allowed


@pytest.mark.parametrize("drug,age,allowed", [
    ("aspirin", 191, False), ("aspirin", 192, True), ("codeine", 143, False), ("tramadol", 143, False),
    ("cough syrup", 23, False), ("小儿氨酚黄那敏", 23, False), ("promethazine", 23, False), ("洛哌丁胺", 23, False),
    ("感康", 11, False), ("尼美舒利", 100, False), ("安乃近", 60, False),
])
def test_safety_dose_age_bounds_of_contraindications(drug, age, allowed):
    weight = round(sum(weight_range(age)) / 2, 1)
    advice = calculate(drug, weight, age)
    assert (not advice.blocked_by or "NO-DOSE-TABLE" in advice.blocked_by) is allowed
    assert advice.reason


def test_safety_dose_steroid_as_antipyretic():
    a = calculate("地塞米松", 14, 36, indication="退烧")
    assert not a.allowed and "CI-5-steroid-antipyretic" in a.blocked_by


def test_safety_dose_to_dict_shape():
    data = calculate("paracetamol", 12, 24).to_dict()
    for key in ("drug", "allowed", "per_dose_mg", "interval_hours_min", "max_doses_per_24h", "max_daily_mg",
                "warnings", "reason", "sources"):
        assert key in data


def test_safety_dose_parent_mode_never_shows_r_values():
    for drug in ("paracetamol", "ibuprofen", "ORS", "zinc"):
        advice = calculate(drug, 12, 24, mode="parent")
        assert set(advice.tags.values()) <= {"V"}
    para = calculate("paracetamol", 12, 24, mode="parent")
    assert para.per_dose_mg == {"min": 180.0, "max": 180.0} and "per_dose_min" in para.withheld


_DOSABLE = [d.id for d in tables.drugs() if d.regimens]


@st.composite
def _patients(draw):
    age = draw(st.floats(min_value=0, max_value=216, allow_nan=False))
    low, high = weight_range(age)
    weight = draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    return round(weight, 2) or low, age


@settings(max_examples=150, deadline=None)
@given(drug=st.sampled_from(_DOSABLE), patient=_patients(), mode=st.sampled_from(["clinician", "parent"]),
       indication=st.sampled_from([None, "fever", "pneumonia", "aom", "some dehydration", "diarrhoea"]))
def test_safety_dose_property_per_dose_within_caps(drug, patient, mode, indication):
    weight, age = patient
    a = calculate(drug, weight, age, indication=indication, mode=mode)
    if not a.allowed or not a.per_dose_mg:
        return
    lo, hi = a.per_dose_mg["min"], a.per_dose_mg["max"]
    assert 0 < lo <= hi
    if a.per_dose_cap_mg is not None:
        assert hi <= a.per_dose_cap_mg
    if a.max_daily_mg is not None:
        assert hi <= a.max_daily_mg + 1e-9
        if a.max_doses_per_24h:
            # the smallest number of doses that reaches the daily maximum is daily / per-dose max
            assert hi * a.max_doses_per_24h <= a.max_daily_mg + 0.1 * a.max_doses_per_24h
    if a.per_dose_mg_per_kg:
        assert hi <= a.per_dose_mg_per_kg["max"] * weight + 1e-6
    if mode == "parent":
        assert set(a.tags.values()) <= {"V"}


def test_safety_dose_severe_pneumonia_is_referred():
    a = calculate("amoxicillin", 12, 24, indication="severe pneumonia")
    assert not a.allowed and "WHO-SEVERE-PNEUMONIA" in a.blocked_by
    assert calculate("amoxicillin", 12, 24, indication="CAP").regimen == "amoxicillin_pneumonia"
