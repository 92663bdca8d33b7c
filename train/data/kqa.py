"""MedKQ&A: knowledge questions about one disease or drug (causes, symptoms, examinations,
treatment, department, complications, population, medicines; drugs' indications,
contraindications, side effects, usage, precautions), in several phrasings per question.
"""

from __future__ import annotations

from train.data.answers import AnswerParts, knowledge_answer, overview_answer
from train.data.knowledge import DISEASE_PREDICATES, DRUG_PREDICATES, Subject
from train.data.neighbours import Neighbours
from train.data.phrasing import Phraser, language_of
from train.data.records import Example

OVERVIEW_PREDICATES = ("多发群体", "常见病因", "常见症状", "检查", "就诊科室", "治疗")


def kqa_examples(
    subject: Subject, phraser: Phraser, phrasings: int, max_items: int, neighbours: Neighbours | None
) -> list[Example]:
    """All knowledge questions about `subject`, each in `phrasings` styles."""
    predicates = DISEASE_PREDICATES if subject.kind == "disease" else DRUG_PREDICATES
    out: list[Example] = []
    neighbour = _first_neighbour(subject, neighbours)
    for predicate in predicates:
        items = subject.values(predicate)[:max_items]
        if not items:
            continue
        for style in phraser.styles(phrasings):
            out.append(_one(subject, phraser, style, predicate, items, neighbour, max_items))
    if subject.kind == "disease":
        out.extend(overview_examples(subject, phraser, phrasings, max_items, neighbour))
    return out


def _one(subject: Subject, phraser: Phraser, style: str, predicate: str, items: list[str],
         neighbour: Subject | None, max_items: int) -> Example:
    language = language_of(style)
    question = phraser.question("kqa", predicate, style, name=subject.name)
    parts = knowledge_answer(phraser, style, subject.name, predicate, items)
    rejections = _weaker(parts, language)
    wrong = neighbour.values(predicate)[:max_items] if neighbour else []
    if wrong and set(wrong) != set(items):
        mixed = knowledge_answer(phraser, style, subject.name, predicate, wrong)
        rejections.append(("neighbour_facts", mixed.full()))
    return Example(
        task="kqa", source=f"cmekg:{subject.kind}:{predicate}",
        messages=[{"role": "user", "content": question}, {"role": "assistant", "content": parts.full()}],
        language=language, style=style, subject=subject.name,
        fact_ids=subject.fact_ids(predicate), rejections=rejections,
        meta={"predicate": predicate},
    )


def overview_examples(subject: Subject, phraser: Phraser, phrasings: int, max_items: int,
                      neighbour: Subject | None) -> list[Example]:
    sections = [(p, subject.values(p)[:max_items]) for p in OVERVIEW_PREDICATES if subject.values(p)]
    if len(sections) < 3:
        return []
    out = []
    for style in phraser.styles(phrasings):
        language = language_of(style)
        parts = overview_answer(phraser, style, subject.name, sections)
        rejections = _weaker(parts, language)
        if neighbour is not None:
            wrong = [(p, neighbour.values(p)[:max_items]) for p, _ in sections if neighbour.values(p)]
            if len(wrong) >= 2:
                rejections.append(("neighbour_facts",
                                   overview_answer(phraser, style, subject.name, wrong).full()))
        out.append(Example(
            task="kqa", source=f"cmekg:{subject.kind}:概述",
            messages=[{"role": "user", "content": phraser.question("kqa", "概述", style, name=subject.name)},
                      {"role": "assistant", "content": parts.full()}],
            language=language, style=style, subject=subject.name,
            fact_ids=subject.fact_ids(*[p for p, _ in sections]), rejections=rejections,
            meta={"predicate": "概述"},
        ))
    return out


def _weaker(parts: AnswerParts, language: str) -> list[tuple[str, str]]:
    return [("terse", parts.terse(language)), ("no_safety", parts.without_safety())]


def _first_neighbour(subject: Subject, neighbours: Neighbours | None) -> Subject | None:
    if neighbours is None:
        return None
    found = neighbours.of(subject, k=1)
    return found[0] if found else None
