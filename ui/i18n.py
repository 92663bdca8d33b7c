"""UI strings in Chinese and English, read from `assets/i18n/{zh,en}.yaml`.

    from ui.i18n import t, browser_language
    t("chat.send", "en")                          # "Send"
    t("errors.too_long", "zh", length=9000, limit=4000)
    browser_language("en-US,en;q=0.9")            # "en"

Keys are dotted paths into the YAML files; both files carry the same keys (a test checks), so a
missing key is a programming error and raises KeyError rather than showing a blank label.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from pedgpt.paths import asset

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


@lru_cache(maxsize=None)
def strings(language: str) -> dict[str, str]:
    """All strings of one language as a flat {"dotted.key": text} dict."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    with open(asset("i18n", f"{language}.yaml"), encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle) or {})


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = str(value)
    return flat


def t(key: str, language: str = DEFAULT_LANGUAGE, **values) -> str:
    """The string `key` in `language`, with `{fields}` filled from `values`."""
    text = strings(normalize(language))[key]
    return text.format(**values) if values else text


def normalize(language: str | None) -> str:
    """Any language code ("en-GB", "zh_CN", None) → one of LANGUAGES."""
    code = (language or "").strip().lower()
    return "en" if code.startswith("en") else DEFAULT_LANGUAGE


def browser_language(accept_language: str | None) -> str:
    """Pick zh/en from an HTTP Accept-Language header (highest q among the ones we have)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or not (tag.startswith("zh") or tag.startswith("en")):
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = normalize(tag), q
    return best
