"""Authored instructions: self-cognition (who PedGPT is, what it must not do) and general
instructions (keeps general skills, the role of Alpaca/ShareGPT in the paper), read from
`assets/data/self_cognition.yaml` and `assets/data/general.yaml`.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

import yaml

from pedgpt.errors import InputError
from pedgpt.language import detect_language
from pedgpt.paths import asset
from train.data.records import Example

SELF_COGNITION_FILE = ("data", "self_cognition.yaml")
GENERAL_FILE = ("data", "general.yaml")


@lru_cache(maxsize=4)
def _load(*parts: str) -> dict[str, Any]:
    path = asset(*parts)
    if not path.is_file():
        raise InputError(f"data file not found: {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def self_cognition_examples(rng: random.Random, questions_per_item: int) -> list[Example]:
    """Up to `questions_per_item` questions per item and language, each with the item's answer."""
    out = []
    for item in _load(*SELF_COGNITION_FILE)["items"]:
        for language in ("zh", "en"):
            block = item.get(language)
            if not block:
                continue
            questions = rng.sample(block["questions"], min(len(block["questions"]), questions_per_item))
            for question in questions:
                out.append(Example(
                    task="self_cognition", source=f"authored:self_cognition:{item['id']}",
                    messages=[{"role": "user", "content": question},
                              {"role": "assistant", "content": block["answer"].strip()}],
                    language=language, style="en" if language == "en" else "parent_zh",
                ))
    return out


def general_examples() -> list[Example]:
    out = []
    for index, item in enumerate(_load(*GENERAL_FILE)["items"]):
        language = detect_language(item["q"])
        out.append(Example(
            task="general", source=f"authored:general:{index}",
            messages=[{"role": "user", "content": item["q"]},
                      {"role": "assistant", "content": item["a"].strip()}],
            language=language, style="en" if language == "en" else "parent_zh",
        ))
    return out


def authored_texts() -> list[str]:
    """Every authored answer and question (for the held-out name check)."""
    texts = []
    for item in _load(*SELF_COGNITION_FILE)["items"]:
        for language in ("zh", "en"):
            block = item.get(language) or {}
            texts.extend(block.get("questions", []))
            texts.append(block.get("answer", ""))
    for item in _load(*GENERAL_FILE)["items"]:
        texts.extend([item["q"], item["a"]])
    return texts
