"""Is a finding present now, or negated, history, or hypothetical? (Chinese and English.)

A rule must fire on a finding that is present, not on any mention of the word: "没有抽搐",
"no rash", "denies neck stiffness" are negated; "上次抽过", "history of febrile seizures" are
history; "会不会抽搐", "worried about meningitis" are hypothetical. The cues are language rules
(not clinical values), so they live here. The scope of a cue is its clause; English negation
also runs over a short comma list that continues with "or"/"nor" ("no rash, neck stiffness or
seizures") or after list cues such as "denies", "negative for", "without".

Usage: `status(text, start, end)` → "present" | "negated" | "history" | "hypothetical".
"""

from __future__ import annotations

import re

PRESENT, NEGATED, HISTORY, HYPOTHETICAL = "present", "negated", "history", "hypothetical"

_CLAUSE_END = re.compile(r"[。！？!?；;\n,，]|(?<!\d)\.(?!\d)|\bbut\b|\bhowever\b", re.IGNORECASE)
_COMMA = re.compile(r"[,，]")

# --- Chinese
_ZH_NEG = re.compile(r"(没有|没|毫无|无(?!法|力|论|精打采|数|时无刻|缘无故|端|意)|未|否认|不伴|并无|并未|从未|从没|排除|并非|不是|有无)")
_ZH_NOT_NEG = re.compile(r"没多久|没一会|没过多久|没几天|没过|没多长时间|没想到|没(有)?办法|没法|没满|没到|未满|未到|不满|"
                         r"不足|无明显诱因|无诱因|无明显原因|无原因|无明显原因|未予处理|未经处理|未就诊|未用药|未服药|"
                         r"未测|没测|没量|没完没了|没日没夜|无缘无故|"
                         r"未退|未愈|未好|未见好转|未好转|未缓解|未降|未消|未减轻|未改善|没退|没好|没降|没缓解|没见好|没消")
_ZH_BU = re.compile(r"不(太|再|会|曾|怎么|很|大)?$")
_ZH_BREAK = re.compile(r"但|却|可是|不过|然而|只是|仍|还是|现在|目前|后来|然后|开始|突然|又|今天|刚才")
_ZH_POST_NEG = re.compile(r"^\s*(:|：|\?|？)?\s*(无|没有|阴性|未见|否|\(\s*[-−]\s*\)|（\s*[-−]\s*）)")
_ZH_HISTORY = re.compile(r"上次|上回|以前|以往|既往|去年|前年|小时候|曾经|过去|前几次|之前发烧|"
                         r"(\d+|[一二两三四五六七八九十几半]+)\s*(个)?多?(月|年)(以)?前")
_ZH_HISTORY_AFTER = re.compile(r"^.{0,3}(病)?史")
_ZH_CURRENT = re.compile(r"这次|本次|此次|今天|今日|今早|今晨|昨天|昨晚|刚才|刚刚|现在|正在|目前|又|再次|这回")
_ZH_HYPO = re.compile(r"会不会|是否会|是不是会|担心|害怕|怕(会|是|引起|有|出现|抽|得|他|她|孩子|宝宝|娃|宝贝)|预防|防止|以免|避免|万一|如果|若|假如|一旦|要是|警惕|"
                      r"注意观察|观察有无|是否(有|出现)|可能会|会引起|会导致|如有|如出现|出现.{0,6}时|小心")
_ZH_QUESTION_BEFORE = re.compile(r"会|能不能|可能|是不是|是否|能否")
_ZH_QUESTION_END = re.compile(r"[吗么嘛]\s*$|[?？]")
_ZH_WHEN_AFTER = re.compile(r"^.{0,4}(时|的时候|的话)")

# --- English
_EN_NEG = re.compile(r"\b(no|not|never|neither|without|denies|denied|deny|denying|negative for|absence of|"
                     r"free of|nor|none|isn'?t|wasn'?t|doesn'?t|didn'?t|hasn'?t|haven'?t|hadn'?t|don'?t|"
                     r"aren'?t|weren'?t|no signs? of|no evidence of|ruled out|rules out|nil)\b", re.IGNORECASE)
_EN_LIST_CUE = re.compile(r"\b(denies|denied|deny|denying|negative for|without|free of|no signs? of|"
                          r"no evidence of|ruled out)\b", re.IGNORECASE)
_EN_BREAK = re.compile(r"\b(but|however|although|though|yet|except|apart from|now|currently|still|then|"
                       r"which|who|he|she|they|it|shows?|showing|developed|became|started|began)\b|"
                       r"\band (is|has|was|had|seems|looks|appears|feels)\b", re.IGNORECASE)
_EN_POST_NEG = re.compile(r"^[a-z]{0,3}\s*[:=?]?\s*(none|absent|negative|nil|no\b|denied|-\s*ve\b|−\s*ve\b|neg\b|"
                          r"\(\s*[-−]\s*\)|not (present|seen|elicited))", re.IGNORECASE)
_EN_HISTORY = re.compile(r"\b(history of|hx of|h/o|previous(ly)?|prior|in the past|last (year|time|month|"
                         r"winter|summer|spring|autumn|fall)|(\d+|a|one|two|three|four|five|few|several|many)"
                         r" (months?|years?) ago|as a baby|as an infant|when (he|she|they) (was|were) "
                         r"(younger|a baby|little)|past)\b", re.IGNORECASE)
_EN_CURRENT = re.compile(r"\b(today|now|this (morning|afternoon|evening|time|illness|episode)|tonight|"
                         r"currently|right now|just now|again|yesterday|(an|\d+|few|two|three) (hours?|"
                         r"minutes?) ago)\b", re.IGNORECASE)
