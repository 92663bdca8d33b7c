"""Language detection: CJK share first, langdetect only as a fallback."""

import pytest

from pedgpt.language import cjk_share, detect_language


@pytest.mark.parametrize("text, expected", [
    ("发烧", "zh"),
    ("咳", "zh"),
    ("宝宝发烧38.5度怎么办？", "zh"),
    ("布洛芬 ibuprofen 10 mg/kg q6h 可以吗", "zh"),
    ("CRP 升高，WBC 15×10^9/L，考虑什么", "zh"),
    ("My 2 year old has had a fever for three days", "en"),
    ("fever", "en"),
    ("Is Tylenol (对乙酰氨基酚) safe for a 3 month old baby with a cold?", "en"),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_default_for_text_without_letters():
    assert detect_language("38.5 ℃ !!!", default="en") == "en"
    assert detect_language("   ") == "zh"


def test_cjk_share_counts_words_not_latin_letters():
    assert cjk_share("abc") == 0.0
    assert cjk_share("发烧发烧 fever") == pytest.approx((4 / 1.7) / (4 / 1.7 + 1))
    assert cjk_share("Tylenol (对乙酰氨基酚)") == 0.0
    assert detect_language("My baby has 发烧 for 3 days, what should I do?") == "en"
