"""Input validation in one place: every rejected input is a gr.Error in the page's language."""

import gradio as gr
import pytest

from pedgpt.errors import InputError
from ui import validate
from ui.limits import Limits, RateLimiter

LIMITS = Limits(max_message_chars=50, max_field_chars=20)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_messages_are_refused(text):
    with pytest.raises(gr.Error, match="消息不能为空"):
        validate.message(text, LIMITS, "zh")


def test_too_long_message_names_the_limit():
    with pytest.raises(gr.Error, match="at most 50"):
        validate.message("x" * 51, LIMITS, "en")
    assert validate.message("  hello  ", LIMITS, "en") == "hello"


@pytest.mark.parametrize("years, months, expected", [
    (None, None, None), (1, 6, 18), (0, 3, 3), ("2", "", 24), (18, 0, 216)])
def test_age_from_years_and_months(years, months, expected):
    assert validate.age_months(years, months, "en") == expected


@pytest.mark.parametrize("years, months", [(-1, 0), (19, 0), (18, 1), ("abc", 0), (float("nan"), 0)])
def test_implausible_ages_are_refused(years, months):
    with pytest.raises(gr.Error):
        validate.age_months(years, months, "en")


@pytest.mark.parametrize("kg", [0, -1, 500, "heavy", float("inf")])
def test_implausible_weights_are_refused(kg):
    with pytest.raises(gr.Error, match="Weight"):
        validate.weight(kg, "en")


def test_temperature_bounds():
    assert validate.temperature(38.5, "en") == 38.5
    with pytest.raises(gr.Error):
        validate.temperature(60, "en")


def test_patient_card_becomes_a_patient_context_dict():
    patient = validate.patient(1, 6, "F", 11.5, "青霉素", "哮喘", LIMITS, "zh")
    assert patient == {"age_months": 18, "sex": "F", "weight_kg": 11.5, "allergies": "青霉素",
                       "chronic_conditions": "哮喘"}
    assert validate.patient(None, None, "", None, "", "", LIMITS, "zh")["sex"] is None
    with pytest.raises(gr.Error, match="过敏史"):
        validate.patient(None, None, "", None, "x" * 21, "", LIMITS, "zh")


def test_rate_limit_is_a_page_error():
    limiter = RateLimiter(1)
    validate.rate(limiter, "7", "en")
    with pytest.raises(gr.Error, match="at most 1 a minute"):
        validate.rate(limiter, "7", "en")


def test_pedgpt_errors_become_page_errors():
    with pytest.raises(gr.Error, match="bad drug"):
        with validate.user_errors():
            raise InputError("bad drug")


def test_generation_settings_are_bounded_by_the_limits():
    limits = Limits(max_new_tokens=100)
    assert validate.generation(64, 0.3, limits, "en") == {"max_new_tokens": 64, "temperature": 0.3}
    assert validate.generation(None, None, limits, "en") == {"max_new_tokens": 100,
                                                             "temperature": 0.0}
    for tokens, temperature in ((101, 0), (0, 0), (10, 3), ("many", 0)):
        with pytest.raises(gr.Error):
            validate.generation(tokens, temperature, limits, "en")
