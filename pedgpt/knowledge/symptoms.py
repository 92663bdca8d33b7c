"""Normalise symptom strings (CMeKG's noisy 常见症状 values and users' findings) to weighted terms.

CMeKG symptom values mix clean terms ("发热") with phrases and fragments ("嗜睡甚至昏迷",
"腹痛等", "口腔等部位出现小疱疹"). `expand()` turns one string into `{term: weight}`:

1. split on list punctuation and connectives (、，及 和 或 伴 甚至 ...), drop trailing 等/症状;
2. rewrite synonyms to one canonical term (声嘶 → 声音嘶哑, 抽搐 → 惊厥) — weight 1;
3. for a phrase that is not itself a known term, add the known terms it contains
   (反复发作的喘息 → 喘息), unless negated (无发热) — weight `CONTAINED`; a known term only adds
   the known findings it ends with (大量蛋白尿 → 蛋白尿; Chinese findings are head-final);
4. add the general findings a specific one implies (高热 → 发热, 干咳 → 咳嗽) — weight `PARENT`.

The same function serves both sides of the differential, so "高热" from a user matches a disease
listing "发热" (with less credit than an exact match) and vice versa.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from pedgpt.knowledge.resources import colloquial_zh, symptom_fragments, symptom_parents, symptom_synonyms

#: Weight of a term found inside a longer phrase, and of a general term implied by a specific one.
CONTAINED = 0.8
PARENT = 0.8
#: Shortest and longest contained term considered (characters).
MIN_TERM, MAX_TERM = 2, 10
#: Phrases longer than this are not themselves a term (only what they contain counts).
MAX_PIECE = 12

_SPLIT = re.compile(r"[、，,；;：:/／()（）\[\]【】［］<>《》\s]+|以及|或者|甚至|伴有|继而|及|和|或|与|伴|并")
_TRAILING = re.compile(r"(?:等症状|等表现|等|症状|为主|明显|多见|较多见)+$")
_LEADING = re.compile(r"^(?:出现|可有|可见|常有|偶有|偶见|有时|有)")
_NEGATION = ("无", "不", "未", "非", "没有", "否认")
_NOISE = re.compile(r"^[\d０-９.．~～\-—°℃CcIVX%％]+$")


def clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def pieces(raw: str) -> list[str]:
    """Split one raw value into candidate terms ("恶心、呕吐" → ["恶心", "呕吐"])."""
    out = []
    for part in _SPLIT.split(clean(raw)):
        part = _LEADING.sub("", _TRAILING.sub("", part.strip()))
        if part and not _NOISE.match(part):
            out.append(part)
    return out


def canonical(term: str) -> str:
    """One canonical spelling for a finding (synonyms and lay wording folded)."""
    term = clean(term)
    term = colloquial_zh().get(term, term)
    return symptom_synonyms().get(term, term)


def _add(forms: dict[str, float], term: str, weight: float) -> None:
    if weight > forms.get(term, 0.0):
        forms[term] = weight


def _with_parents(forms: dict[str, float]) -> dict[str, float]:
    """Close the map under the "<" relation, each step multiplying by `PARENT`."""
    frontier = list(forms.items())
    while frontier:
        term, weight = frontier.pop()
        for parent in symptom_parents().get(term, ()):
            parent = canonical(parent)
            if weight * PARENT > forms.get(parent, 0.0):
                forms[parent] = weight * PARENT
                frontier.append((parent, weight * PARENT))
    return forms


def contained_terms(phrase: str, vocabulary: set[str] | frozenset[str]) -> list[str]:
    """Known terms inside a phrase, longest first, skipping negated ones ("无发热")."""
    found: list[tuple[int, str]] = []
    for size in range(min(MAX_TERM, len(phrase) - 1), MIN_TERM - 1, -1):
        for start in range(len(phrase) - size + 1):
            term = phrase[start:start + size]
            if term in vocabulary and not phrase[max(0, start - 2):start].endswith(_NEGATION):
                found.append((start, term))
    return [term for _, term in found]


def is_negated(term: str) -> bool:
    """"无发热", "不咳嗽": a negation word before a finding of two or more characters. Short
    findings that start like a negation ("无尿", "不适", "无力") are findings themselves."""
    return any(term.startswith(word) and len(term) - len(word) >= 2 for word in _NEGATION)


def _is_term(term: str) -> bool:
    return len(term) <= MAX_PIECE and not is_negated(term) and term not in symptom_fragments()


def head_terms(term: str, heads: set[str] | frozenset[str]) -> list[str]:
    """Known findings a term ends with: Chinese findings are head-final (大量蛋白尿 → 蛋白尿)."""
    return [term[i:] for i in range(1, len(term) - 1) if term[i:] in heads]


def expand(raw: str, vocabulary: set[str] | frozenset[str] = frozenset(),
           heads: set[str] | frozenset[str] = frozenset()) -> dict[str, float]:
    """Weighted canonical terms of one symptom string (see module docstring)."""
    forms: dict[str, float] = {}
    for piece in pieces(raw):
        term = canonical(piece)
        if _is_term(term):
            _add(forms, term, 1.0)
        if term in vocabulary or piece in vocabulary:
            for head in head_terms(term, heads):  # "呼吸急促" is not "呼吸" + "急促", but 明显水肿 is 水肿
                _add(forms, canonical(head), PARENT)
            continue
        for inner in contained_terms(piece, vocabulary):
            if inner not in symptom_fragments():
                _add(forms, canonical(inner), CONTAINED)
    return _with_parents(forms)


def primary_terms(raw: str) -> list[str]:
    """The weight-1 terms of a string, in order (what a clinician would read as its findings)."""
    seen: list[str] = []
    for piece in pieces(raw):
        term = canonical(piece)
        if _is_term(term) and term not in seen:
            seen.append(term)
    return seen


def vocabulary_from(values: Iterable[str]) -> dict[str, int]:
    """Document frequency of primary terms over an iterable of per-disease value sets' strings."""
    counts: dict[str, int] = {}
    for raw in values:
        for term in primary_terms(raw):
            counts[term] = counts.get(term, 0) + 1
    return counts


@lru_cache(maxsize=1)
def known_terms() -> frozenset[str]:
    """Every term the curated tables name (always part of the vocabulary)."""
    terms = set(symptom_synonyms()) | set(symptom_synonyms().values())
    for child, parents in symptom_parents().items():
        terms.add(child)
        terms.update(parents)
    terms.update(colloquial_zh())
    return frozenset({canonical(t) for t in terms} | terms)
