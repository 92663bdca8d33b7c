"""Extract patient facts from Chinese or English free text.

`extract_patient("6个月宝宝发烧39度2天，没有抽搐")` → PatientFacts(age_months=6, temp_c=39.0,
fever_days=2, findings=["fever"], negated=["convulsion"], ...). Handles ages (6个月, 1岁半,
2岁3个月, 3周, 10天, "6-week-old", "18 months", "2 yo"), temperatures (38.5度, 38度5, 38.5℃,
38.5°c, 101.3°F, 三十九度), weights (12kg, 12公斤, 24斤, 26 lb), respiratory and heart rate,
SpO2, capillary refill, fever duration and the findings of `triage_findings.yaml`, each
classified as present, negated, history or hypothetical by `pedgpt.safety.negation`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field

from pedgpt.safety import negation, tables
from pedgpt.safety.growth import weight_range
from pedgpt.safety.textnorm import NUM, cn_number, loose_contractions, normalize

DAYS_PER_MONTH = 30.4375  # unit conversion (365.25 / 12), not a clinical value
LB_TO_KG = 0.45359237
C_RANGE = (30.0, 45.0)     # plausible body temperatures in °C: parsing sanity bounds
F_RANGE = (86.0, 113.0)    # the same in °F
_KID = r"(?:男宝|女宝|宝宝|宝贝|孩子|小孩|婴儿|男婴|女婴|男孩|女孩|儿子|女儿|患儿|娃|宝|小朋友|新生儿|闺女)"


@dataclass
class PatientFacts:
    """What the text says about the patient; None where it says nothing."""

    age_months: float | None = None
    weight_kg: float | None = None
    temp_c: float | None = None
    """Highest temperature mentioned, in °C."""
    temp_site: str | None = None
    """axillary, rectal, oral, ear or forehead when stated."""
    resp_rate: float | None = None
    heart_rate: float | None = None
    spo2: float | None = None
    crt_s: float | None = None
    fever_days: float | None = None
    findings: list[str] = field(default_factory=list)
    """Finding ids present now."""
    negated: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    hypothetical: list[str] = field(default_factory=list)
    weight_plausible: bool | None = None
    """False when the weight is outside the plausibility envelope for the age (growth.yaml)."""
    age_estimated: bool = False
    """True when the age comes from a word such as 新生儿/newborn rather than a number."""

    def to_dict(self) -> dict:
        return asdict(self)

    def has(self, finding_id: str) -> bool:
        return finding_id in self.findings


def extract_patient(text: str) -> PatientFacts:
    """Patient facts from free text (never raises on odd text; unknowns stay None)."""
    norm = normalize(text or "")
    facts = PatientFacts()
    facts.age_months, facts.age_estimated = extract_age(norm)
    facts.weight_kg = extract_weight(norm)
    facts.temp_c = extract_temperature(norm)
    facts.temp_site = _temp_site(norm)
    facts.resp_rate = _vital(norm, _RR, 5, 150)
    facts.heart_rate = _vital(norm, _HR, 30, 300)
    facts.spo2 = _vital(norm, _SPO2, 40, 100)
    facts.crt_s = _crt(norm)
    facts.fever_days = extract_fever_days(norm)
    _fill_findings(norm, facts)
    facts.weight_plausible = weight_plausible(facts.weight_kg, facts.age_months)
    return facts


def weight_plausible(weight_kg: float | None, age_months: float | None) -> bool | None:
    if weight_kg is None or age_months is None:
        return None
    low, high = weight_range(age_months)
    return low <= weight_kg <= high


# ----------------------------------------------------------------------------- age

_AGE_ZH_YEARS = re.compile(rf"({NUM})\s*周?岁\s*(半)?(?:\s*(?:零|又)?\s*({NUM})\s*个?多?月)?")
_AGE_ZH_MONTHS = [
    re.compile(rf"({NUM})\s*个?(?:多)?月(?:大|龄|的{_KID}|{_KID}|了?[,，、\s]*{_KID}?(?=[,，。\s]|$))"),
    re.compile(rf"(?:{_KID}|出生|生后|我家|今年|月龄)\s*(?:才|刚|刚满|满|已经|只有|有|现在|今天)?\s*({NUM})\s*个?(?:多)?月"),
    re.compile(rf"^\s*({NUM})\s*个?(?:多)?月(?![前来以后])"),
]
_AGE_ZH_WEEKS = [
    re.compile(rf"({NUM})\s*(?:周|星期)(?:大|龄|的{_KID}|{_KID})"),
    re.compile(rf"{_KID}\s*(?:才|刚|刚满|满|已经|只有|现在|今天)?\s*({NUM})\s*(?:个)?(?:周|星期)(?:大)?(?:了)?(?=[,，。\s]|$)"),
    re.compile(rf"(?:{_KID}|出生|生后|我家)\s*(?:才|刚|刚满|满|已经|只有|有)?\s*({NUM})\s*(?:个)?(?:周|星期)"),
    re.compile(rf"^\s*({NUM})\s*(?:周|星期)(?![前来以后])"),
]
_AGE_ZH_DAYS = [
    re.compile(rf"({NUM})\s*天(?:大|龄|的{_KID}|{_KID})"),
    re.compile(rf"{_KID}\s*(?:才|刚|刚满|满|已经|只有|现在|今天)?\s*({NUM})\s*天(?:大)?(?:了)?(?=[,，。\s]|$)"),
    re.compile(rf"(?:出生后?|生后|日龄|新生儿|{_KID}出生后?)\s*(?:才|刚|刚满|满|已经|只有|有|第)?\s*({NUM})\s*天"),
    re.compile(rf"^\s*({NUM})\s*天(?![前来以后])(?=.{{0,4}}({_KID}|[,，]))"),
]
_UNIT_MONTHS = {"day": 1 / DAYS_PER_MONTH, "week": 7 / DAYS_PER_MONTH, "month": 1.0, "year": 12.0}
_EN_UNIT = (r"(days?|d|weeks?|wks?|wk|w|months?|mos?|mths?|m|years?|yrs?|yr|y)")
_AGE_EN = [
    re.compile(rf"\b({NUM})\s*(years?|yrs?|y)\s*(?:and\s*)?({NUM})\s*(months?|mos?|m)\b(?:[\s-]*old)?", re.I),
    re.compile(rf"\b({NUM})[\s-]*{_EN_UNIT}[\s-]*old\b", re.I),
    re.compile(rf"\b(?:aged?|age:?)\s*({NUM})\s*{_EN_UNIT}?\b", re.I),
    re.compile(rf"\b({NUM})\s*(yo|y/o|y\.o\.?|yrs?|years?|y)(?![a-z/])(?!\s*(?:ago|of|history))", re.I),
    re.compile(rf"(?<!for )(?<!since )(?<!over )(?<!past )(?<!last )(?<!x )(?<!in )(?<!within )(?<!every )(?<!after )"
               rf"(?<!than )(?<!next )(?<!per )(?<!-)\b({NUM})\s*(months?|mos?|mths?|m|weeks?|wks?)"
               rf"(?![a-z])(?!\s*(?:ago|of|history|later|before))", re.I),
]
_NEWBORN = re.compile(r"新生儿|newborn|neonate|neonatal", re.I)
_ZH_SPECIAL_AGES = ((re.compile(r"满月|刚满月"), 1.0), (re.compile(r"百天|百日"), 100 / DAYS_PER_MONTH),
                    (re.compile(r"半岁"), 6.0), (re.compile(rf"{_KID}\s*(?:才|刚)?\s*半个月"), 0.5))
#: "没满3个月" / "不到2岁" / "under 3 months": just below the bound (the bound minus half a unit).
_AGE_UNDER_AFTER = re.compile(rf"({NUM})\s*(个月|岁|周|天)\s*(?:还)?(?:不到|未满|没满|不满)")
_AGE_UNDER = re.compile(rf"(?:没满|未满|不满|不到|不足|还没到|小于|under|less than|younger than|not yet)\s*({NUM})\s*"
                        r"(个月|月|岁|周|天|months?|years?|weeks?|days?)(?:\s*old)?", re.I)
_AGE_ZH_HALF_MONTHS = re.compile(rf"({NUM})\s*个半月(?!前|来|以来|了?[没不])")
#: Symptom words: "咳嗽3个月了" is a duration, not the age.
_ZH_DURATION_CONTEXT = re.compile(r"咳|嗽|烧|热|吐|泻|拉|痛|疼|喘|病|痒|疹|持续|反复|断断续续|流涕|鼻涕")


def extract_age(text: str) -> tuple[float | None, bool]:
    """Age in months and whether it is an estimate (新生儿/newborn without a number)."""
    for finder in (_age_clinical, _age_zh, _age_en):
        age = finder(text)
        if age is not None:
            return round(age, 3), False
    if _NEWBORN.search(text):
        return 0.5, True
    return None, False


#: UK clinical shorthand: "6/52 old" (weeks), "18/12 boy" (months), "10/7 neonate" (days); only
#: next to a word that makes it an age, so dates ("3/12") and ratios are not read as ages.
_AGE_CLINICAL = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(52|12|7)(?![\d/])\s*(?:-?\s*(?:old|o\.?)\b|(?:week|month|day)s?\b|"
                           r"(?:male|female|m|f|boy|girl|infant|baby|neonate|child|toddler|ex-?prem|pt|patient|男|女|婴)\b)",
                           re.IGNORECASE)
_CLINICAL_UNIT = {"52": 7 / DAYS_PER_MONTH, "12": 1.0, "7": 1 / DAYS_PER_MONTH}


def _age_clinical(text: str) -> float | None:
    m = _AGE_CLINICAL.search(text)
    return float(m.group(1)) * _CLINICAL_UNIT[m.group(2)] if m else None


def _age_under(text: str) -> float | None:
    m = _AGE_UNDER.search(text) or _AGE_UNDER_AFTER.search(text)
    value = cn_number(m.group(1)) if m else None
    if value is None:
        return None
    unit = m.group(2).lower()
    months = {"岁": 12.0, "周": 7 / DAYS_PER_MONTH, "天": 1 / DAYS_PER_MONTH}.get(unit[0], None)
    if months is None:
        months = _UNIT_MONTHS[_en_unit(unit, default="month")] if unit[0].isascii() else 1.0
    return max(0.0, (value - 0.5) * months)


def _age_zh(text: str) -> float | None:
    under = _age_under(text)
    if under is not None:
        return under
    m = _AGE_ZH_YEARS.search(text)
    if m:
        years = cn_number(m.group(1))
        if years is not None:
            months = cn_number(m.group(3)) if m.group(3) else 0.0
            return years * 12 + (6 if m.group(2) else 0) + (months or 0)
    m = _AGE_ZH_HALF_MONTHS.search(text)
    if m and cn_number(m.group(1)) is not None and not _duration_context(text, m.start()):
        return cn_number(m.group(1)) + 0.5
    for patterns, unit in ((_AGE_ZH_MONTHS, "month"), (_AGE_ZH_WEEKS, "week"), (_AGE_ZH_DAYS, "day")):
        for pattern in patterns:
            for m in pattern.finditer(text):
                value = cn_number(m.group(1))
                if value is not None and not _duration_context(text, m.start()):
                    return value * _UNIT_MONTHS[unit]
    for pattern, months in _ZH_SPECIAL_AGES:
        if pattern.search(text):
            return months
    return None


def _duration_context(text: str, start: int) -> bool:
    clause_start = max((m.end() for m in re.finditer(r"[,，。;；!?！？\n]", text[:start])), default=0)
    return bool(_ZH_DURATION_CONTEXT.search(text[clause_start:start]))


def _age_en(text: str) -> float | None:
    m = _AGE_EN[0].search(text)
    if m:
        years, months = cn_number(m.group(1)), cn_number(m.group(3))
        if years is not None and months is not None:
            return years * 12 + months
    for i, pattern in enumerate(_AGE_EN[1:], start=1):
        m = pattern.search(text)
        if not m:
            continue
        value = cn_number(m.group(1))
        unit = _en_unit(m.group(2) if m.lastindex and m.lastindex >= 2 else None, default="year")
        if value is not None:
            return value * _UNIT_MONTHS[unit]
    return None


def _en_unit(token: str | None, default: str) -> str:
    if not token:
        return default
    t = token.lower().rstrip(".")
    if t.startswith(("d",)):
        return "day"
    if t.startswith("w"):
        return "week"
    if t.startswith("m"):
        return "month"
    return "year"


# ----------------------------------------------------------------------------- weight

_WEIGHT_KG = re.compile(r"(?<![/\d.])(\d+(?:\.\d+)?)\s*(?:kg|kgs|公斤|千克|kilograms?|kilos?)(?![a-z/])", re.I)
_WEIGHT_JIN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*斤")
_WEIGHT_LB = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:lbs?|pounds?)(?![a-z])", re.I)
_WEIGHT_BARE = re.compile(r"(?:体重|weight|weighs|weighing|wt)\s*(?:is|of|:|=|为|是|有|约|大约|大概)?\s*"
                          r"(?:about|around|approx\.?)?\s*(\d+(?:\.\d+)?)(?!\s*(?:斤|kg|公斤|千克|lb|pound|g|克|\d|\.))",
                          re.I)


def extract_weight(text: str) -> float | None:
    """Weight in kg (斤 = 0.5 kg, lb converted); None if absent."""
    for pattern, factor in ((_WEIGHT_KG, 1.0), (_WEIGHT_JIN, 0.5), (_WEIGHT_LB, LB_TO_KG), (_WEIGHT_BARE, 1.0)):
        m = pattern.search(text)
        if m:
            return round(float(m.group(1)) * factor, 3)
    return None


# ----------------------------------------------------------------------------- temperature

_TEMP_C = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*(°\s*c|℃|°|度|摄氏度|degrees?\s*(?:c|celsius)?|c\b)"
                     r"(?:\s*([1-9])(?![\d个天小分次周月岁年]))?(半)?", re.I)
_TEMP_CN = re.compile(r"([三四]十[一二三四五六七八九]?)\s*度\s*(半|[一二三四五六七八九])?")
_TEMP_F = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*(?:°\s*f|℉|f\b|华氏度?|degrees?\s*f(?:ahrenheit)?\b|fahrenheit)", re.I)
_TEMP_BARE = re.compile(r"(?:体温|温度|腋温|肛温|耳温|额温|口温|烧到|发烧到|最高|高达|发烧|发热|高烧|高热|低烧|"
                        r"temp(?:erature)?|tmax|\bt\b|fever(?:ish)?|febrile|spiked?)\s*"
                        r"(?:is|was|of|at|to|up to|reached|hit|:|=|达|为|是|有|到|了|最高|高达|一直|反复|计|显示|测得|测了|量了|量得|测出|\s)*\s*"
                        r"(\d{2,3}(?:\.\d+)?)(?!\s*(?:次|kg|公斤|mg|ml|%|天|岁|个|小时|h\b|d\b|days?|months?|年|周|分|bpm|/))",
                        re.I)


#: A bare one-decimal number in the body-temperature range ("量了一下37.9", "37.9 under the arm").
_TEMP_DECIMAL = re.compile(r"(?<![\d.])(3[5-9]\.\d|4[0-2]\.\d)(?![\d.])(?!\s*(?:kg|公斤|千克|斤|lb|cm|厘米|mg|ml|%|次|岁|个月|天|小时|h\b|g\b|克))",
                           re.I)
_NOT_TEMP_BEFORE = re.compile(r"(体重|weight|weighs|身高|height|重|长)\s*(is|of|:|=|为|是|有|约)?\s*$", re.I)


_COMMA_DECIMAL = re.compile(r"(?<![\d.,])(3[5-9]|4[0-2]),(\d)(?=\s*(?:°|℃|度|c\b))", re.I)


def extract_temperature(text: str) -> float | None:
    """The highest body temperature mentioned, in °C (°F converted); '38,5℃' reads as 38.5."""
    text = _COMMA_DECIMAL.sub(r"\1.\2", text)
    values = [v for v in (_celsius(m) for m in _TEMP_C.finditer(text)) if v]
    values += [float(m.group(1)) for m in _TEMP_DECIMAL.finditer(text)
               if not _NOT_TEMP_BEFORE.search(text[max(0, m.start() - 12):m.start()])]
    values += [v for v in (_cn_celsius(m) for m in _TEMP_CN.finditer(text)) if v]
    values += [v for v in (_fahrenheit(float(m.group(1))) for m in _TEMP_F.finditer(text)) if v]
    values += [v for v in (_bare(float(m.group(1))) for m in _TEMP_BARE.finditer(text)) if v]
    return round(max(values), 2) if values else None


def _celsius(m: re.Match) -> float | None:
    value = float(m.group(1))
    if m.group(2).lower().startswith("degree") and F_RANGE[0] <= value <= F_RANGE[1] and value > C_RANGE[1]:
        return _fahrenheit(value)
    if m.group(3) and "." not in m.group(1) and m.group(2) in ("度", "°"):
        value += int(m.group(3)) / 10
    if m.group(4):
        value += 0.5
    return value if C_RANGE[0] <= value <= C_RANGE[1] else None


def _cn_celsius(m: re.Match) -> float | None:
    value = cn_number(m.group(1))
    if value is None:
        return None
    tail = m.group(2)
    if tail:
        value += 0.5 if tail == "半" else (cn_number(tail) or 0) / 10
    return value if C_RANGE[0] <= value <= C_RANGE[1] else None


def _fahrenheit(value: float) -> float | None:
    return round((value - 32) * 5 / 9, 2) if F_RANGE[0] <= value <= F_RANGE[1] else None


def _bare(value: float) -> float | None:
    if C_RANGE[0] <= value <= C_RANGE[1]:
        return value
    return _fahrenheit(value)


_SITES = (("axillary", r"腋温|腋下|axilla(ry)?|armpit|under the arm"), ("rectal", r"肛温|肛门|rectal(ly)?"),
          ("ear", r"耳温|tympanic|\bear\b"), ("forehead", r"额温|额头|forehead"), ("oral", r"口温|oral(ly)?"))


def _temp_site(text: str) -> str | None:
    for site, pattern in _SITES:
        if re.search(pattern, text, re.I):
            return site
    return None


# ----------------------------------------------------------------------------- vitals

_GAP = r"\s*(?:is|was|of|at|about|around|only|just|reads?|reading|showing|shows?|down to|dropped to|:|=|为|是|达|约|有|大约|高达|快到|显示|测得|测出|测的|只有|才|掉到|降到|每分钟|一分钟|per minute|a minute|\s)*\s*(?:>|大于|超过|高于|more than|over|above|greater than)?\s*(?:≥|>=)?\s*"
_RR = [re.compile(rf"(?:呼吸(?:频率|次数|速率)?|\bRR\b|\bR\b|resp(?:iratory)?\.?\s*rate|breathing(?:\s*rate)?|"
                  rf"breaths?){_GAP}(\d{{2,3}})(?!\s*(?:%|kg|天|岁|个月|度|°|mg|ml|秒|s\b))", re.I),
       re.compile(r"(\d{2,3})\s*(?:breaths?|次)\s*(?:per|a|/|每)\s*(?:min(?:ute)?|分(?:钟)?)(?=.{0,3}(?:呼吸|breath))", re.I),
       re.compile(r"(\d{2,3})\s*breaths?\s*(?:per|a|/)\s*min", re.I),
       re.compile(r"(?:呼吸|喘|气)[^。;；\d]{0,12}?(?:每|一|1)\s*分钟\s*(?:大概|大约|约|有|差不多|将近|快)?\s*(\d{2,3}|[二三四五六七八九十百]{2,4})\s*(?:多)?次"),
       re.compile(r"(?:breathing|breaths|respirations)[^.;\d]{0,30}?(\d{2,3})\s*(?:times|breaths)?\s*(?:a|per|/)\s*min", re.I)]
_HR = [re.compile(rf"(?:心率|脉搏|心跳|心动过速|\bHR\b|heart\s*rate|pulse(?:\s*rate)?|tachycardi[ac]){_GAP}(\d{{2,3}})(?!\s*(?:%|kg|度|°))", re.I)]
_SPO2 = [re.compile(rf"(?:血氧(?:饱和度)?|指脉氧|SpO2|SpO₂|SaO2|\bsats?\b|saturations?|oxygen\s*(?:saturation|level)|"
                    rf"O2\s*sats?){_GAP}(\d{{2,3}})\s*%?", re.I),
         re.compile(r"(\d{2,3})\s*%\s*(?:on room air|in air|\bRA\b|on air)", re.I)]
_CRT = re.compile(r"(?:毛细血管再?充盈(?:时间)?|再?充盈时间|\bCRT\b|cap(?:illary)?\s*refill(?:\s*time)?)\s*"
                  r"(?:is|was|of|:|=|为|约|\s)*\s*(>|≥|>=|大于|超过|more than|over|greater than)?\s*(\d+(?:\.\d+)?)", re.I)


_STRICTLY_ABOVE = re.compile(r">(?!=)|大于|超过|高于|more than|over|above|greater than", re.I)


def _vital(text: str, patterns: list[re.Pattern], low: float, high: float) -> float | None:
    for pattern in patterns:
        for m in pattern.finditer(text):
            value = cn_number(m.group(1))  # "六十五次" as well as "65次"
            if value is None:
                continue
            if _STRICTLY_ABOVE.search(text[m.start():m.start(1)]):
                value += 1  # "呼吸大于60次" / "RR over 60": strictly above the number
            if low <= value <= high:
                return value
    return None


def _crt(text: str) -> float | None:
    m = _CRT.search(text)
    if not m:
        return None
    value = float(m.group(2))
    if value > 20:
        return None
    return value + (0.5 if m.group(1) else 0.0)


# ----------------------------------------------------------------------------- fever duration

_DUR_UNITS = {"天": 1, "日": 1, "周": 7, "星期": 7, "个星期": 7, "礼拜": 7, "个月": 30, "月": 30}
_FEVER_ZH = r"(?:发烧|发热|烧|高热|高烧|低热|低烧)"
_FEVER_DAYS = [
    re.compile(rf"{_FEVER_ZH}[^，。,;；!?！？\d]{{0,6}}?(?:第)?\s*({NUM})\s*(多|余)?\s*"
               r"(个星期|星期|礼拜|个月|天|日|周)(半)?"),
    re.compile(rf"({NUM})\s*(多|余)?\s*(个星期|星期|礼拜|个月|天|日|周)(半)?(?:了|来|前|以来|多来)?\s*(?:的)?"
               rf"(?:开始|一直|反复|持续|都|时有|间断)?\s*{_FEVER_ZH}"),
]
_FEVER_DAYS_EN = [
    re.compile(rf"(?:fevers?|febrile|temperatures?|temps?)\s*(?:of\s*)?(?:\d{{2,3}}(?:\.\d+)?\s*(?:°\s*[cf]|℃|c\b|f\b|degrees?)?\s*)?"
               rf"(?:on and off\s*)?(?:for|of|x|since|over|lasting)?\s*"
               rf"(?:the\s*)?(?:past|last)?\s*(?:about|around|nearly|almost|over|more than)?\s*({NUM})\s*"
               r"(days?|d\b|weeks?|wks?)", re.I),
    # clinical shorthand "fever 5/7", "febrile for 3/7" (days)
    re.compile(r"(?:fevers?|febrile|feverish|pyrexi\w*|temps?)\b[^.;!?\d]{0,12}?(\d{1,2})\s*/\s*(7)(?![\d/])", re.I),
    re.compile(r"(?:feverish|pyrexial|hot|running a temp(?:erature)?)\b[^.;!?]{0,30}?\bfor\s*(?:the\s*)?(?:past|last)?\s*"
               rf"(?:about|around|nearly|almost|over)?\s*({NUM})\s*(days?|weeks?)", re.I),
    re.compile(rf"({NUM})[\s-]*(days?|weeks?)\s*(?:of|history of|with)?\s*(?:a\s*)?(?:high\s*|intermittent\s*|"
               r"persistent\s*)?(?:fevers?|febrile|temperatures?)", re.I),
    re.compile(rf"day\s*({NUM})\s*of\s*(?:the\s*)?(?:fever|illness)", re.I),
    re.compile(rf"(?:fevers?|febrile)\b[^.;!?]{{0,60}}?\bfor\s*(?:the\s*)?(?:past|last)?\s*(?:about|around|nearly|almost|over)?\s*"
               rf"({NUM})\s*(days?|weeks?)", re.I),
    re.compile(r"(\d+)(?:st|nd|rd|th)\s*day\s*of\s*(?:the\s*)?(?:fever|illness)", re.I),
]


def extract_fever_days(text: str) -> float | None:
    """Duration of fever in days, from '发烧3天', '烧了一周', 'fever for 5 days', 'day 5 of fever'."""
    best = None
    for pattern in _FEVER_DAYS:
        for m in pattern.finditer(text):
            days = _zh_days(m)
            if days is not None and not _fever_negated(text, m):
                best = max(best or 0, days)
    for pattern in _FEVER_DAYS_EN:
        for m in pattern.finditer(text):
            n = cn_number(m.group(1))
            unit = m.group(2).lower() if m.lastindex and m.lastindex >= 2 else "d"
            if n is not None and not _fever_negated(text, m):
                best = max(best or 0, n * (7 if unit.startswith("w") else 1))
    return best


def _zh_days(m: re.Match) -> float | None:
    n = cn_number(m.group(1))
    if n is None:
        return None
    days = n * _DUR_UNITS[m.group(3)]
    return days + (0.5 * _DUR_UNITS[m.group(3)] if m.group(4) else 0)


def _fever_negated(text: str, m: re.Match) -> bool:
    return negation.status(text, m.start(), m.end()) in (negation.NEGATED, negation.HYPOTHETICAL)


# ----------------------------------------------------------------------------- findings

#: Gap macros for finding patterns: a short stretch of the same clause that holds no negation,
#: so "soft spot<GAP>bulging" matches "the soft spot on her head is bulging" but not "... is not
#: bulging" (a negation inside the match would be invisible to `negation.status`).
_GAPS = {
    "<GAP>": r"(?:(?!\b(?:not|no|never|nor|without|isn'?t|aren'?t|wasn'?t|weren'?t|doesn'?t|don'?t|didn'?t|"
             r"hasn'?t|haven'?t)\b)[^.;,!?\n]){0,40}?",
    "<ZGAP>": r"[^，。,；;！!？?\n没不未无否别]{0,10}?",
}


def expand_gaps(pattern: str) -> str:
    """Replace the <GAP> / <ZGAP> macros of triage_findings.yaml with their regular expressions."""
    for macro, regex in _GAPS.items():
        pattern = pattern.replace(macro, regex)
    return pattern


@functools.cache
def _compiled_findings() -> list[tuple[str, list[re.Pattern]]]:
    out = []
    for finding in tables.findings():
        patterns = [re.compile(expand_gaps(p)) for p in finding.zh]
        patterns += [re.compile(expand_gaps(loose_contractions(p)), re.I) for p in finding.en]
        out.append((finding.id, patterns))
    return out


def finding_statuses(text: str) -> dict[str, str]:
    """finding id → its strongest status in `text` (present beats history beats hypothetical beats negated)."""
    rank = {negation.NEGATED: 0, negation.HYPOTHETICAL: 1, negation.HISTORY: 2, negation.PRESENT: 3}
    found: dict[str, str] = {}
    for finding_id, patterns in _compiled_findings():
        for pattern in patterns:
            for m in pattern.finditer(text):
                if m.end() == m.start():
                    continue
                st = negation.status(text, m.start(), _word_end(text, m.end()))
                if finding_id not in found or rank[st] > rank[found[finding_id]]:
                    found[finding_id] = st
    return found


def _word_end(text: str, end: int) -> int:
    """Extend a match that stops inside an English word ("neck stiff|ness -ve") to the word's end,
    so that the words after it are read as what follows the finding."""
    while end < len(text) and text[end].isascii() and text[end].isalpha() and text[end - 1].isascii() \
            and text[end - 1].isalpha():
        end += 1
    return end


def _fill_findings(text: str, facts: PatientFacts) -> None:
    buckets = {negation.PRESENT: facts.findings, negation.NEGATED: facts.negated,
               negation.HISTORY: facts.history, negation.HYPOTHETICAL: facts.hypothetical}
    for finding_id, st in finding_statuses(text).items():
        buckets[st].append(finding_id)
