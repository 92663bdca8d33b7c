"""UI strings: both languages carry the same keys and placeholders; language choice."""

import re
import string

import pytest

from ui.i18n import LANGUAGES, browser_language, normalize, strings, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders():
    zh, en = strings("zh"), strings("en")
    assert set(zh) == set(en)
    assert len(zh) > 100
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key
        assert zh[key].strip() and en[key].strip(), key


def test_chinese_strings_are_chinese_and_english_are_not():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert cjk.search(t("tabs.consult", "zh")) and not cjk.search(t("tabs.consult", "en"))
    assert t("tabs.diagnose", "zh") == "诊断" and t("tabs.medicate", "zh") == "用药建议"


def test_placeholders_are_filled_and_missing_keys_fail_loudly():
    assert t("errors.too_long", "en", length=9000, limit=4000) == (
        "The message is too long: 9000 characters, at most 4000")
    with pytest.raises(KeyError):
        t("no.such.key", "zh")


@pytest.mark.parametrize("header, expected", [
    ("en-US,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("fr-FR,en;q=0.5,zh;q=0.7", "zh"),
    ("fr-FR,en;q=0.5", "en"),
    ("", "zh"),
    (None, "zh"),
    ("de-DE", "zh"),
    ("en;q=abc", "en"),
])
def test_browser_language(header, expected):
    assert browser_language(header) == expected


def test_normalize_maps_any_code_to_a_supported_language():
    assert normalize("en-GB") == "en" and normalize("zh_TW") == "zh"
    assert normalize(None) in LANGUAGES and normalize("xx") in LANGUAGES