_EN_HYPO = re.compile(r"\b(worried|worry|worries|afraid|concerned|fear|risk of|prevent|preventing|in case|"
                      r"what if|if (he|she|they|it|my|the|a|there|your|you|we)\b[^,;]*\b(has|have|gets?|develops?|"
                      r"starts?|shows?|is|are|becomes?)\b|whether|watch (out )?for|look out for|should i|"
                      r"will (he|she|it|this|they)|can (fever|it|this|a|high)|does (fever|it|a)|"
                      r"is it (possible|normal)|to avoid|avoid|unless|check for|look for)\b", re.IGNORECASE)
_EN_IF = re.compile(r"\b(if|what if|in case|whether)\b[^,;]*$", re.IGNORECASE)
_MAX_EN_WORDS = 4
_MAX_ZH_CHARS = 14


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start and end of the clause that holds text[start:end]."""
    left = 0
    for m in _CLAUSE_END.finditer(text, 0, start):
        left = m.end()
    right_match = _CLAUSE_END.search(text, end)
    right = right_match.start() if right_match else len(text)
    return left, right


def status(text: str, start: int, end: int) -> str:
    """Classify the finding mention text[start:end] (see the module docstring)."""
    left, right = clause_bounds(text, start, end)
    before, after = text[left:start], text[end:right]
    clause = text[left:right]
    if _is_hypothetical(before, after, clause, text[start:end]):
        return HYPOTHETICAL
    if _is_negated(text, left, start, end, before, after):
        return NEGATED
    if _is_history(before, after, clause):
        return HISTORY
    return PRESENT


def _is_hypothetical(before: str, after: str, clause: str, mention: str = "") -> bool:
    """Worries and questions about a finding that has not happened ("发烧会不会抽搐", "会引起抽搐吗",
    "出现抽搐时怎么办"); a question about a present finding ("抽搐了会有后遗症吗") is not one."""
    if _ZH_HYPO.search(before) or _EN_HYPO.search(before):
        return True
    if _EN_IF.search(before) and _EN_HYPO.search(clause[:len(before) + len(mention)]):
        return True  # "if the fontanelle is sunken or bulging": the verb is inside the mention
    if _ZH_QUESTION_BEFORE.search(before) and _ZH_QUESTION_END.search(clause):
        return True
    return "出现" in before and bool(_ZH_WHEN_AFTER.search(after))


def _is_history(before: str, after: str, clause: str) -> bool:
    if _ZH_HISTORY_AFTER.search(after) and not _ZH_CURRENT.search(clause):
        return True
    if _ZH_HISTORY.search(clause) and not _ZH_CURRENT.search(clause):
        return True
    return bool(_EN_HISTORY.search(clause)) and not _EN_CURRENT.search(clause)


def _is_negated(text: str, left: int, start: int, end: int, before: str, after: str) -> bool:
    raw_after = text[end:end + 16]  # "抽搐？无" / "Seizures? No." run past the clause end
    if any(p.search(x) for p in (_ZH_POST_NEG, _EN_POST_NEG) for x in (after, raw_after)):
        return True
    if _zh_negated(before) or _en_negated(before):
        return True
    return _en_list_negated(text, left, start)


def _zh_negated(before: str) -> bool:
    if _ZH_BU.search(before):
        return True
    cleaned = _ZH_NOT_NEG.sub(lambda m: "_" * len(m.group(0)), before)
    window = cleaned[-_MAX_ZH_CHARS:]
    cues = list(_ZH_NEG.finditer(window))
    if not cues:
        return False
    between = window[cues[-1].end():]
    return not _ZH_BREAK.search(between)


def _en_negated(before: str) -> bool:
    cues = list(_EN_NEG.finditer(before))
    if not cues:
        return False
    between = before[cues[-1].end():]
    if _EN_BREAK.search(between) or _COMMA.search(between):
        return False
    return len(between.split()) <= _MAX_EN_WORDS


def _en_list_negated(text: str, left: int, start: int) -> bool:
    """'no rash, neck stiffness or seizures' / 'denies rash, neck stiffness': carry over commas."""
    segments = _COMMA.split(text[_sentence_start(text, start):start])
    if len(segments) < 2:
        return False
    for k in range(len(segments) - 2, -1, -1):
        cues = list(_EN_NEG.finditer(segments[k]))
        if cues:
            break
    else:
        return False
    head, items = segments[k], segments[k + 1:]
    if _EN_BREAK.search(head[cues[-1].end():]):
        return False
    if not all(len(s.split()) <= 4 and not _EN_BREAK.search(s) for s in items):
        return False
    tail = text[start:_sentence_end(text, start)]
    listy = _EN_LIST_CUE.search(head) or re.search(r"^\s*(or|nor)\b", " ".join(items[1:]) or "", re.I) \
        or re.search(r"\b(or|nor)\b", " ".join(items) + " " + tail[:40], re.I)
    return bool(listy)


def _sentence_start(text: str, pos: int) -> int:
    start = 0
    for m in re.finditer(r"[。！？!?；;\n]|(?<!\d)\.(?!\d)|\bbut\b", text[:pos], re.IGNORECASE):
        start = m.end()
    return start


def _sentence_end(text: str, pos: int) -> int:
    m = re.search(r"[。！？!?；;\n]|(?<!\d)\.(?!\d)|\bbut\b", text[pos:], re.IGNORECASE)
    return pos + m.start() if m else len(text)
