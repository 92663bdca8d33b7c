"""Question phrasings and answer building blocks, read from `assets/data/templates.yaml`.

Three styles: `parent_zh` (colloquial parent), `clinician_zh` (clinician) and `en` (English).
Every choice takes the caller's seeded `random.Random`, so a build is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from pedgpt.errors import InputError
from pedgpt.paths import asset

STYLES = ("parent_zh", "clinician_zh", "en")
TEMPLATES_FILE = ("data", "templates.yaml")


def language_of(style: str) -> str:
    return "en" if style == "en" else "zh"


@lru_cache(maxsize=1)
def load_templates() -> dict[str, Any]:
    path = asset(*TEMPLATES_FILE)
    if not path.is_file():
        raise InputError(f"data templates not found: {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class Phraser:
    """Seeded access to the templates; `en_share`/`clinician_share` steer the style mix."""

    rng: random.Random
    en_share: float = 0.12
    clinician_share: float = 0.4

    def __post_init__(self) -> None:
        self.t = load_templates()

    def style(self) -> str:
        if self.rng.random() < self.en_share:
            return "en"
        return "clinician_zh" if self.rng.random() < self.clinician_share else "parent_zh"

    def styles(self, count: int) -> list[str]:
        """`count` styles, favouring different ones (a parent and a clinician phrasing)."""
        first = self.style()
        rest = [s for s in STYLES if s != first and s != "en"] or [first]
        out = [first]
        while len(out) < count:
            out.append(self.style() if len(out) > 1 else self.rng.choice(rest))
        return out

    def pick(self, *path: str) -> Any:
        """A random entry of the list at `path` (or the value itself when it is not a list)."""
        node: Any = self.t
        for key in path:
            node = node[key]
        return self.rng.choice(node) if isinstance(node, list) else node

    def has(self, *path: str) -> bool:
        node: Any = self.t
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return bool(node)

    def question(self, section: str, key: str | None, style: str, **values: str) -> str:
        path = (section, key, style) if key else (section, style)
        if not self.has(*path):
            path = (*path[:-1], "parent_zh") if style != "en" else path
        return self.pick(*path).format(**values)

    def opening(self, style: str) -> str:
        return self.pick("openings", style)

    def closing(self, style: str) -> str:
        return self.pick("closings", style)

    def text(self, *path: str, **values: str) -> str:
        return self.pick(*path).format(**values)

    def age(self, groups: list[str], language: str) -> str:
        """An age phrase that fits the disease's population (多发群体)."""
        for band in self.t["age_phrases"]:
            if any(key in group for group in groups for key in band["keys"]):
                return self.rng.choice(band[language])
        return self.rng.choice(self.t["default_ages"][language])

    def sex(self, language: str) -> str:
        return self.rng.choice(self.t["sexes"][language])
