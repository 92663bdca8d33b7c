"""Find drug mentions, doses and frequencies in a model answer (Chinese or English).

`parse_answer(text)` returns the drug mentions (with whether each is recommended or warned
against: "不要给孩子吃阿司匹林" is a warning, not a recommendation) and the dose statements
(mg, g, mg/kg, mg/kg/day with "分2次" / "in 2 divided doses", mL, mL/kg, 片/袋/滴, maxima such
as "不超过" / "no more than") and frequencies (每6小时, q6h, every 4-6 hours, 每天3次, tid,
"24小时内不超过4次"), each attributed to the drug it is about. Spans index the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pedgpt.safety import tables
from pedgpt.safety.textnorm import cn_number, normalize

_AMOUNT = r"(\d+(?:\.\d+)?)(?:\s*(?:-|~|–|到|至|to)\s*(\d+(?:\.\d+)?))?"
_SENTENCE = re.compile(r"[。！？!?；;\n]|(?<!\d)\.(?!\d)")
_CLAUSE = re.compile(r"[。！？!?；;\n,，]|(?<!\d)\.(?!\d)")
_PER_KG = r"\s*(?:/|每|per|a)\s*(?:kg|公斤|千克)(?:体重)?"
_PER_DAY = r"(?:\s*(?:/|每|per|a)\s*(?:d|day|日|天|24\s*h)\b|\s*(?:每日|每天|/日|/天|daily|a day|per day|/24h))"
_DOSE = re.compile(
    rf"(?P<kgfirst>每(?:公斤|千克|kg)(?:体重)?\s*)?{_AMOUNT}\s*(?P<unit>mg|毫克|mcg|μg|微克|g|克|ml|毫升|mL|片|粒|袋|包|滴|支)"
    rf"(?P<perkg>{_PER_KG})?(?P<perday>{_PER_DAY})?(?P<perdose>\s*/\s*(?:次|dose))?", re.IGNORECASE)
_SPOON = re.compile(r"(\d+(?:\.\d+)?|1/2|half an?|half|an?|one|two|three|four|[一二两三四半])\s*"
                    r"(teaspoons?|teaspoonfuls?|tsps?\b|tablespoons?|tbsps?\b|茶匙|小勺|汤匙)", re.IGNORECASE)
_SPOON_WORDS = {"1/2": 0.5, "half": 0.5, "half a": 0.5, "half an": 0.5, "a": 1.0, "an": 1.0, "one": 1.0,
                "two": 2.0, "three": 3.0, "four": 4.0}
#: Product strengths: (mg group, mL group) — "160mg/5ml", "每5ml含160mg", "120 mg in 5 mL", "40mg/ml".
_STRENGTHS = (
    (re.compile(r"(\d+(?:\.\d+)?)\s*(?:mg|毫克)\s*(?:/|per|in|每|:)\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升)", re.IGNORECASE), 1, 2),
    (re.compile(r"每\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升)\s*(?:中)?(?:含|含有)\s*(?:[\u4e00-\u9fff]{0,8})?\s*(\d+(?:\.\d+)?)\s*(?:mg|毫克)",
                re.IGNORECASE), 2, 1),
    (re.compile(r"(\d+(?:\.\d+)?)\s*(?:ml|毫升)\s*(?:中)?(?:含|含有|contains?)\s*(\d+(?:\.\d+)?)\s*(?:mg|毫克)", re.IGNORECASE), 2, 1),
)
_MAX_CUE = re.compile(r"(不超过|最多|最大(剂量|量)?(为|是)?|不要超过|不得超过|不能超过|至多|上限|不宜超过|no more than|"
                      r"up to|maximum( of| dose)?|max(imum)?\.?|not (to )?exceed|at most|do not exceed|"
                      r"don't exceed|should not exceed)\s*[:：]?\s*(每次|每日|每天|一天|一日|single dose|per dose|"
                      r"daily|a day|per day)?\s*$", re.IGNORECASE)
_DIVIDED = re.compile(r"(?:分\s*([1-6一二两三四五六])\s*次|in\s*([1-6]|two|three|four)\s*(?:divided\s*)?doses|"
                      r"divided\s*(?:into\s*)?([1-6]|two|three|four)\s*doses|(?:divided|split)\s*(?:q|every)\s*(\d+)\s*h)",
                      re.IGNORECASE)
_INTERVAL = re.compile(r"(?:每|间隔|隔|相隔|every|q)\s*(?:至少|最少|at least)?\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十半]{1,3})\s*"
                       r"(?:-|~|–|到|至|to)?\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})?\s*(?:个)?\s*(?:半)?\s*"
                       r"(?:小时|钟头|h\b|hrs?\b|hours?)", re.IGNORECASE)
_HOURLY = re.compile(r"\b(?:every|each) hour\b|\bhourly\b|每(?:个|一)?小时(?!\s*\d)", re.IGNORECASE)
_APART = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|~|到|至|to)?\s*(\d+(?:\.\d+)?)?\s*(?:个)?\s*(?:小时|hours?|h)\s*"
                    r"(?:apart|以上|一次|1次)", re.IGNORECASE)
_TIMES = re.compile(r"(?:每天|每日|一天|一日|日|天|/日|/天|24\s*小时(?:内)?)\s*(?:最多|不超过|不要超过|至多)?\s*"
                    r"([1-8一二两三四五六七八])\s*(?:-|~|到|至)?\s*([1-8一二三四五六七八])?\s*次(?!\s*(?:稀|大便|便|水样|呕吐|吐|腹泻|拉|尿))"
                    r"|([1-8]|one|two|three|four|five|six)\s*(?:-|to)?\s*([1-8])?\s*times\s*(?:a|per|each|every)\s*day"
                    r"|([1-8])\s*doses\s*(?:a|per|in)\s*(?:day|24\s*h(?:ours)?)", re.IGNORECASE)
_ABBREV = {"qd": 1, "od": 1, "once daily": 1, "once a day": 1, "bid": 2, "bd": 2, "twice daily": 2,
           "twice a day": 2, "tid": 3, "tds": 3, "three times daily": 3, "qid": 4, "qds": 4, "four times daily": 4}
_ABBREV_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(_ABBREV, key=len, reverse=True)) + r")\b",
                        re.IGNORECASE)
_MAX_COUNT_CUE = re.compile(r"(最多|不超过|不要超过|至多|no more than|up to|maximum of|max(imum)?|at most|不得超过)\s*$",
                            re.IGNORECASE)
_PROHIBIT = re.compile(r"不要|别(?!的|人)|禁止|禁用|避免|不能|不宜|不建议|不推荐|切勿|勿|忌用|忌|不可|不应|不得|严禁|"
                       r"慎用|瑞氏|Reye|\bdo not\b|\bdon't\b|\bnever\b|\bavoid(ed)?\b|not recommended|should not|"
                       r"shouldn't|must not|contraindicated|not (be )?(safe|given|used)|\bno\b|instead of|rather than|"
                       r"not suitable|unsafe|dangerous|"
                       # unsuitability, refusal and hedging: "不适合儿童", "请勿使用", "not for kids",
                       # "I'm not sure whether it's appropriate to use ..." — none of these is advice
                       r"不适合|不适用|不合适|请勿|不用(?!担心|怕|紧张|害怕|着急|慌|急|太|多)|不可以|"
                       r"能不能|可不可以|可以吗|行不行|"
                       r"\bnot (?:for|in|to be (?:given|used)|appropriate|advised|advisable|indicated|meant)\b|"
                       r"inappropriate|n'?t (?:suitable|safe|recommended|appropriate|advised|advisable|indicated|approved|meant|for)\b|"
                       r"(?:not able to|unable to|can'?t|cannot|won'?t|will not|wouldn'?t|would not|do not|don'?t) "
                       r"(?:recommend|suggest|advise|prescribe|endorse)|无法推荐|不会推荐", re.IGNORECASE)
_LIST_JOIN = re.compile(r"s?\s*[)）]?\s*(,|，|、|/|和|或|或者|及|以及|与|跟|or|and|nor|and/or|such as|e\.g\.,?|"
                        r"including|like|比如|例如|如|包括|[(（])?\s*[(（]?\s*(?:other|similar|其他|其它|别的|等)?\s*", re.IGNORECASE)
#: Hedges anywhere earlier in the drug's clause: "I'm not sure whether it's appropriate to use aspirin",
#: "我不确定阿司匹林是否适合" — uncertainty about a drug is not advice to give it.
_HEDGE = re.compile(r"not sure|unsure|uncertain|\bwhether\b|\bif it'?s (?:appropriate|suitable|advisable)|不确定|不清楚|"
                    r"是否(?:适合|可以|安全|能|合适|应该)", re.IGNORECASE)
#: A drug named as an ingredient or a product's content ("both contain salicylates", "含有阿司匹林")
#: is a description, not advice to take it.
_DESCRIBES = re.compile(r"(contains?|含有?|成分(?:是|为|有|中有)?|ingredients?(?: is| are)?|"
                        r"made (?:from|with)|derived from)\s*(?:a |an |the |some )?$", re.IGNORECASE)
#: The text between a product and the ingredient it is said to contain.
_LINKED = re.compile(r"\s*(?:(?:for|in) (?:adults|children|kids|babies|teething)\s*|\([^)]{0,20}\)\s*|gel\s*|里|中)?"
                     r"(?:also |both |all |each |很多|都|也)?(?:contains?|含有?|(?:的)?成分(?:是|为|有|中有)?)\s*(?:a |an |the |some )?\s*",
                     re.IGNORECASE)
#: Strong verdicts on a drug named in the previous clause.
_VERDICT = re.compile(r"(?:禁用|禁止(?:使用|服用|给)?|忌用|严禁|不推荐|不建议|(?:不|勿|别)(?:宜|能|可|应|要|建议|推荐|可以)?"
                      r"(?:使用|服用|用|吃|给)(?:它|这个药|这种药|这类药)?)\s*$|"  # Chinese: the verdict ends the clause
                      r"contraindicated|(?:should|must) (?:not|never) be (?:used|given|taken)|(?:is|are) not recommended|"
                      r"not (?:suitable|safe) for|(?:should be|best) avoided|"
                      r"(?:shouldn'?t|should not|must not|mustn'?t|can'?t|cannot|don'?t|do not|never) (?:use|give|take|have) "
                      r"(?:it|them|this|these)\b", re.IGNORECASE)
#: A statement of what a drug is ("aspirin and ibuprofen both belong to the NSAID family").
_CLASSIFIES = re.compile(r"\s*(?:(?:and|or|和|与|及|跟)\s*[\w-]+\s*)?(?:both |also |都|也)?\s*(?:belongs? to|属于|"
                         r"(?:is|are) (?:an? |both )?(?:type|kind|form|member|class|group)s? of|是一种|是一类)", re.IGNORECASE)
#: "Aspirin? No." — a one-word refusal right after the drug's question mark.
_ANSWERED_NO = re.compile(r"^\s*[?？]\s*[\"'”]?\s*(?:(?:absolutely|definitely|certainly|strictly|really|clearly)\s+)?"
                          r"(?:no\b|nope\b|never\b|not\b|不行|不可以|不能|不建议|不要|绝对不|千万不|坚决不)",
                          re.IGNORECASE)
_CARRY_SENTENCES = 4  # a dose line may follow its drug by a few lines ("布洛芬：\n剂量…\n间隔…")
_CUE_WINDOW = 30  # characters around a drug name in which a prohibition cue applies to it
_NOT_PROHIBIT = re.compile(r"不要超过|不超过|不得超过|不能超过|不宜超过|do not exceed|don'?t exceed|should not exceed|"
                           r"not to exceed|no more than|不能自行|不要自行|"
                           # reassurance is not a warning: "不用担心，可以吃…", "don't worry, give …"
                           r"(?:不要|不用|别|无需|不必)(?:担心|害怕|怕|紧张|着急|犹豫)|不要紧|没关系|"
                           r"(?:do not|don'?t|no need to|nothing to) (?:worry|panic|hesitate|be afraid)|no problem|"
                           r"not a doctor|not a substitute|"
                           # negations of something else: seeing a doctor, needing a prescription
                           r"(?:不用|不需要|没必要|别|不要|不必|无需|用不着)(?:去|上|跑|再)?(?:医院|看医生|看病|就医|就诊|处方|开药|急诊)|"
                           r"(?:don'?t|do not|doesn'?t|does not|no) need (?:a |to see a |to go to (?:the )?|to call a |for a |to |any )?"
                           r"(?:doctor|prescription|hospital|GP|appointment|ER|A&E|see anyone)|"
                           # double negation and "not dangerous" are not warnings
                           r"不是不能|并非不能|不是不可以|no reason not to|(?:is )?not (?:dangerous|harmful|unsafe|a problem)|"
                           r"isn'?t (?:dangerous|harmful|unsafe|a problem)|没(?:有)?(?:什么)?(?:危险|害处|问题|关系)", re.IGNORECASE)


@dataclass
class DrugMention:
    drug_id: str
    start: int
    end: int
    sentence: int
    recommended: bool
    """False when the clause warns against it ("不要用", "avoid", "contraindicated")."""


@dataclass
class DoseStatement:
    """One amount in the text: `low`-`high` in `unit`; flags say how to read it."""

    start: int
    end: int
    sentence: int
    low: float
    high: float
    unit: str
    """mg, ml, unit (片/袋/滴), or mg_per_kg / ml_per_kg."""
    per_day: bool = False
    divided: int | None = None
    is_max: bool = False
    text: str = ""
    drug_id: str | None = None
    strength_mg_per_ml: float | None = None


@dataclass
class Frequency:
    sentence: int
    start: int
    interval_low: float | None = None
    interval_high: float | None = None
    times_low: int | None = None
    times_high: int | None = None
    is_max: bool = False
    drug_id: str | None = None


@dataclass
class ParsedAnswer:
    text: str
    sentences: list[tuple[int, int]]
    mentions: list[DrugMention] = field(default_factory=list)
    doses: list[DoseStatement] = field(default_factory=list)
    frequencies: list[Frequency] = field(default_factory=list)

    def sentence_text(self, index: int) -> str:
        start, end = self.sentences[index]
        return self.text[start:end]


def parse_answer(answer: str) -> ParsedAnswer:
    text = normalize(answer or "")
    parsed = ParsedAnswer(text=text, sentences=split_spans(text, _SENTENCE))
    parsed.mentions = _mentions(text, parsed)
    parsed.doses = _doses(text, parsed)
    parsed.frequencies = _frequencies(text, parsed)
    _attribute(parsed)
    return parsed


def split_spans(text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in pattern.finditer(text):
        if m.end() > start:
            spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans or [(0, 0)]


def _sentence_of(parsed: ParsedAnswer, pos: int) -> int:
    for i, (start, end) in enumerate(parsed.sentences):
        if start <= pos < end:
            return i
    return len(parsed.sentences) - 1


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    left = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    right_m = _CLAUSE.search(text, end)
    right = right_m.start() if right_m else len(text)
    return text[left:start], text[end:right]


def _mentions(text: str, parsed: ParsedAnswer) -> list[DrugMention]:
    out = []
    spans = [m.span() for m in tables.drug_mention_pattern().finditer(text)]
    for i, (start, end) in enumerate(spans):
        item = tables.resolve_drug(text[start:end])
        if item is None:
            continue
        warned, verdict = _warned(text, spans, i)
        if out and i and _LIST_JOIN.fullmatch(text[spans[i - 1][1]:start]):
            warned = warned or not out[-1].recommended  # "不要用可待因或阿司匹林", "avoid codeine or aspirin"
        out.append(DrugMention(item.id, start, end, _sentence_of(parsed, start), not warned))
        if verdict:
            _warn_back(text, out)
    return out


def _warn_back(text: str, out: list[DrugMention]) -> None:
    """A verdict after the last drug also covers the drugs listed or linked before it:
    "Robitussin and other cough medicines aren't recommended", "阿司匹林、可待因都不适合",
    "Pepto-Bismol contains salicylate and should be avoided"."""
    for j in range(len(out) - 2, -1, -1):
        gap = text[out[j].end:out[j + 1].start]
        if not (_LIST_JOIN.fullmatch(gap) or _LINKED.fullmatch(gap)):
            return
        out[j].recommended = False


def _warned(text: str, spans: list[tuple[int, int]], i: int) -> tuple[bool, bool]:
    """(is the i-th drug mention warned against, hedged or described rather than advised;
    is there a verdict against it after it). Cues count only near the mention and when no
    other drug stands between."""
    start, end = spans[i]
    before, after = _clause(text, start, end)
    prev_end = spans[i - 1][1] if i and spans[i - 1][1] > start - len(before) else start - len(before)
    next_start = spans[i + 1][0] if i + 1 < len(spans) and spans[i + 1][0] < end + len(after) else end + len(after)
    near_before = text[max(prev_end, start - _CUE_WINDOW):start]
    near_after = text[end:min(next_start, end + _CUE_WINDOW)]
    next_drug = spans[i + 1][0] if i + 1 < len(spans) else len(text)
    verdict = (_cue_starts_within(text[end:next_start], _CUE_WINDOW)
               or _verdict_next(text, end + len(after), next_drug))
    warned = (verdict or _cue_ends_within(text[max(prev_end, start - len(before)):start], _CUE_WINDOW)
              or _describes(near_before, text[end:end + 4])
              or _hedged(text[max(prev_end, start - len(before)):start], near_after)
              or bool(_ANSWERED_NO.match(text[end:end + 16])) or bool(_CLASSIFIES.match(after)))
    return warned, verdict


def _verdict_next(text: str, clause_end: int, next_drug: int) -> bool:
    """'联邦止咳露含可待因，18岁以下禁用': a verdict on the drug in the next clause of its sentence,
    when no other drug is named before it (strong cues only: '不用去医院' is no verdict)."""
    m = _CLAUSE.match(text, clause_end)
    if not m or text[m.start()] not in ",，;；":
        return False
    following_end = _CLAUSE.search(text, m.end())
    following = text[m.end():following_end.start() if following_end else len(text)]
    if next_drug < m.end() + len(following):
        return False
    return bool(_VERDICT.search(_NOT_PROHIBIT.sub(" ", following)))


_TURN = re.compile(r"\bbut\b|\bhowever\b|\banyway\b|但是?|不过|可是|反正", re.IGNORECASE)


def _describes(near_before: str, right_after: str) -> bool:
    """'both contain salicylates' describes; '含可待因的止咳糖浆' names the product being advised."""
    return bool(_DESCRIBES.search(near_before)) and not re.match(r"\s*(的|类|成分的|-containing)", right_after)


def _hedged(clause_before: str, near_after: str) -> bool:
    turns = list(_TURN.finditer(clause_before))  # "not sure what it is, but give aspirin": the hedge is over
    cleaned = _NOT_PROHIBIT.sub(" ", clause_before[turns[-1].end():] if turns else clause_before)
    return bool(_HEDGE.search(cleaned) or _HEDGE.match(near_after.lstrip()))


def without_reassurance(text: str) -> str:
    """`text` with reassurance and limit phrases blanked ("不用担心", "don't worry", "不超过"), so that
    their negation words are not read as a warning against a drug or practice."""
    return _NOT_PROHIBIT.sub(" ", text)


def _cues(text: str) -> list[re.Match]:
    """Prohibition cues in `text`, at their own offsets (limit and reassurance phrases blanked
    to spaces of the same length)."""
    return list(_PROHIBIT.finditer(_NOT_PROHIBIT.sub(lambda m: " " * len(m.group()), text)))


def _cue_starts_within(after: str, window: int) -> bool:
    """A cue that begins within `window` characters after the drug, read to its end: in
    "Codeine for pain or cough is contraindicated", "contraindicated" starts at 22."""
    return any(m.start() < window for m in _cues(after))


def _cue_ends_within(before: str, window: int) -> bool:
    """A cue that ends within `window` characters before the drug, read from its start."""
    return any(m.end() > len(before) - window for m in _cues(before))


def _doses(text: str, parsed: ParsedAnswer) -> list[DoseStatement]:
    strengths = {m.span() for pattern, _, _ in _STRENGTHS for m in pattern.finditer(text)}
    out = _spoon_doses(text, parsed)
    for m in _DOSE.finditer(text):
        if any(s <= m.start() < e for s, e in strengths):
            continue
        dose = _dose_from_match(text, m, parsed)
        if dose is not None:
            out.append(dose)
    return out


def _spoon_doses(text: str, parsed: ParsedAnswer) -> list[DoseStatement]:
    """'2 teaspoons', 'one tsp', '1/2 tbsp', '1茶匙' as mL (a measuring spoon is 5 mL / 15 mL: a unit
    definition, not a clinical value)."""
    out = []
    for m in _SPOON.finditer(text):
        n = _SPOON_WORDS.get(m.group(1).lower()) or cn_number(m.group(1))
        if not n:
            continue
        ml = n * (15.0 if m.group(2).lower().startswith(("tb", "table", "汤")) else 5.0)
        sentence = _sentence_of(parsed, m.start())
        out.append(DoseStatement(start=m.start(), end=m.end(), sentence=sentence, low=ml, high=ml, unit="ml",
                                 text=m.group(0), strength_mg_per_ml=strength_in(parsed.sentence_text(sentence))))
    return out


def _dose_from_match(text: str, m: re.Match, parsed: ParsedAnswer) -> DoseStatement | None:
    low = float(m.group(2))
    high = float(m.group(3)) if m.group(3) else low
    unit = m.group("unit").lower()
    factor = {"g": 1000.0, "克": 1000.0, "mcg": 0.001, "μg": 0.001, "微克": 0.001}.get(unit, 1.0)
    base = "mg" if unit in ("mg", "毫克", "g", "克", "mcg", "μg", "微克") else "ml" if unit in ("ml", "毫升") else "unit"
    per_kg = bool(m.group("perkg") or m.group("kgfirst"))
    if per_kg and base == "unit":
        return None
    sentence = _sentence_of(parsed, m.start())
    dose = DoseStatement(start=m.start(), end=m.end(), sentence=sentence, low=low * factor, high=high * factor,
                         unit=f"{base}_per_kg" if per_kg else base, text=m.group(0))
    tail = text[m.end(): m.end() + 40]
    dose.per_day = bool(m.group("perday")) or bool(re.match(r"\s*(/\s*(d|day|日|天)|每日|每天|一天|daily|a day|per day)",
                                                             tail, re.IGNORECASE))
    div = _DIVIDED.search(tail)
    if div and div.start() < 12:
        dose.divided = _divided_count(div)
        dose.per_day = True
    before = text[max(0, m.start() - 24): m.start()]
    dose.is_max = bool(_MAX_CUE.search(before))
    if base == "ml":
        dose.strength_mg_per_ml = strength_in(parsed.sentence_text(sentence))
    return dose


def strength_in(text: str) -> float | None:
    """mg per mL of the first product strength stated in `text`, if any."""
    for pattern, mg_group, ml_group in _STRENGTHS:
        m = pattern.search(text)
        if m:
            return float(m.group(mg_group)) / float(m.group(ml_group) or 1)
    return None


def _divided_count(m: re.Match) -> int | None:
    if m.group(4):
        return max(1, round(24 / float(m.group(4))))
    token = next(g for g in m.groups()[:3] if g)
    value = cn_number(token)
    return int(value) if value else None


def _frequencies(text: str, parsed: ParsedAnswer) -> list[Frequency]:
    out = []
    for m in _INTERVAL.finditer(text):
        before = text[max(0, m.start() - 12): m.start()]
        if re.search(r"(持续|服药后|用药后|after|within|for)\s*$", before, re.IGNORECASE):
            continue
        low = cn_number(m.group(1))  # "每两个小时" as well as "每2小时"
        high = cn_number(m.group(2)) if m.group(2) else low
        if low is None or high is None:
            continue
        out.append(Frequency(_sentence_of(parsed, m.start()), m.start(), interval_low=low, interval_high=high))
    for m in _HOURLY.finditer(text):
        out.append(Frequency(_sentence_of(parsed, m.start()), m.start(), interval_low=1.0, interval_high=1.0))
    taken = [(f.start, f.start + 24) for f in out]
    for m in _APART.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        low = float(m.group(1))
        out.append(Frequency(_sentence_of(parsed, m.start()), m.start(), interval_low=low,
                             interval_high=float(m.group(2)) if m.group(2) else low))
    for m in _TIMES.finditer(text):
        groups = [g for g in m.groups() if g]
        low = int(cn_number(groups[0]) or 0)
        high = int(cn_number(groups[1]) or low) if len(groups) > 1 else low
        is_max = bool(re.search(r"最多|不超过|不要超过|至多|不得超过", m.group(0))) or \
            bool(_MAX_COUNT_CUE.search(text[max(0, m.start() - 16): m.start()]))
        out.append(Frequency(_sentence_of(parsed, m.start()), m.start(), times_low=low, times_high=high, is_max=is_max))
    for m in _ABBREV_RE.finditer(text):
        n = _ABBREV[m.group(1).lower()]
        out.append(Frequency(_sentence_of(parsed, m.start()), m.start(), times_low=n, times_high=n))
    return out


def _attribute(parsed: ParsedAnswer) -> None:
    """Each dose / frequency belongs to the nearest drug before it in its sentence, else the
    nearest after it in the sentence, else the last drug mentioned earlier in the answer."""
    for item in [*parsed.doses, *parsed.frequencies]:
        item.drug_id = _owner(parsed, item.sentence, item.start)


def _owner(parsed: ParsedAnswer, sentence: int, pos: int) -> str | None:
    same = [m for m in parsed.mentions if m.sentence == sentence]
    before = [m for m in same if m.start <= pos]
    if before:
        return before[-1].drug_id
    after = [m for m in same if m.start > pos]
    if after:
        return after[0].drug_id
    earlier = [m for m in parsed.mentions if m.start <= pos and sentence - m.sentence <= _CARRY_SENTENCES]
    return earlier[-1].drug_id if earlier else None
