"""Age-band sweep: temperature and respiratory-rate thresholds at and around every boundary.

The expected levels are written independently of the rule table, from clinical-safety.md §1.2
and §1.4 (NICE NG143, WHO IMCI, China plan v9), in Chinese and English phrasing.
"""

from __future__ import annotations

import itertools

import pytest

from pedgpt.safety import assess

AGES = [0.5, 1, 2.5, 3, 5, 7, 12, 36, 72]


def expected_for_temperature(age: float, temp: float) -> str:
    if age < 3 and temp >= 37.5:
        return "emergency"
    if 3 <= age < 7 and temp >= 39:
        return "urgent"
    return "routine"


def expected_for_rr(age: float, rr: int) -> str:
    if rr > 60:
        return "emergency"
    if age < 2:
        return "emergency" if rr >= 60 else "routine"
    if age < 12:
        return "emergency" if rr >= 70 else "urgent" if rr >= 50 else "routine"
    if age < 60:
        return "emergency" if rr >= 60 else "urgent" if rr >= 40 else "routine"
    return "urgent" if rr >= 30 else "routine"


def zh_age(age: float) -> str:
    if age < 1:
        return f"{round(age * 30)}天"
    if age < 24:
        return f"{age:g}个月"
    return f"{age / 12:g}岁"


def en_age(age: float) -> str:
    if age < 1:
        return f"{round(age * 30)}-day-old"
    return f"{age:g}-month-old" if age < 24 else f"{age / 12:g}-year-old"


@pytest.mark.parametrize("age,temp", list(itertools.product(AGES, [37.4, 37.5, 38.0, 38.9, 39.0])))
def test_safety_band_temperature(age, temp):
    expected = expected_for_temperature(age, temp)
    assert assess(f"宝宝{zh_age(age)}，体温{temp}度，精神好").level == expected
    assert assess(f"A {en_age(age)} with a temperature of {temp}°C, alert").level == expected


@pytest.mark.parametrize("age,rr", list(itertools.product(AGES, [29, 30, 40, 49, 50, 59, 60, 61, 70])))
def test_safety_band_respiratory_rate(age, rr):
    expected = expected_for_rr(age, rr)
    assert assess(f"孩子{zh_age(age)}，呼吸{rr}次/分，精神好").level == expected
    assert assess(f"{en_age(age)}, respiratory rate {rr}, alert").level == expected


@pytest.mark.parametrize("fahrenheit,age,level", [(100.4, 2, "emergency"), (99.5, 2, "emergency"),
                                                   (99.0, 2, "routine"), (102.2, 4, "urgent"), (102.0, 4, "routine")])
def test_safety_band_fahrenheit(fahrenheit, age, level):
    assert assess(f"{age} month old, temp {fahrenheit}F").level == level
