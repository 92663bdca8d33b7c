"""Detect the language of a user's text: "zh" or "en".

Decide by the share of CJK characters first (langdetect is unreliable on very short Chinese
text), and only fall back to langdetect for text with few letters of either kind.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]")
_LATIN = re.compile(r"[A-Za-z]")

#: Share of CJK characters among letters above which the text is Chinese. Chinese medical text
#: often carries Latin drug names, units and abbreviations (mg, CRP, q6h), so the bar is low.
CJK_SHARE_FOR_CHINESE = 0.2


def cjk_share(text: str) -> float:
    """Share of CJK characters among CJK + Latin letters (0 when there are none)."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    letters = cjk + latin_words
    return cjk / letters if letters else 0.0


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
