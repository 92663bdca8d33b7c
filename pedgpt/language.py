"""Detect the language of a user's text: "zh" or "en".

Decide by the share of CJK characters first (langdetect is unreliable on very short Chinese
text), and only fall back to langdetect for text with few letters of either kind.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]")
_LATIN = re.compile(r"[A-Za-z]")

#: Share of Chinese words among all words above which the text is Chinese. Chinese medical text
#: often carries Latin drug names and abbreviations (ibuprofen, CRP), so the bar is low.
CJK_SHARE_FOR_CHINESE = 0.3
#: Average characters per Chinese word, to compare CJK character counts with Latin word counts.
CJK_CHARS_PER_WORD = 1.7
_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）")
#: Latin words of 3+ letters count; shorter ones are mostly units and abbreviations (mg, kg, q6h).
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def cjk_share(text: str) -> float:
    """Estimated share of Chinese words among all words (0 when there are none).

    Bracketed asides are ignored when something is left outside them, so that an English
    sentence glossing a drug name in Chinese — "Tylenol (对乙酰氨基酚)" — stays English."""
    outside = _BRACKETED.sub(" ", text)
    if _CJK.search(outside) or _LATIN.search(outside):
        text = outside
    cjk_words = len(_CJK.findall(text)) / CJK_CHARS_PER_WORD
    words = cjk_words + len(_LATIN_WORD.findall(text))
    return cjk_words / words if words else 0.0


def detect_language(text: str, default: str = "zh") -> str:
    """"zh" or "en" for the given text; `default` for text with no letters at all."""
    if not text or not text.strip():
        return default
    cjk = len(_CJK.findall(text))
    if cjk and cjk_share(text) >= CJK_SHARE_FOR_CHINESE:
        return "zh"
    if not _LATIN.search(text):
        return "zh" if cjk else default
    if not cjk:
        return "en"
    return _langdetect(text, default)


def _langdetect(text: str, default: str) -> str:
    try:
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0  # deterministic
        code = detect(text)
    except Exception:  # langdetect raises on featureless text
        return default
    return "zh" if code.startswith("zh") or code in ("ja", "ko") else "en"
