"""TreRecom: treatment recommendations for a diagnosed disease (principles from the knowledge
graph, medicines only via a doctor, home care, follow-up and a safety net), and weight-based drug
questions answered from the safety layer's dose calculator (`train.data.dosing`).
"""

from __future__ import annotations

from train.data.answers import AnswerParts
from train.data.knowledge import Subject
from train.data.phrasing import Phraser, language_of
from train.data.records import Example
from train.data.text import join_items, numbered

DEFAULT_DEPARTMENT = {"zh": "儿科", "en": "pediatrics"}


def treat_examples(subject: Subject, phraser: Phraser, count: int, max_items: int,
                   neighbour: Subject | None) -> list[Example]:
    """`count` treatment questions about `subject` (none without treatment facts)."""
    if subject.kind != "disease" or not (subject.values("治疗") or subject.values("相关药物")):
        return []
    out = []
    for style in phraser.styles(count):
        language = language_of(style)
        age = phraser.age(subject.values("多发群体"), language)
        question = phraser.question("treat", "disease", style, name=subject.name, age=age)
        parts = treatment_answer(phraser, style, subject, max_items)
        rejections = [("terse", parts.terse(language)), ("no_safety", parts.without_safety())]
        if neighbour is not None and (neighbour.values("治疗") or neighbour.values("相关药物")):
            wrong = treatment_answer(phraser, style, neighbour, max_items, shown_name=subject.name)
            if wrong.body != parts.body:
                rejections.append(("neighbour_facts", wrong.full()))
        out.append(Example(
            task="treat", source="cmekg:disease:treatment",
            messages=[{"role": "user", "content": question}, {"role": "assistant", "content": parts.full()}],
            language=language, style=style, subject=subject.name,
            fact_ids=subject.fact_ids("治疗", "相关药物", "就诊科室"), rejections=rejections,
        ))
    return out


def treatment_answer(phraser: Phraser, style: str, subject: Subject, max_items: int,
                     shown_name: str | None = None) -> AnswerParts:
    """Principles + medicines (doctor's decision) + no-prescription note + care + follow-up."""
    language = language_of(style)
    name = shown_name or subject.name
    body = [phraser.text("treat", "lead", language, name=name)]
    principles = subject.values("治疗")[:max_items]
    if principles:
        body.append(numbered(principles))
    drugs = subject.values("相关药物")[:max_items]
    if drugs:
        body.append(phraser.text("treat", "drugs", language, items=join_items(drugs, language)))
    tips = phraser.rng.sample(phraser.t["treat"]["care_tips"][language], 2)
    dept = join_items(subject.values("就诊科室")[:2], language) or DEFAULT_DEPARTMENT[language]
    advice = [phraser.text("treat", "no_prescription", language), numbered(tips),
              phraser.text("treat", "follow_up", language, dept=dept)]
    return AnswerParts(phraser.opening(style), "\n".join(body), advice, phraser.closing(style))
