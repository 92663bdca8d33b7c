"""Neighbouring subjects: diseases that share the most symptoms (drugs: indications).

Used for differential diagnoses in EviDiag answers and for DFPO rejected answers that state the
facts of a neighbouring disease.
"""

from __future__ import annotations

from collections import defaultdict

from train.data.knowledge import Subject

_KEY = {"disease": "常见症状", "drug": "适应症"}


class Neighbours:
    """Inverted index value → subjects over one pool (e.g. the training subjects only)."""

    def __init__(self, pool: list[Subject]):
        self.pool = {s.name: s for s in pool}
        self.index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for subject in pool:
            for value in subject.values(_KEY[subject.kind]):
                self.index[(subject.kind, value)].append(subject.name)

    def of(self, subject: Subject, k: int = 3) -> list[Subject]:
        """Up to k subjects of the same kind sharing the most values, best first, ties by name."""
        scores: dict[str, int] = defaultdict(int)
        for value in subject.values(_KEY[subject.kind]):
            for name in self.index.get((subject.kind, value), ()):
                if name != subject.name:
                    scores[name] += 1
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [self.pool[name] for name, _ in ranked[:k]]
