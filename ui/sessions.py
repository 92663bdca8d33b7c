"""Login sessions: idle expiry and audited logout on top of Gradio's token table.

Gradio keeps `{access token: username}` in `app.tokens` until logout or restart. We swap that
dict for `ExpiringTokens`, which Gradio keeps using as before (`get`, `__setitem__`,
`__delitem__`): a token unused for `PEDGPT_SESSION_MINUTES` (default 30; HIPAA §164.312
"automatic logoff") is forgotten on its next use, and every logout or expiry is written to the
audit log.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

from pedgpt.config import env_number
from pedgpt.errors import InputError

SESSION_MINUTES = 30
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def session_minutes_from_env() -> float:
    return env_number("PEDGPT_SESSION_MINUTES", SESSION_MINUTES, 1, 24 * 60)


class ExpiringTokens(dict):
    """Gradio's token table with idle expiry; `on_end(username, reason)` audits each end."""

    def __init__(self, idle_seconds: float, on_end: Callable[[str, str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.idle_seconds = idle_seconds
        self.on_end = on_end
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def __setitem__(self, token, username) -> None:
        with self._lock:
            super().__setitem__(token, username)
            self._seen[token] = self.clock()

    def get(self, token, default=None):
        with self._lock:
            if token not in self:
                return default
            if self.clock() - self._seen.get(token, 0.0) > self.idle_seconds:
                username = super().pop(token)
                self._seen.pop(token, None)
                expired = True
            else:
                self._seen[token] = self.clock()
                return super().get(token)
        if expired:
            self.on_end(username, "session_expired")
        return default

    def __delitem__(self, token) -> None:
        with self._lock:
            username = super().pop(token)
            self._seen.pop(token, None)
        self.on_end(username, "logout")


def check_bind(host: str, auth: bool) -> None:
    """Login off is for a local single-user demo: refuse any non-loopback address unless forced
    with PEDGPT_ALLOW_PUBLIC_NO_AUTH=1, and then warn loudly."""
    if auth or host in LOOPBACK_HOSTS:
        return
    if os.environ.get("PEDGPT_ALLOW_PUBLIC_NO_AUTH", "").strip() == "1":
        import sys

        print(f"WARNING: login is OFF (PEDGPT_AUTH=off) and the app listens on {host}: anyone "
              "who can reach this address can read and create consultations.", file=sys.stderr)
        return
    raise InputError(f"PEDGPT_AUTH=off only listens on 127.0.0.1 (got --host {host}); turn "
                     "login on, or set PEDGPT_ALLOW_PUBLIC_NO_AUTH=1 to force it")
