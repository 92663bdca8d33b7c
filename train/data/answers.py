"""Compose answers from parts, so the complete (preferred) answer and its weaker variants
(terse, without safety advice) come from the same pieces.

A complete answer = empathetic opening + structured body + advice lines + safety-net closing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from train.data.phrasing import Phraser, language_of
from train.data.text import join_items, numbered


@dataclass
class AnswerParts:
    opening: str
    body: str
    advice: list[str] = field(default_factory=list)
    closing: str = ""

    def full(self) -> str:
        return "\n\n".join(p for p in (self.opening, self.body, *self.advice, self.closing) if p)

    def without_safety(self) -> str:
        """Body only: the same facts, no empathy, no advice, no 'see a doctor when…'."""
        return self.body

    def terse(self, language: str) -> str:
        """One line: the lead sentence plus the first few items, no empathy and no advice."""
        lines = [line for line in self.body.splitlines() if line.strip()]
        items = [line.split(". ", 1)[1] for line in lines if line[:1].isdigit() and ". " in line]
        if not items:
            return lines[0] if lines else self.body
        lead = lines[0] if not lines[0][:1].isdigit() else ""
        if language == "en":
            return f"{lead} {join_items(items[:3], language)}.".strip()
        return f"{lead}{join_items(items[:3], language)}。"


def knowledge_answer(
    phraser: Phraser, style: str, name: str, predicate: str, items: list[str]
) -> AnswerParts:
    """A MedKQ&A answer about one predicate of one entity."""
    language = language_of(style)
    lead = phraser.text("lead", language, predicate, name=name)
    extra = phraser.text("extras", language, predicate, name=name)
    return AnswerParts(
        opening=phraser.opening(style),
        body=f"{lead}\n{numbered(items)}",
        advice=[extra],
        closing=phraser.closing(style),
    )


def overview_answer(
    phraser: Phraser, style: str, name: str, sections: list[tuple[str, list[str]]]
) -> AnswerParts:
    """An overview answer: one titled line per predicate."""
    language = language_of(style)
    titles = phraser.t["sections"][language]
    colon = ": " if language == "en" else "："
    lines = [phraser.text("overview_lead", language, name=name)]
    for index, (predicate, items) in enumerate(sections, 1):
        lines.append(f"{index}. **{titles[predicate]}**{colon}{join_items(items, language)}")
    advice = [phraser.text("extras", language, "治疗")] if any(p == "治疗" for p, _ in sections) else []
    return AnswerParts(phraser.opening(style), "\n".join(lines), advice, phraser.closing(style))
