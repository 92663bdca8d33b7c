"""Repetition-loop detector: does an answer fall into a repeated n-gram loop?

Small models under greedy decoding often repeat a phrase until the token limit ("多喝水。多喝水。
多喝水。…"). An answer counts as looping when either
- a unit of 1..`max_unit` tokens repeats back to back at least `min_repeats` times covering at
  least `min_span` tokens, or
- one sentence of at least `min_sentence_chars` characters occurs `min_repeats` times or more.

    from pedgpt.eval.repetition import has_loop
    has_loop("多喝水。" * 5)    # True
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pedgpt.errors import InputError

_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")


@dataclass(frozen=True)
class LoopConfig:
    """Thresholds of the loop detector."""

    max_unit: int = 20
    """Longest repeating unit considered, in tokens."""
    min_repeats: int = 3
    """Back-to-back copies (or sentence occurrences) that make a loop."""
    min_span: int = 8
    """Tokens the back-to-back copies must cover together (so "哈哈哈" is not a loop)."""
    min_sentence_chars: int = 6
    """Shortest sentence whose repetition counts."""

    def __post_init__(self) -> None:
        if self.max_unit < 1 or self.min_repeats < 2 or self.min_span < 2:
            raise InputError("LoopConfig: max_unit >= 1, min_repeats >= 2, min_span >= 2")


def has_loop(text: str, config: LoopConfig = LoopConfig()) -> bool:
    """True when the answer contains a repeated n-gram loop (see module docstring)."""
    from pedgpt.eval.metrics import tokenize

    tokens = [t for t in tokenize(text) if t.strip()]
    return _consecutive_loop(tokens, config) or _repeated_sentence(text, config)


def _consecutive_loop(tokens: list[str], config: LoopConfig) -> bool:
    n = len(tokens)
    for unit in range(1, config.max_unit + 1):
        needed = max(config.min_repeats, -(-config.min_span // unit))  # copies, ceil(span/unit)
        if unit * needed > n:
            break
        run = 0  # positions i where tokens[i] == tokens[i - unit], consecutively
        for i in range(unit, n):
            run = run + 1 if tokens[i] == tokens[i - unit] else 0
            if run >= unit * (needed - 1):
                return True
    return False


def _repeated_sentence(text: str, config: LoopConfig) -> bool:
    sentences = [s.strip() for s in _SENTENCE_END.split(text)]
    counts = Counter(s for s in sentences if len(s) >= config.min_sentence_chars)
    return any(c >= config.min_repeats for c in counts.values())
