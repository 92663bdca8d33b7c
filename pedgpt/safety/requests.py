"""Contraindicated drugs named in the QUESTION, found before the model answers.

The answer guard (`pedgpt.safety.guard`) checks what the model said; this module checks what the
user asked, so that the system prompt can tell the model which drug the rules forbid for this
child, and why, before it writes a word ("1岁孩子发烧，阿司匹林吃多少？" → CI-1). The model then
explains the rule instead of recalling a dose; the guard still checks the answer afterwards.

    from pedgpt.safety import blocked_requests
    [b.rule_id for b in blocked_requests("1岁孩子发烧，家里有阿司匹林，一次吃多少？", age_months=12)]
    # ['CI-1']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from pedgpt.safety import contra, tables
from pedgpt.safety.answer_parse import parse_answer
from pedgpt.safety.extract import extract_patient


@dataclass(frozen=True)
class BlockedRequest:
    """One drug the question names that a `forbid` rule rules out for this patient."""

    drug_id: str
    drug: str
    """The drug's label in the question's language."""
    rule_id: str
    rule: str
    """The rule's text in the question's language."""
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


def blocked_requests(text: str, age_months: float | None = None, weight_kg: float | None = None,
                     conditions: Iterable[str] = (), language: str = "zh") -> list[BlockedRequest]:
    """Forbidden drugs named anywhere in `text` (warned-against mentions included: "can I give
    aspirin, or is it not allowed?" still names it). Age, weight and conditions stated in the text
    are used where the arguments leave them out; an unknown age is treated as a child's, as the
    answer guard does (rules with bounds of 12 years and above apply)."""
    facts = extract_patient(text)
    age = age_months if age_months is not None else facts.age_months
    weight = weight_kg if weight_kg is not None else facts.weight_kg
    known = set(conditions) | set(facts.findings)
    out: list[BlockedRequest] = []
    seen: set[tuple[str, str]] = set()
    for mention in parse_answer(text).mentions:
        drug = tables.drug(mention.drug_id)
        for rule in contra.forbidding(contra.applicable(drug, age, weight, known, assume_child=True)):
            if (drug.id, rule.id) in seen:
                continue
            seen.add((drug.id, rule.id))
            out.append(BlockedRequest(drug.id, drug.label(language), rule.id,
                                      rule.rule.get(language), rule.source))
    return out
