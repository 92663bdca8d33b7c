"""Text helpers for the safety layer: length-preserving normalisation and number parsing.

`normalize` maps full-width ASCII (３８．５, ＫＧ, ：) to half-width one character for one
character, so that spans found in the normalised text are valid in the original text.
`cn_number` reads Chinese numerals (三, 十二, 两, 三十八, 半) and Arabic digits.
"""

from __future__ import annotations

import re

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0x2212: 0x2D, 0x2013: 0x2D, 0x2014: 0x2D, 0xFF5E: 0x7E,
                   0x2019: 0x27, 0x2018: 0x27, 0x02BC: 0x27})  # curly apostrophes: "won’t" → "won't"

#: Traditional → simplified for characters common in paediatric complaints (one for one, so the
#: length is kept); enough for 發燒/抽搐/頸部僵硬 style text without a full converter.
_TRAD = dict(zip(
    "發燒歲個熱頸嘔瀉驚體溫嗎沒無醫藥軟聽嚴脫蒼週歷氣喚僅燙紅點脹腫瘡癢顏臉膚喫餵睏紺囪癲癇痙攣驟兩與還們這現剛過後幾會問頭淚乾濕囉壓嚨嗆診斷從來時開媽寶兒嬰見陣話認識應雙側動癱變麼說讓給總鐘續約頻煩涼脈將為種減於齡週腦膜傷塊內節膝盤據經歷吸歲嗽",
    "发烧岁个热颈呕泻惊体温吗没无医药软听严脱苍周历气唤仅烫红点胀肿疮痒颜脸肤吃喂困绀囟癫痫痉挛骤两与还们这现刚过后几会问头泪干湿啰压咙呛诊断从来时开妈宝儿婴见阵话认识应双侧动瘫变么说让给总钟续约频烦凉脉将为种减于龄周脑膜伤块内节膝盘据经历吸岁嗽"))
assert all(len(k) == len(v) == 1 for k, v in _TRAD.items())
_FULLWIDTH.update({ord(k): ord(v) for k, v in _TRAD.items() if k != v})

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
    """Full-width ASCII → half-width and common traditional → simplified characters, same length as
    the input (so spans stay valid)."""
    return text.translate(_FULLWIDTH)


_CONTRACTION = re.compile(r"(?<=[a-z])n't\b")


def loose_contractions(pattern: str) -> str:
    """Let an English pattern's "can't" / "won't" / "doesn't" also match the apostrophe-less
    spelling parents type ("cant", "wont", "doesnt"); the pattern's meaning is unchanged."""
    return _CONTRACTION.sub("n'?t", pattern)


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
