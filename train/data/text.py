"""Small text helpers for the data builder: seeded choice, value clean-up, list joining, token
estimates. No clinical content lives here.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Iterable, Sequence, TypeVar

T = TypeVar("T")

#: Knowledge-graph values are noisy fragments ("烦渴等", " 发热 "); these suffixes add nothing.
_TRAILING = re.compile(r"(等等|等|等症状|等情况)$")
_TOKEN = re.compile(r"[\u3400-\u9fff]|[A-Za-z]+|\d+(?:\.\d+)?|\S")
_CJK = re.compile(r"[\u3400-\u9fff]")


def rng_for(seed: int, *labels: str) -> random.Random:
    """An independent generator per (seed, purpose), stable across processes (no `hash()`)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *labels]).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def clean_values(values: Iterable[str], exclude: str = "", max_chars: int = 40) -> list[str]:
    """Strip, drop trailing 等, de-duplicate (order kept), drop empties, the entity's own name and
    over-long fragments."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in values:
        value = _TRAILING.sub("", str(raw).strip().strip("，,。;；、")).strip()
        if not value or value == exclude or len(value) > max_chars or value in seen:
            continue
        seen.add(value)
        out.append(value)
    return out


def join_items(items: Sequence[str], language: str) -> str:
    """A readable inline list: 甲、乙和丙 / a, b and c."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if language == "en":
        return ", ".join(items[:-1]) + " and " + items[-1]
    return "、".join(items[:-1]) + "和" + items[-1]


def numbered(items: Sequence[str]) -> str:
    """1. a\n2. b … (one item per line)."""
    return "\n".join(f"{index}. {item}" for index, item in enumerate(items, 1))


def approx_tokens(text: str) -> int:
    """Tokenizer-free length estimate: one per CJK character, Latin word, number or symbol.

    Close to what BPE tokenizers of Chinese chat models (Qwen, Baichuan) give for Chinese text;
    used only for the CPT mixing ratio and the length statistics."""
    return len(_TOKEN.findall(text))


def cjk_heavy(text: str) -> bool:
    return bool(_CJK.search(text))


def sample(rng: random.Random, items: Sequence[T], k: int) -> list[T]:
    """Up to k distinct items, in random order."""
    items = list(items)
    return rng.sample(items, min(k, len(items)))


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
