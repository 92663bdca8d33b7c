"""Helpers shared by the web-app tests' fixtures and the browser test (no pytest here)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

UI_CONTEXT_TOKENS = 4096
SHARED_KB_HOME = Path(os.environ.get("PEDGPT_TEST_KB_CACHE")
                      or Path.home() / ".cache" / "pedgpt-test" / "knowledge")


def long_context_copy(tiny: Path, folder: Path) -> Path:
    """A copy of the shared tiny model whose context fits the app's real prompts (rotary
    position embeddings are computed per position, so only the config changes)."""
    shutil.copytree(tiny, folder, dirs_exist_ok=True)
    config_file = folder / "config.json"
    config = json.loads(config_file.read_text())
    config["max_position_embeddings"] = UI_CONTEXT_TOKENS
    config_file.write_text(json.dumps(config, indent=2))
    return folder


def shared_index_path() -> Path:
    """Build (once per machine) and return the real knowledge index file."""
    from pedgpt.knowledge.index import INDEX_FILE, load_index

    path = SHARED_KB_HOME / "knowledge" / INDEX_FILE
    load_index(path=path)
    return path


def link_index(index: Path, home: Path) -> None:
    from pedgpt.knowledge.index import INDEX_FILE

    target = home / "knowledge" / INDEX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(index)
