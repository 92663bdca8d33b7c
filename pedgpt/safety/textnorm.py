"""Text helpers for the safety layer: length-preserving normalisation and number parsing.

`normalize` maps full-width ASCII (３８．５, ＫＧ, ：) to half-width one character for one
character, so that spans found in the normalised text are valid in the original text.
`cn_number` reads Chinese numerals (三, 十二, 两, 三十八, 半) and Arabic digits.
"""

from __future__ import annotations

import re

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0x2212: 0x2D, 0x2013: 0x2D, 0x2014: 0x2D, 0xFF5E: 0x7E})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_EN_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
             "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
             "eighteen": 18, "nineteen": 19, "twenty": 20, "half": 0.5, "a couple of": 2,
             "couple of": 2, "few": 3, "a few": 3, "several": 3}

#: A number as it appears in zh or en text (digits, Chinese numerals, English number words).
NUM = (r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百半]+|"
       r"(?:a couple of|couple of|a few|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
       r"twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|half|an|a)(?![a-z]))")


def normalize(text: str) -> str:
    """Full-width ASCII → half-width, same length as the input (so spans stay valid)."""
    return text.translate(_FULLWIDTH)


def cn_number(token: str) -> float | None:
    """'38' → 38, '三十八' → 38, '两' → 2, '十二' → 12, '半' → 0.5, 'three' → 3; None if unreadable."""
    token = token.strip().lower()
    if not token:
        return None
    try:
        return float(token)
    except ValueError:
        pass
    if token in _EN_WORDS:
        return float(_EN_WORDS[token])
    if token == "半":
        return 0.5
    return _cn_integer(token)


def _cn_integer(token: str) -> float | None:
    if any(ch not in _CN_DIGITS and ch not in "十百" for ch in token):
        return None
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return float(total + current)


def first_number(text: str) -> float | None:
    """The first number (digits or numerals) in `text`."""
    match = re.search(NUM, text, flags=re.IGNORECASE)
    return cn_number(match.group(0)) if match else None
