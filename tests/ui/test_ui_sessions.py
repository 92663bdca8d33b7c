"""Idle session expiry, audited logout, and the login-off bind guard."""

import pytest

from pedgpt.errors import InputError
from ui.sessions import ExpiringTokens, check_bind, session_minutes_from_env


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_idle_token_expires_and_is_audited():
    clock, ended = Clock(), []
    tokens = ExpiringTokens(60, lambda user, why: ended.append((user, why)), clock)
    tokens["t1"] = "alice"
    clock.now += 59
    assert tokens.get("t1") == "alice"  # use refreshes the idle timer
    clock.now += 59
    assert tokens.get("t1") == "alice"
    clock.now += 61
    assert tokens.get("t1") is None
    assert "t1" not in tokens
    assert ended == [("alice", "session_expired")]


def test_logout_deletes_and_audits():
    ended = []
    tokens = ExpiringTokens(60, lambda user, why: ended.append((user, why)), Clock())
    tokens["a"], tokens["b"] = "alice", "bob"
    del tokens["a"]
    assert tokens.get("a") is None and tokens.get("b") == "bob"
    assert ended == [("alice", "logout")]


def test_unknown_token_is_none():
    tokens = ExpiringTokens(60, lambda *a: None, Clock())
    assert tokens.get("nope") is None and tokens.get("nope", "x") == "x"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_login_off_allows_loopback(host, monkeypatch):
    monkeypatch.delenv("PEDGPT_ALLOW_PUBLIC_NO_AUTH", raising=False)
    check_bind(host, auth=False)


def test_login_off_refuses_public_host_unless_forced(monkeypatch, capsys):
    monkeypatch.delenv("PEDGPT_ALLOW_PUBLIC_NO_AUTH", raising=False)
    with pytest.raises(InputError, match="127.0.0.1"):
        check_bind("0.0.0.0", auth=False)
    check_bind("0.0.0.0", auth=True)  # login on: any host
    monkeypatch.setenv("PEDGPT_ALLOW_PUBLIC_NO_AUTH", "1")
    check_bind("0.0.0.0", auth=False)
    assert "WARNING" in capsys.readouterr().err


@pytest.mark.parametrize("raw, ok", [("", True), ("15", True), ("0", False), ("abc", False)])
def test_session_minutes_from_env(monkeypatch, raw, ok):
    monkeypatch.setenv("PEDGPT_SESSION_MINUTES", raw)
    if ok:
        assert session_minutes_from_env() == (15 if raw else 30)
    else:
        with pytest.raises(InputError):
            session_minutes_from_env()
