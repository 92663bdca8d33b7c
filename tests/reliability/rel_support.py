"""Shared by the reliability tests and their fixtures (a plain module: test files import it by
this unique name, never `conftest`)."""

from __future__ import annotations

import os
from pathlib import Path

from bench.load import AppServer

PASSWORDS = {f"clinician{i}": f"load-password-{i}" for i in range(8)}
PASSWORDS.update(alice="alice-password-1", bob="bob-password-22", mallory="mallory-password-3",
                 hostile="hostile-password-4", carol="carol-password-55",
                 erin="erin-password-666", frank="frank-password-7777",
                 grace="grace-password-88888")
SHARED_KB_HOME = Path(os.environ.get("PEDGPT_TEST_KB_CACHE")
                      or Path.home() / ".cache" / "pedgpt-test" / "knowledge")
#: Server settings every reliability test relies on (see README "Reliability").
SERVER_ENV = {"PEDGPT_QUEUE_SIZE": "3", "PEDGPT_REQUESTS_PER_MINUTE": "600",
              "PEDGPT_MAX_FAILED_LOGINS": "3", "PEDGPT_LOCKOUT_MINUTES": "15",
              # long enough that the crash test can kill the server while an answer streams
              "PEDGPT_MAX_NEW_TOKENS": "3000"}


def make_server(home: Path, model_dir: Path, index: Path, env: dict | None = None) -> AppServer:
    return AppServer(home, str(model_dir), "transformers", env={**SERVER_ENV, **(env or {})},
                     knowledge_index=index)


def unexpected_errors(log: str) -> list[str]:
    """The exception lines of the tracebacks in a server log, except Gradio's own refusals of
    a value the component does not allow (`gradio.exceptions.Error`, e.g. not one of a Radio's
    choices: the caller got a clear message, Gradio just logs it with a traceback)."""
    found = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        final = next((line for line in lines if not line.startswith((" ", "\t"))), "?")
        if not final.startswith("gradio.exceptions.Error"):
            found.append(final[:300])
    return found
