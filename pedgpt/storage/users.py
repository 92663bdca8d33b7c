"""Clinician accounts: argon2id password hashes, login with rate limiting and lockout.

    users = UserStore(db)
    users.add("dr_li", "a long password", display_name="李医生")
    user = users.authenticate("dr_li", "a long password")   # UserInfo, or AuthError

After `PEDGPT_MAX_FAILED_LOGINS` consecutive failures (default 5) an account is locked for
`PEDGPT_LOCKOUT_MINUTES` (default 15); a successful login resets the count. Unknown usernames and
wrong passwords get the same message and take the same time. Passwords are never stored, logged
or put in an exception.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pedgpt.errors import InputError
from pedgpt.storage.audit import add_event
from pedgpt.storage.errors import AuthError, NotFound
from pedgpt.storage.models import User, utcnow
from pedgpt.storage.records import UserInfo, clean_text, normalize_username

DEFAULT_MAX_FAILED_LOGINS = 5
DEFAULT_LOCKOUT_MINUTES = 15.0
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
BAD_LOGIN = "用户名或密码错误 / wrong username or password"


@dataclass
class LoginPolicy:
    """Login throttling; `LoginPolicy.from_env()` reads the PEDGPT_* overrides."""

    max_failed_logins: int = DEFAULT_MAX_FAILED_LOGINS
    """Consecutive failures that lock an account (PEDGPT_MAX_FAILED_LOGINS)."""
    lockout_minutes: float = DEFAULT_LOCKOUT_MINUTES
    """How long a locked account refuses every login (PEDGPT_LOCKOUT_MINUTES)."""

    def __post_init__(self) -> None:
        self.max_failed_logins = int(self.max_failed_logins)
        self.lockout_minutes = float(self.lockout_minutes)
        if self.max_failed_logins < 1:
            raise InputError("PEDGPT_MAX_FAILED_LOGINS must be at least 1")
        if not 0 < self.lockout_minutes <= 7 * 24 * 60:
            raise InputError("PEDGPT_LOCKOUT_MINUTES must be between 0 and 10080")

    @classmethod
    def from_env(cls) -> "LoginPolicy":
        try:
            return cls(os.environ.get("PEDGPT_MAX_FAILED_LOGINS", DEFAULT_MAX_FAILED_LOGINS),
                       os.environ.get("PEDGPT_LOCKOUT_MINUTES", DEFAULT_LOCKOUT_MINUTES))
        except ValueError as exc:
            raise InputError(f"bad login policy setting: {exc}") from None


def check_password(password: object) -> str:
    if not isinstance(password, str):
        raise InputError("password must be text")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS or "\x00" in password:
        raise InputError(f"password must have at most {MAX_PASSWORD_CHARS} characters and no NUL")
    return password


class UserStore:
    """Accounts in the `users` table. Thread-safe; share one per process."""

    def __init__(self, db, hasher: PasswordHasher | None = None, policy: LoginPolicy | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self.policy = policy or LoginPolicy.from_env()
        self.clock = clock
        self._decoy: str | None = None

    @property
    def _decoy_hash(self) -> str:
        """Verified against when the username is unknown, so both failures cost the same time."""
        if self._decoy is None:
            self._decoy = self.hasher.hash("pedgpt-decoy-password")
        return self._decoy

    def add(self, username: str, password: str, display_name: str = "") -> UserInfo:
        name = normalize_username(username)
        digest = self.hasher.hash(check_password(password))
        with self.db.session() as session:
            if session.scalar(select(User.id).where(User.username == name)) is not None:
                raise InputError(f"user {name!r} already exists")
            user = User(username=name, password_hash=digest, created_at=self.clock(),
                        display_name=clean_text(display_name, "display name", 128).strip())
            session.add(user)
            session.flush()
            add_event(session, "user_add", user.id, name)
            return UserInfo.of(user)

    def authenticate(self, username: str, password: str) -> UserInfo:
        """The account if the password is right; `AuthError` (one line) otherwise."""
        try:
            name = normalize_username(username)
        except InputError:
            raise AuthError(BAD_LOGIN) from None
        with self.db.session() as session:
            # The failure count and audit row are committed even when the login fails.
            outcome = self._login(session, name, password)
        if isinstance(outcome, str):
            raise AuthError(outcome)
        return outcome

    def _login(self, session: Session, name: str, password: str) -> UserInfo | str:
        user = session.scalars(select(User).where(User.username == name).with_for_update()).first()
        if user is None:
            self._verify(self._decoy_hash, password)
            # The typed name is not logged: people type passwords into the username field.
            add_event(session, "login_failed", details={"reason": "unknown user"})
            return BAD_LOGIN
        now = self.clock()
        self._expire_lock(user, now)
        if user.locked_until is not None:
            add_event(session, "login_locked", user.id, name)
            return _locked_message(user.locked_until, now)
        if not self._verify(user.password_hash, password):
            self._count_failure(session, user, now)
            return BAD_LOGIN
        if user.disabled:
            add_event(session, "login_failed", user.id, name, details={"reason": "disabled"})
            return "账户已停用 / account disabled"
        self._maybe_rehash(user, password)
        user.failed_logins, user.locked_until, user.last_login = 0, None, now
        add_event(session, "login", user.id, name)
        return UserInfo.of(user)

    def logout(self, user_id: int) -> None:
        """Record a logout (also for an account disabled while it was signed in)."""
        with self.db.session() as session:
            user = session.get(User, _int(user_id))
            if user is not None:
                add_event(session, "logout", user.id, user.username)

    def get(self, user_id: int) -> UserInfo:
        """An active (not disabled) account by id — for checking a web session on each request."""
        with self.db.session(write=False) as session:
            user = session.get(User, _int(user_id))
            if user is None or user.disabled:
                raise NotFound("no such active user")
            return UserInfo.of(user)

    def by_name(self, username: str) -> UserInfo:
        with self.db.session(write=False) as session:
            return UserInfo.of(self._row(session, username))

    def list(self) -> list[UserInfo]:
        with self.db.session(write=False) as session:
            return [UserInfo.of(u) for u in session.scalars(select(User).order_by(User.username))]

    def set_password(self, username: str, password: str) -> None:
        digest = self.hasher.hash(check_password(password))
        with self.db.session() as session:
            user = self._row(session, username)
            user.password_hash, user.failed_logins, user.locked_until = digest, 0, None
            add_event(session, "user_passwd", user.id, user.username)

    def disable(self, username: str, disabled: bool = True) -> None:
        with self.db.session() as session:
            user = self._row(session, username)
            user.disabled = disabled
            add_event(session, "user_disable" if disabled else "user_enable", user.id, user.username)

    def enable(self, username: str) -> None:
        """Re-enable a disabled account and clear any lockout."""
        self.disable(username, disabled=False)
        self.unlock(username)

    def unlock(self, username: str) -> None:
        with self.db.session() as session:
            user = self._row(session, username)
            user.failed_logins, user.locked_until = 0, None

    # -- internals ---------------------------------------------------------------------------

    def _row(self, session: Session, username: str) -> User:
        name = normalize_username(username)
        user = session.scalars(select(User).where(User.username == name)).first()
        if user is None:
            raise NotFound(f"no user {name!r}")
        return user

    def _verify(self, digest: str, password: object) -> bool:
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self.hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False

    def _maybe_rehash(self, user: User, password: str) -> None:
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)

    def _expire_lock(self, user: User, now: datetime) -> None:
        if user.locked_until is not None and now >= user.locked_until:
            user.locked_until, user.failed_logins = None, 0

    def _count_failure(self, session: Session, user: User, now: datetime) -> None:
        user.failed_logins += 1
        details = {"reason": "password", "failures": user.failed_logins}
        if user.failed_logins >= self.policy.max_failed_logins:
            user.locked_until = now + timedelta(minutes=self.policy.lockout_minutes)
            details["locked_until"] = user.locked_until.isoformat()
        add_event(session, "login_failed", user.id, user.username, details=details)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return f"登录失败次数过多，请 {minutes} 分钟后再试 / too many failed logins, try again in {minutes} min"


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound("no such record") from None
