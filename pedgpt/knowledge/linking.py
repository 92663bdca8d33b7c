"""Entity linking: find CMeKG entities and symptom terms in free Chinese or English text.

    from pedgpt.knowledge import link_entities
    link_entities("孩子拉肚子两天，还发烧")   # → 腹泻 (alias), 发热 (colloquial → symptom)
    link_entities("fever and otitis media")   # → 发热, 中耳炎 (English)

Chinese: a private jieba tokenizer whose user dictionary holds every entity name and alias, the
symptom vocabulary and the colloquial table (`assets/knowledge/colloquial_zh.tsv`); tokens are then
joined greedily into the longest span that resolves (name → alias → colloquial → symptom term).
English: the longest run of words matching a CMeKG English name (英文名/英文名称) or the curated
table `assets/knowledge/english_zh.tsv`. Short upper-case abbreviations (AOM) must be written in
upper case so that ordinary words ("all") never link.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

from pedgpt.knowledge import symptoms
from pedgpt.knowledge.classify import normalise_english
from pedgpt.knowledge.model import LinkedEntity
from pedgpt.knowledge.resources import colloquial_zh, english_zh, symptom_fragments

#: Longest span, in jieba tokens / English words, tried when joining.
MAX_TOKENS, MAX_WORDS = 6, 6
#: English aliases this short only link when written in upper case (AOM, HFMD).
SHORT_ABBREVIATION = 4
#: A graph symptom term that is also an everyday word links only if its jieba frequency is at most
#: this many times the number of diseases listing it.
EVERYDAY_RATIO = 100
#: jieba frequency given to dictionary words, high enough to beat the generic segmentation.
USER_WORD_FREQ = 200_000

#: A run of Latin words; a comma may sit between them ("hand, foot and mouth disease" is one name).
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*(?:[ \t]*,?[ \t]+[A-Za-z][A-Za-z0-9'\-]*)*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_BUILD_LOCK = threading.Lock()


class Linker:
    """Lookup tables and tokenizer for one index (built once, then shared)."""

    def __init__(self, index) -> None:
        from pedgpt.knowledge.ddx import model_for

        self.index = index
        rows = index._rows("SELECT name, kind, pediatric FROM entities")
        self.entities = {name: (kind, bool(ped)) for name, kind, ped in rows}
        self.tokenizer = _fresh_tokenizer()
        self.symptom_terms = self._symptom_terms(index, model_for(index).vocabulary)
        self.zh_aliases: dict[str, str] = {}
        self.en_aliases: dict[str, str] = {}
        for norm, target in index.alias_table().items():
            if _CJK.search(norm):
                self.zh_aliases[norm] = target
            else:
                self.en_aliases[norm] = target
        self._add_words()

    def _symptom_terms(self, index, vocabulary) -> set[str]:
        """Symptom terms worth linking in free text: the curated ones, and graph terms that are
        not everyday words. CMeKG's symptom lists contain "工作", "正常", "牛奶" (fragments of
        phrases); a term counts only if jieba's general frequency is at most
        `EVERYDAY_RATIO` × the number of diseases listing it (咳嗽 1235 ≤ 100 × 637; 工作 66367 > 100 × 4)."""
        general = self.tokenizer.FREQ
        primary = dict(index._rows("SELECT term, primary_df FROM symptom_vocab"))
        curated = symptoms.known_terms()
        return {t for t in vocabulary if t not in symptom_fragments()
                and (t in curated or general.get(t, 0) <= EVERYDAY_RATIO * primary.get(t, 0))}

    def _add_words(self) -> None:
        tokenizer = self.tokenizer
        words = set(self.entities) | set(self.zh_aliases) | self.symptom_terms | set(colloquial_zh())
        for word in sorted(words):
            if len(word) >= 2 and _CJK.search(word) and " " not in word:
                tokenizer.add_word(word, USER_WORD_FREQ)

    # -- resolution ---------------------------------------------------------------------------
    def resolve_zh(self, span: str) -> tuple[str, str, str] | None:
        """(name, kind, via) for a Chinese span, or None."""
        if len(span) >= 2 and span in self.entities:
            return span, self.entities[span][0], "name"
        if len(span) >= 2 and span in self.zh_aliases:
            name = self.zh_aliases[span]
            return name, self.entities[name][0], "alias"
        formal = colloquial_zh().get(span)
        if formal:
            return self._formal(formal, "colloquial")
        if len(span) >= 2 and span in self.symptom_terms:
            return symptoms.canonical(span), "symptom", "symptom"
        return None

    def _formal(self, term: str, via: str) -> tuple[str, str, str]:
        if term in self.entities:
            return term, self.entities[term][0], via
        return symptoms.canonical(term), "symptom", via

    def resolve_en(self, words: list[str], surface: str) -> tuple[str, str, str] | None:
        key = " ".join(words)
        zh = english_zh().get(key)
        # Short curated words ("rash", "flu") are safe; other short keys must be upper-case abbreviations.
        if zh is None and len(key) <= SHORT_ABBREVIATION and not surface.isupper():
            return None
        found = self.resolve_zh(zh) if zh else None
        if found:  # curated table first: it maps symptoms, which CMeKG has no English for
            return found[0], found[1], "english"
        if key in self.en_aliases:
            name = self.en_aliases[key]
            return name, self.entities[name][0], "english"
        return None

    # -- scanning -----------------------------------------------------------------------------
    def link(self, text: str) -> list[LinkedEntity]:
        text = unicodedata.normalize("NFKC", text or "")
        found = self._link_chinese(text) + self._link_english(text)
        found.sort(key=lambda item: (item.start, -item.end))
        return found

    def _emit(self, surface: str, start: int, hit: tuple[str, str, str]) -> LinkedEntity:
        name, kind, via = hit
        pediatric = self.entities.get(name, ("", False))[1] if kind != "symptom" else False
        return LinkedEntity(surface, name, start, start + len(surface), kind, via, pediatric)

    def _link_chinese(self, text: str) -> list[LinkedEntity]:
        tokens = list(self.tokenizer.tokenize(text, HMM=False))  # (word, start, end)
        out, i = [], 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + MAX_TOKENS), i, -1):
                start, end = tokens[i][1], tokens[j - 1][2]
                span = text[start:end]
                hit = self.resolve_zh(span) if _CJK.search(span) else None
                if hit:
                    out.append(self._emit(span, start, hit))
                    i = j
                    break
            else:
                i += 1
        return out

    def _link_english(self, text: str) -> list[LinkedEntity]:
        out = []
        for run in _LATIN_RUN.finditer(text):
            words = [(m.group(0), run.start() + m.start()) for m in re.finditer(r"[A-Za-z0-9'\-]+", run.group(0))]
            i = 0
            while i < len(words):
                for j in range(min(len(words), i + MAX_WORDS), i, -1):
                    start = words[i][1]
                    end = words[j - 1][1] + len(words[j - 1][0])
                    surface = text[start:end]
                    hit = self.resolve_en(normalise_english(surface).split(), surface)
                    if hit:
                        out.append(self._emit(surface, start, hit))
                        i = j
                        break
                else:
                    i += 1
        return out


_BASE_TOKENIZER = None


def _fresh_tokenizer():
    """A jieba tokenizer with the general dictionary, copied from one loaded once per process
    (loading it takes ~1 s; copying its frequency table ~50 ms)."""
    import jieba

    global _BASE_TOKENIZER
    if _BASE_TOKENIZER is None:
        jieba.setLogLevel(logging.WARNING)
        base = jieba.Tokenizer()
        base.initialize()
        _BASE_TOKENIZER = base
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(_BASE_TOKENIZER.FREQ)
    tokenizer.total = _BASE_TOKENIZER.total
    tokenizer.initialized = True
    return tokenizer


def warm_up(index=None) -> None:
    """Build the linker and the differential model now (the app calls this in a background thread
    at start, so the first question does not pay the ~1–2 s)."""
    from pedgpt.knowledge.ddx import model_for
    from pedgpt.knowledge.index import load_index

    index = index or load_index()
    model_for(index)
    linker_for(index)


def linker_for(index) -> Linker:
    with _BUILD_LOCK:
        linker = index._cache.get("linker")
        if linker is None:
            linker = Linker(index)
            index._cache["linker"] = linker
        return linker


def link_entities(text: str, index=None) -> list[LinkedEntity]:
    """Entities and symptom terms mentioned in `text`, in order of appearance (no duplicates
    of the same resolved name)."""
    from pedgpt.knowledge.index import load_index

    found = linker_for(index or load_index()).link(text)
    seen: set[str] = set()
    unique = []
    for item in found:
        if item.name not in seen:
            seen.add(item.name)
            unique.append(item)
    return unique
