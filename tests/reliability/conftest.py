"""Fixtures of the reliability suite (load, crashes, hostile input, access control, privacy).

- `rel_model_dir`: the shared tiny random Qwen2 (tests/conftest.py) with a 4096-token context,
  so that the app's real prompts (system prompt + knowledge facts) fit;
- `rel_index`: the real knowledge index, built once per machine into a shared cache
  (`PEDGPT_TEST_KB_CACHE`, default `~/.cache/pedgpt-test/knowledge`, shared with tests/ui);
- `app_server`: ONE app process for the whole session, started like README command 1
  (`python -m pedgpt serve` with PEDGPT_MODEL/PEDGPT_BACKEND) on 127.0.0.1 and a free port,
  login on, accounts created through the store, a small queue (3) so back-pressure shows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rel_support import PASSWORDS, SHARED_KB_HOME, make_server


@pytest.fixture(scope="session")
def rel_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rel-tiny-qwen2")
    shutil.copytree(tiny_model_dir, folder, dirs_exist_ok=True)
    config_file = folder / "config.json"
    config = json.loads(config_file.read_text())
    config["max_position_embeddings"] = 4096  # rotary positions are computed, not stored
    config_file.write_text(json.dumps(config, indent=2))
    return folder


@pytest.fixture(scope="session")
def rel_index() -> Path:
    from pedgpt.knowledge.index import INDEX_FILE, load_index

    path = SHARED_KB_HOME / "knowledge" / INDEX_FILE
    load_index(path=path)
    return path


@pytest.fixture(scope="session")
def app_server(rel_model_dir, rel_index, tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("rel-app-home"), rel_model_dir, rel_index)
    server.add_users(PASSWORDS)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def login(app_server):
    """login(name) → a gradio_client.Client signed in to `app_server` as that account."""
    from bench.load import connect

    return lambda name: connect(app_server.url, name, PASSWORDS[name])

