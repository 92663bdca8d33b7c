"""Everything the handlers share for one running app: settings, engine, assistant, stores,
limits, the rate limiter and the per-session stop switches.

    ctx = AppContext.create(settings, engine, db)      # db already migrated
    uid = ctx.user_id(request)                         # the logged-in user's id, or gr.Error

With `settings.auth` off (a local single-user demo) every request acts as the local account
`LOCAL_USER`, created on first use with a random password nobody knows. With login on,
PEDGPT_ADMIN_USER / PEDGPT_ADMIN_PASSWORD (optional) create a first account at start-up.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field

import gradio as gr

from pedgpt.assistant import Assistant
from pedgpt.config import Settings
from pedgpt.engine.base import Engine
from pedgpt.errors import PedGPTError
from pedgpt.storage import ConsultationStore, Database, UserStore
from pedgpt.storage.errors import AuthError, NotFound
from ui.limits import Limits, RateLimiter

log = logging.getLogger("pedgpt.ui")

#: The account every request uses when login is off (PEDGPT_AUTH=off).
LOCAL_USER = "local"


class CancelSwitches:
    """One stop switch per browser session: the stop button sets the switch of its own session
    only, so one clinician never stops another's answer."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, key: str) -> threading.Event:
        """A fresh switch for a generation starting now in session `key`."""
        event = threading.Event()
        with self._lock:
            self._events[key] = event
        return event

    def stop(self, key: str) -> bool:
        """Set the session's switch; False when nothing is running there."""
        with self._lock:
            event = self._events.get(key)
        if event is None:
            return False
        event.set()
        return True

    def done(self, key: str, event: threading.Event) -> None:
        with self._lock:
            if self._events.get(key) is event:
                del self._events[key]


@dataclass
class AppContext:
    """Shared state of one app process (thread-safe parts only)."""

    settings: Settings
    engine: Engine
    db: Database
    limits: Limits
    assistant: Assistant
    consultations: ConsultationStore
    users: UserStore
    limiter: RateLimiter
    switches: CancelSwitches = field(default_factory=CancelSwitches)

    @classmethod
    def create(cls, settings: Settings, engine: Engine, db: Database,
               limits: Limits | None = None) -> "AppContext":
        limits = limits or Limits.from_env()
        ctx = cls(settings, engine, db, limits, Assistant(engine, mode=settings.mode),
                  ConsultationStore(db), UserStore(db), RateLimiter(limits.requests_per_minute))
        if not settings.auth:
            ctx.ensure_local_user()
        else:
            ctx.ensure_admin_from_env()
        return ctx

    def ensure_admin_from_env(self) -> None:
        """First start of a deployment (e.g. Spaces secrets): PEDGPT_ADMIN_USER and
        PEDGPT_ADMIN_PASSWORD create that account if it does not exist yet. Without any account
        nobody can sign in, which the log says with the command that fixes it."""
        name, password = os.environ.get("PEDGPT_ADMIN_USER"), os.environ.get("PEDGPT_ADMIN_PASSWORD")
        if name and password:
            try:
                self.users.by_name(name)
            except NotFound:
                self.users.add(name, password)
                log.warning("created the account %r from PEDGPT_ADMIN_USER", name)
        if not self.users.list():
            log.warning("no accounts yet: nobody can sign in. Create one with "
                        "`pedgpt users add NAME` (or set PEDGPT_ADMIN_USER and "
                        "PEDGPT_ADMIN_PASSWORD), or run a local demo with PEDGPT_AUTH=off")

    def ensure_local_user(self) -> None:
        try:
            self.users.by_name(LOCAL_USER)
        except NotFound:
            self.users.add(LOCAL_USER, secrets.token_urlsafe(24), display_name="Local demo")

    def authenticate(self, username: str, password: str) -> bool:
        """Gradio's `auth=` callable: True for a right password of an active account."""
        try:
            self.users.authenticate(username, password)
        except (AuthError, PedGPTError):
            return False
        return True

    def username(self, request: gr.Request | None) -> str:
        """Who is asking: the login name, or the local account when login is off."""
        if not self.settings.auth:
            return LOCAL_USER
        name = getattr(request, "username", None) if request is not None else None
        if not name:
            raise gr.Error("Please sign in again / 请重新登录")
        return str(name)

    def user_id(self, request: gr.Request | None) -> int:
        """The active account's id for this request (disabled accounts are refused)."""
        name = self.username(request)
        try:
            info = self.users.by_name(name)
        except (NotFound, PedGPTError):
            raise gr.Error("Please sign in again / 请重新登录") from None
        if info.disabled:
            raise gr.Error("Account disabled / 账户已停用")
        return info.id

    def session_key(self, request: gr.Request | None) -> str:
        """The browser session (a page load) — the scope of the stop button."""
        return str(getattr(request, "session_hash", None) or self.username(request))
