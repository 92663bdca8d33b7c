"""Runtime settings from the environment, validated once.

| variable         | default                                   |
|------------------|-------------------------------------------|
| PEDGPT_HOME      | ~/.local/share/pedgpt                     |
| PEDGPT_MODEL     | (empty) → PedGPT-0.5B; `base` → the bare embedded model |
| PEDGPT_BACKEND   | auto                                      |
| PEDGPT_DB_URL    | sqlite:///$PEDGPT_HOME/pedgpt.db          |
| PEDGPT_MODE      | clinician                                 |
| PEDGPT_AUTH      | on                                        |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pedgpt.errors import InputError
from pedgpt.paths import pedgpt_home

BACKENDS = ("auto", "llamacpp", "transformers", "openai")
MODES = ("clinician", "parent")


@dataclass
class Settings:
    """Process-wide settings; build with `Settings.from_env()` and override fields from CLI flags."""

    model: str | None = None
    """Model reference: None/"" = embedded default; a GGUF file, a transformers folder, a hub id."""
    backend: str = "auto"
    """One of BACKENDS."""
    db_url: str = ""
    """SQLAlchemy URL; empty → SQLite file under PEDGPT_HOME."""
    mode: str = "clinician"
    """`clinician` shows full dosing; `parent` applies the stricter safety rules."""
    auth: bool = True
    """Login required. `PEDGPT_AUTH=off` only for a local single-user demo."""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if self.mode not in MODES:
            raise InputError(f"unknown mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if not self.db_url:
            self.db_url = f"sqlite:///{pedgpt_home() / 'pedgpt.db'}"
        self.model = self.model or None

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read PEDGPT_* variables; keyword overrides (e.g. from CLI flags) win when not None."""
        values = {
            "model": os.environ.get("PEDGPT_MODEL") or None,
            "backend": os.environ.get("PEDGPT_BACKEND", "auto") or "auto",
            "db_url": os.environ.get("PEDGPT_DB_URL", ""),
            "mode": os.environ.get("PEDGPT_MODE", "clinician") or "clinician",
            "auth": parse_on_off(os.environ.get("PEDGPT_AUTH", "on"), "PEDGPT_AUTH"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def parse_on_off(value: str, name: str) -> bool:
    """'on'/'off' style flag → bool, with a clear error for anything else."""
    lowered = value.strip().lower()
    if lowered in ("1", "on", "true", "yes"):
        return True
    if lowered in ("0", "off", "false", "no"):
        return False
    raise InputError(f"{name} must be 'on' or 'off', got {value!r}")


def env_number(name: str, default, low: float, high: float, kind: type = float):
    """A numeric environment setting within [low, high]; `default` when unset or empty, and a
    clear InputError naming the variable for anything else."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InputError(f"{name} must be {what}, got {raw!r}") from None
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value
