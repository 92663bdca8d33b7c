"""Where things live: the repository's `assets/` folder and the per-user data folder.

`PEDGPT_HOME` (default: `$XDG_DATA_HOME/pedgpt`, i.e. `~/.local/share/pedgpt`) holds caches
(assembled model, knowledge index) and the default SQLite database.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Data files (prompts, rule and dose tables, UI strings, CSS) shipped with the repository.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def pedgpt_home() -> Path:
    """The per-user data folder, created on first use."""
    explicit = os.environ.get("PEDGPT_HOME")
    if explicit:
        home = Path(explicit).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(base) / "pedgpt"
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir(name: str) -> Path:
    """A named sub-folder of `PEDGPT_HOME` (e.g. "models", "knowledge"), created on first use."""
    path = pedgpt_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def asset(*parts: str) -> Path:
    """Path of a shipped data file under `assets/`."""
    return ASSETS_DIR.joinpath(*parts)
