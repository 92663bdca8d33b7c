"""Hold out diseases for evaluation, and check that none of them leaks into training data.

A disease may be held out only if its name (and each alias it is recognised by) occurs nowhere
else in the knowledge: in no other subject's name, alias or fact value. Then no training answer
can mention it by accident, and the leakage check is a plain text search plus a comparison of
fact ids. The held-out set is a seeded draw among the eligible diseases.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterable

from train.data.knowledge import Subject
from train.data.records import Example
from train.data.text import rng_for

#: Names shorter than this are too generic to search for as text ("痢疾" is fine, "瘤" is not).
MIN_NAME_CHARS = 3


@dataclass
class Split:
    train: list[Subject]
    held_out: list[Subject]
    eligible: int
    terms: dict[str, list[str]] = field(default_factory=dict)
    """Held-out disease → the surface forms searched for in training text."""


def split_subjects(subjects: list[Subject], fraction: float, min_facts: int, seed: int,
                   extra_texts: Iterable[str] = (), min_treat: int = 0) -> Split:
    """Seeded disease-level split; drugs always stay in training. `extra_texts`: other text that
    goes into training (safety tables, authored instructions), which held-out names must avoid.
    `min_treat`: hold out at least this many diseases with treatment facts (when `fraction` > 0),
    so the TreRecom evaluation is not too small."""
    haystack = _Haystack(subjects, extra_texts)
    terms: dict[str, list[str]] = {}
    for subject in subjects:
        if subject.kind != "disease" or subject.fact_count < min_facts:
            continue
        if len(subject.values("常见症状")) < 3 or len(subject.name) < MIN_NAME_CHARS:
            continue
        forms = [subject.name, *[a for a in subject.aliases if len(a) >= MIN_NAME_CHARS]]
        if haystack.mentioned_elsewhere(subject.name, subject.name):
            continue
        terms[subject.name] = [f for f in forms if not haystack.mentioned_elsewhere(f, subject.name)]
    eligible = [s for s in subjects if s.name in terms]
    rng = rng_for(seed, "split")
    chosen = set(rng.sample(sorted(s.name for s in eligible), round(fraction * len(eligible))))
    treatable = sorted(s.name for s in eligible if _treatable(s) and s.name not in chosen)
    missing = min_treat - sum(1 for s in eligible if s.name in chosen and _treatable(s)) if fraction else 0
    chosen.update(rng.sample(treatable, max(0, min(missing, len(treatable) // 2))))
    return Split(
        train=[s for s in subjects if s.name not in chosen],
        held_out=[s for s in subjects if s.name in chosen],
        eligible=len(eligible),
        terms={name: forms for name, forms in terms.items() if name in chosen},
    )


def _treatable(subject: Subject) -> bool:
    return bool(subject.values("治疗") or subject.values("相关药物"))


class _Haystack:
    """All subjects' texts (name, aliases, fact values) in one string, to find which subjects
    mention a term with fast C-level `str.find` instead of a Python loop per text."""

    def __init__(self, subjects: list[Subject], extra_texts: Iterable[str] = ()):
        pieces, self.starts, self.owners = [], [], []
        offset = 0
        owned = [(s.name, [s.name, *s.aliases, *(f.value for fs in s.facts.values() for f in fs)])
                 for s in subjects]
        owned.append(("", list(extra_texts)))  # authored texts (safety tables, templates) own nothing
        for owner, texts in owned:
            text = "\x00".join(texts)
            pieces.append(text)
            self.starts.append(offset)
            self.owners.append(owner)
            offset += len(text) + 1
        self.text = "\x01".join(pieces)

    def mentioned_elsewhere(self, term: str, owner: str) -> bool:
        position = self.text.find(term)
        while position != -1:
            if self.owners[bisect.bisect_right(self.starts, position) - 1] != owner:
                return True
            position = self.text.find(term, position + 1)
        return False


def leakage_report(split: Split, training: Iterable[Example], texts: Iterable[str]) -> dict:
    """Held-out names found in training text, and held-out fact ids used by training examples.

    `texts` are searched with one compiled alternation of every held-out surface form (the `re`
    engine scans ~50 MB/s this way, far faster than one `in` test per name and text)."""
    held_ids = {fid for s in split.held_out for fid in s.fact_ids()}
    held_names = {s.name for s in split.held_out}
    bad_ids = 0
    bad_subjects = set()
    for example in training:
        if example.subject in held_names:
            bad_subjects.add(example.subject)
        bad_ids += sum(1 for fid in example.fact_ids if fid in held_ids)
    owner = {form: name for name, forms in split.terms.items() for form in forms}
    mentions: dict[str, int] = {}
    if owner:
        pattern = re.compile("|".join(re.escape(f) for f in sorted(owner, key=lambda f: (-len(f), f))))
        for text in texts:
            for match in pattern.finditer(text):
                name = owner[match.group(0)]
                mentions[name] = mentions.get(name, 0) + 1
    return {
        "held_out_diseases": len(split.held_out),
        "eligible_diseases": split.eligible,
        "training_examples_about_held_out": len(bad_subjects),
        "held_out_fact_ids_in_training": bad_ids,
        "held_out_names_in_training_text": dict(sorted(mentions.items())),
        "ok": not bad_subjects and not bad_ids and not mentions,
    }
