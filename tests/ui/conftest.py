"""Fixtures for the web-app tests.

- `ui_model_dir` / `ui_engine`: the shared tiny random Qwen2 (see tests/conftest.py) with a
  4096-token context, so that the real system prompts with knowledge facts fit;
- `ui_knowledge`: the real CMeKG index, built once (~30 s) into a shared cache
  (`PEDGPT_TEST_KB_CACHE`, default `~/.cache/pedgpt-test/knowledge`) and linked into each test's
  PEDGPT_HOME;
- `app_ctx`: an `AppContext` on a fresh SQLite database with users alice and bob;
- `as_user(name, session)`: the `gr.Request` a handler gets for a signed-in user.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_test_support import link_index, long_context_copy, shared_index_path

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def ui_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return long_context_copy(tiny_model_dir, tmp_path_factory.mktemp("ui-tiny-qwen2"))


@pytest.fixture(scope="session")
def ui_engine(ui_model_dir):
    from pedgpt.engine import load_engine

    return load_engine(str(ui_model_dir), backend="transformers", device="cpu")


@pytest.fixture(scope="session")
def ui_index() -> Path:
    return shared_index_path()


@pytest.fixture
def ui_knowledge(ui_index):
    """The real knowledge index, visible under this test's PEDGPT_HOME."""
    from pedgpt.paths import pedgpt_home

    link_index(ui_index, pedgpt_home())
    return ui_index


@pytest.fixture
def app_ctx(ui_engine, ui_knowledge, tmp_path):
    from argon2 import PasswordHasher

    from pedgpt.config import Settings
    from pedgpt.storage import UserStore, open_database
    from ui.context import AppContext
    from ui.limits import Limits

    url = f"sqlite:///{tmp_path / 'ui.db'}"
    db = open_database(url)
    # Cheap argon2 parameters for the fixtures' accounts (the hash records them; logins verify).
    users = UserStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name in ("alice", "bob"):
        users.add(name, PASSWORD)
    ctx = AppContext.create(Settings(db_url=url), ui_engine, db,
                            Limits(max_new_tokens=24, requests_per_minute=50))
    yield ctx
    db.dispose()


@pytest.fixture
def user_password() -> str:
    return PASSWORD


@pytest.fixture
def as_user():
    """as_user(name, session="1") → the gr.Request a handler gets for that signed-in user."""
    import gradio as gr

    def make(name: str, session: str = "1"):
        return gr.Request(username=name, session_hash=f"{name}-{session}")

    return make
