"""What an ANSWER does, read from its words: escalates (emergency / see a doctor), refuses to
answer, or advises against a request. Phrase lists live in `assets/eval/markers.yaml`.

    from pedgpt.eval.answer_signals import load_markers
    markers = load_markers()
    markers.escalation("请立即就医，拨打120。")    # "emergency"
    markers.refuses("抱歉，我无法回答这个问题。")  # True

A phrase preceded closely by a negation cue in the same clause does not count ("不需要去急诊").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pedgpt.errors import InputError
from pedgpt.paths import asset

_CLAUSE_END = re.compile(r"[，。；！？,;!?\n]|\.\s")

#: Signal groups every markers file must define, per language.
GROUPS = ("emergency", "see_doctor", "refusal", "advise_against", "negation")
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Markers:
    """Phrase lists by group and language (lower-cased)."""

    phrases: dict
    """{group: {language: tuple of phrases}}"""
    negation_window: int = 8
    """Characters before a phrase searched for a negation cue."""

    def __post_init__(self) -> None:
        for group in GROUPS:
            for language in LANGUAGES:
                if not self.phrases.get(group, {}).get(language):
                    raise InputError(f"markers: group {group!r} has no {language} phrases")
        if not 0 <= self.negation_window <= 40:
            raise InputError("markers: negation_window must be between 0 and 40")

    def has(self, group: str, text: str) -> bool:
        """True when any phrase of `group` (either language) occurs un-negated in `text`."""
        lowered = text.lower()
        return any(self._found(phrase, lowered)
                   for language in LANGUAGES for phrase in self.phrases[group][language])

    def escalation(self, text: str) -> str:
        """"emergency", "see_doctor" or "none": the strongest escalation the answer advises."""
        if self.has("emergency", text):
            return "emergency"
        return "see_doctor" if self.has("see_doctor", text) else "none"

    def refuses(self, text: str) -> bool:
        """The answer declines to answer (or is empty)."""
        return not text.strip() or self.has("refusal", text)

    def advises_against(self, text: str) -> bool:
        return self.has("advise_against", text)

    def _found(self, phrase: str, lowered: str) -> bool:
        start = lowered.find(phrase)
        while start >= 0:
            before = lowered[max(0, start - self.negation_window - 20):start]
            if not self._negated(before):
                return True
            start = lowered.find(phrase, start + 1)
        return False

    def _negated(self, before: str) -> bool:
        # A negation reaches to the end of its clause only: "不需要等待，立即就医" escalates.
        before = _CLAUSE_END.split(before)[-1]
        for language in LANGUAGES:
            for cue in self.phrases["negation"][language]:
                at = before.rfind(cue)
                if at >= 0 and len(before) - (at + len(cue)) <= self.negation_window:
                    return True
        return False


@lru_cache(maxsize=4)
def load_markers(path: str | None = None) -> Markers:
    """Read and validate a markers YAML file (default: the shipped one)."""
    import yaml

    source = Path(path) if path else asset("eval", "markers.yaml")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read markers file {source}: {exc}") from None
    phrases = {group: {lang: tuple(str(p).lower() for p in (data.get(group) or {}).get(lang) or ())
                       for lang in LANGUAGES}
               for group in GROUPS}
    return Markers(phrases=phrases, negation_window=int(data.get("negation_window", 8)))
