"""Input validation for the web app, in one place: every rejected input raises `gr.Error` with a
message in the page's language (never a traceback, never a stored corrupt record).

Bounds here are input plausibility (catching typos such as 500 kg), not clinical thresholds;
they are the assistant's and the storage layer's own (`pedgpt.assistant`, `pedgpt.storage.records`).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import gradio as gr

from pedgpt.errors import PedGPTError
from pedgpt.assistant import MAX_AGE_MONTHS
from pedgpt.assistant import MAX_WEIGHT_KG as ASSISTANT_MAX_WEIGHT_KG
from pedgpt.storage.records import MAX_WEIGHT_KG as STORED_MAX_WEIGHT_KG
from pedgpt.storage.records import MIN_WEIGHT_KG
from ui.i18n import t
from ui.limits import Limits, RateLimiter

#: Body temperature accepted by the case form (°C): plausibility, not a fever threshold.
MIN_TEMP_C, MAX_TEMP_C = 30.0, 45.0
MAX_AGE_YEARS = MAX_AGE_MONTHS // 12
#: Highest sampling temperature offered (higher only makes a medical answer less reliable).
MAX_TEMPERATURE = 1.5
#: The stricter of the assistant's and the storage's bounds, so no accepted value fails later.
MAX_WEIGHT_KG = min(ASSISTANT_MAX_WEIGHT_KG, STORED_MAX_WEIGHT_KG)


def message(text: Any, limits: Limits, lang: str) -> str:
    """A chat message: text, not blank, not longer than the limit."""
    value = "" if text is None else str(text)
    if not value.strip():
        raise gr.Error(t("errors.empty", lang))
    if len(value) > limits.max_message_chars:
        raise gr.Error(t("errors.too_long", lang, length=len(value), limit=limits.max_message_chars))
    return value.strip()


def field(value: Any, label_key: str, limits: Limits, lang: str) -> str:
    """A short free-text form field (may be empty)."""
    text = "" if value is None else str(value).strip()
    if len(text) > limits.max_field_chars:
        raise gr.Error(t("errors.text_too_long", lang, field=t(label_key, lang),
                         limit=limits.max_field_chars))
    return text


def number(value: Any, label_key: str, low: float, high: float, lang: str) -> float | None:
    """An optional number within [low, high]; None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise gr.Error(t("errors.number", lang, field=t(label_key, lang))) from None
    if not math.isfinite(result) or not low <= result <= high:
        raise gr.Error(t("errors.range", lang, field=t(label_key, lang), low=f"{low:g}",
                         high=f"{high:g}"))
    return result


def age_months(years: Any, months: Any, lang: str) -> float | None:
    """Age from the two boxes (years + extra months) in months; None when both are empty."""
    y = number(years, "patient.age_years", 0, MAX_AGE_YEARS, lang)
    m = number(months, "patient.age_months", 0, MAX_AGE_MONTHS, lang)
    if y is None and m is None:
        return None
    total = (y or 0) * 12 + (m or 0)
    if total > MAX_AGE_MONTHS:
        raise gr.Error(t("errors.range", lang, field=t("patient.age_years", lang), low="0",
                         high=str(MAX_AGE_YEARS)))
    return total


def weight(value: Any, lang: str) -> float | None:
    return number(value, "patient.weight", MIN_WEIGHT_KG, MAX_WEIGHT_KG, lang)


def temperature(value: Any, lang: str) -> float | None:
    return number(value, "diagnosis.temperature", MIN_TEMP_C, MAX_TEMP_C, lang)


def patient(years: Any, months: Any, sex: Any, weight_kg: Any, allergies: Any, chronic: Any,
            limits: Limits, lang: str) -> dict:
    """The patient card → a `PatientContext`-shaped dict."""
    return {
        "age_months": age_months(years, months, lang),
        "sex": sex if sex in ("F", "M") else None,
        "weight_kg": weight(weight_kg, lang),
        "allergies": field(allergies, "patient.allergies", limits, lang),
        "chronic_conditions": field(chronic, "patient.chronic", limits, lang),
    }


def generation(max_new_tokens: Any, temperature: Any, limits: Limits, lang: str) -> dict:
    """The page's generation settings → engine parameters (bounded by the limits)."""
    tokens = number(max_new_tokens, "settings.max_tokens", 1, limits.max_new_tokens, lang)
    temp = number(temperature, "settings.temperature", 0, MAX_TEMPERATURE, lang)
    return {"max_new_tokens": int(tokens or limits.max_new_tokens), "temperature": temp or 0.0}


def rate(limiter: RateLimiter, user_key: str, lang: str) -> None:
    """Count one generation for this user; refuse when over the per-minute limit."""
    wait = limiter.hit(user_key)
    if wait:
        raise gr.Error(t("errors.rate_limited", lang, limit=limiter.limit, seconds=math.ceil(wait)))


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn PedGPT's one-line user-facing errors into page messages."""
    try:
        yield
    except PedGPTError as exc:
        raise gr.Error(str(exc)) from None
