"""Request limits of the web app: named constants, each overridable by an environment variable.

| constant                 | env variable                    | default |
|--------------------------|---------------------------------|---------|
| MAX_MESSAGE_CHARS        | PEDGPT_MAX_MESSAGE_CHARS        | 4000    |
| REQUESTS_PER_MINUTE      | PEDGPT_REQUESTS_PER_MINUTE      | 12      |
| QUEUE_SIZE               | PEDGPT_QUEUE_SIZE               | 32      |
| MAX_NEW_TOKENS           | PEDGPT_MAX_NEW_TOKENS           | 384     |
| GENERATION_CONCURRENCY   | PEDGPT_GENERATION_CONCURRENCY   | 1       |
| MAX_FIELD_CHARS          | PEDGPT_MAX_FIELD_CHARS          | 1000    |

`Limits.from_env()` reads them when the app is built (so tests can set the variables);
`RateLimiter` enforces the per-user request rate.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from pedgpt.config import env_number
from pedgpt.errors import InputError

MAX_MESSAGE_CHARS = 4000
REQUESTS_PER_MINUTE = 12
QUEUE_SIZE = 32
MAX_NEW_TOKENS = 384
#: Answer length the page's slider starts at (at most MAX_NEW_TOKENS).
DEFAULT_NEW_TOKENS = 256
#: One in-process model answers one request at a time; more only helps remote backends.
GENERATION_CONCURRENCY = 1
MAX_FIELD_CHARS = 1000


def _env_int(name: str, default: int, low: int, high: int) -> int:
    return env_number(name, default, low, high, kind=int)


@dataclass(frozen=True)
class Limits:
    """Limits in force for one running app."""

    max_message_chars: int = MAX_MESSAGE_CHARS
    """Longest chat message (characters); the assistant's own hard bound is larger."""
    requests_per_minute: int = REQUESTS_PER_MINUTE
    """Generations one user may start per rolling minute."""
    queue_size: int = QUEUE_SIZE
    """Events waiting in Gradio's queue before new ones are refused as "busy"."""
    max_new_tokens: int = MAX_NEW_TOKENS
    """Longest answer, in tokens."""
    generation_concurrency: int = GENERATION_CONCURRENCY
    """Generations running at once (the engine serialises in-process models anyway)."""
    max_field_chars: int = MAX_FIELD_CHARS
    """Longest short form field (title, allergies, drug name, findings …)."""

    def __post_init__(self) -> None:
        for name in ("max_message_chars", "requests_per_minute", "queue_size", "max_new_tokens",
                     "generation_concurrency", "max_field_chars"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"limit {name} must be at least 1")

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(
            max_message_chars=_env_int("PEDGPT_MAX_MESSAGE_CHARS", MAX_MESSAGE_CHARS, 1, 8000),
            requests_per_minute=_env_int("PEDGPT_REQUESTS_PER_MINUTE", REQUESTS_PER_MINUTE, 1, 10_000),
            queue_size=_env_int("PEDGPT_QUEUE_SIZE", QUEUE_SIZE, 1, 10_000),
            max_new_tokens=_env_int("PEDGPT_MAX_NEW_TOKENS", MAX_NEW_TOKENS, 1, 32_768),
            generation_concurrency=_env_int("PEDGPT_GENERATION_CONCURRENCY",
                                            GENERATION_CONCURRENCY, 1, 64),
            max_field_chars=_env_int("PEDGPT_MAX_FIELD_CHARS", MAX_FIELD_CHARS, 1, 8000),
        )


class RateLimiter:
    """At most `limit` hits per `window_s` seconds per key (a rolling window, thread-safe)."""

    def __init__(self, limit: int, window_s: float = 60.0, clock=time.monotonic) -> None:
        self.limit = int(limit)
        self.window_s = float(window_s)
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record a hit; return 0 when allowed, else the seconds until the next one is."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(0.1, self.window_s - (now - hits[0]))
            hits.append(now)
            return 0.0
