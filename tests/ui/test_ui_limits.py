"""Limits come from named constants, overridable by environment; the per-user rate limiter."""

import pytest

from pedgpt.errors import InputError
from ui.limits import MAX_MESSAGE_CHARS, QUEUE_SIZE, Limits, RateLimiter


def test_defaults_are_the_named_constants(monkeypatch):
    for name in ("PEDGPT_MAX_MESSAGE_CHARS", "PEDGPT_QUEUE_SIZE", "PEDGPT_REQUESTS_PER_MINUTE"):
        monkeypatch.delenv(name, raising=False)
    limits = Limits.from_env()
    assert limits.max_message_chars == MAX_MESSAGE_CHARS
    assert limits.queue_size == QUEUE_SIZE


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PEDGPT_MAX_MESSAGE_CHARS", "100")
    monkeypatch.setenv("PEDGPT_REQUESTS_PER_MINUTE", "3")
    monkeypatch.setenv("PEDGPT_QUEUE_SIZE", "5")
    limits = Limits.from_env()
    assert (limits.max_message_chars, limits.requests_per_minute, limits.queue_size) == (100, 3, 5)


@pytest.mark.parametrize("value", ["abc", "0", "-4", "99999999"])
def test_bad_environment_values_are_one_line_errors(monkeypatch, value):
    monkeypatch.setenv("PEDGPT_QUEUE_SIZE", value)
    with pytest.raises(InputError, match="PEDGPT_QUEUE_SIZE"):
        Limits.from_env()


def test_rate_limiter_is_per_key_and_rolls():
    now = [1000.0]
    limiter = RateLimiter(2, window_s=60, clock=lambda: now[0])
    assert limiter.hit("alice") == 0 and limiter.hit("alice") == 0
    wait = limiter.hit("alice")
    assert 59 <= wait <= 60
    assert limiter.hit("bob") == 0  # another user is not affected
    now[0] += 60.5
    assert limiter.hit("alice") == 0
