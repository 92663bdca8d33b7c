"""Accounts: argon2 hashes, one message for every failed login, lockout, disable, passwd."""

from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

from pedgpt.errors import InputError
from pedgpt.storage import AuditLog, AuthError, LoginPolicy, UserStore
from pedgpt.storage.models import User
from pedgpt.storage.users import BAD_LOGIN


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_password_is_hashed_with_argon2(db, users, alice):
    with db.session(write=False) as session:
        digest = session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert digest.startswith("$argon2id$") and "alice-password" not in digest
    assert users.authenticate("ALICE ", "alice-password").id == alice.id  # names are case-insensitive
    assert users.authenticate("alice", "alice-password").last_login is not None


def test_unknown_user_and_wrong_password_look_the_same(users, alice):
    with pytest.raises(AuthError) as wrong:
        users.authenticate("alice", "not-her-password")
    with pytest.raises(AuthError) as unknown:
        users.authenticate("nobody", "whatever-password")
    with pytest.raises(AuthError) as garbage:
        users.authenticate("../../etc/passwd", "")
    assert str(wrong.value) == str(unknown.value) == str(garbage.value) == BAD_LOGIN


def test_lockout_after_repeated_failures_then_expiry(db, alice):
    clock = Clock()
    users = UserStore(db, hasher=PasswordHasher.from_parameters(profiles.CHEAPEST),
                      policy=LoginPolicy(max_failed_logins=3, lockout_minutes=10), clock=clock)
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong"):
            users.authenticate("alice", "bad-password")
    with pytest.raises(AuthError, match="try again in 10 min"):  # even the right password
        users.authenticate("alice", "alice-password")
    clock.now += timedelta(minutes=9)
    with pytest.raises(AuthError, match="try again"):
        users.authenticate("alice", "alice-password")
    clock.now += timedelta(minutes=2)
    assert users.authenticate("alice", "alice-password").failed_logins == 0
    actions = [e["action"] for e in AuditLog(db).events(user_id=alice.id)]
    assert actions.count("login_failed") == 3 and actions.count("login_locked") == 2
    assert actions[0] == "login"


def test_success_resets_failure_count(users, alice):
    with pytest.raises(AuthError):
        users.authenticate("alice", "bad-password")
    assert users.authenticate("alice", "alice-password").failed_logins == 0
    for _ in range(2):  # 2 < limit 3 again: not locked
        with pytest.raises(AuthError):
            users.authenticate("alice", "bad-password")
    assert users.authenticate("alice", "alice-password").username == "alice"


def test_policy_from_environment(monkeypatch):
    monkeypatch.setenv("PEDGPT_MAX_FAILED_LOGINS", "7")
    monkeypatch.setenv("PEDGPT_LOCKOUT_MINUTES", "2.5")
    assert LoginPolicy.from_env() == LoginPolicy(7, 2.5)
    monkeypatch.setenv("PEDGPT_MAX_FAILED_LOGINS", "0")
    with pytest.raises(InputError):
        LoginPolicy.from_env()
    monkeypatch.setenv("PEDGPT_MAX_FAILED_LOGINS", "lots")
    with pytest.raises(InputError):
        LoginPolicy.from_env()


def test_disable_enable_and_passwd(users, alice):
    users.disable("alice")
    with pytest.raises(AuthError, match="disabled"):
        users.authenticate("alice", "alice-password")
    users.enable("alice")
    users.set_password("alice", "a-new-password")
    with pytest.raises(AuthError):
        users.authenticate("alice", "alice-password")
    assert users.authenticate("alice", "a-new-password").id == alice.id


@pytest.mark.parametrize("name, password", [
    ("", "long-enough-pw"), ("a b", "long-enough-pw"), ("x" * 65, "long-enough-pw"),
    ("../etc", "long-enough-pw"), ("ok_name", "short"), ("ok_name", "x" * 2000)])
def test_bad_accounts_rejected(users, name, password):
    with pytest.raises(InputError):
        users.add(name, password)
    assert users.list() == []


def test_duplicate_username_rejected(users, alice):
    with pytest.raises(InputError, match="exists"):
        users.add("Alice", "another-password")


def test_passwords_never_reach_the_audit_log(db, users, alice):
    users.authenticate("alice", "alice-password")
    with pytest.raises(AuthError):
        users.authenticate("alice", "typo-secret-123")
    with pytest.raises(AuthError):
        users.authenticate("hunter2-in-username-box", "x")
    users.set_password("alice", "brand-new-secret")
    dump = repr(AuditLog(db).events())
    for secret in ("alice-password", "typo-secret-123", "hunter2-in-username-box", "brand-new-secret"):
        assert secret not in dump


def test_logout_is_audited_even_after_disable(db, users, alice):
    users.disable("alice")
    users.logout(alice.id)
    users.logout(99999)  # unknown id: nothing to record, no error
    assert AuditLog(db).events(user_id=alice.id)[0]["action"] == "logout"
