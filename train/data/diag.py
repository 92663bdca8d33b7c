"""EviDiag: case vignettes built from a disease's symptoms, population and examinations.

Multi-turn cases: the parent names a few symptoms, the assistant asks for the missing findings
and tests, the parent supplies them, and the assistant gives the disease with its supporting
evidence, the differential and the next steps. Single-turn cases give everything up front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from train.data.answers import AnswerParts
from train.data.knowledge import Subject
from train.data.phrasing import Phraser, language_of
from train.data.records import Example
from train.data.text import join_items, numbered

MIN_SYMPTOMS = 3
#: Knowledge-graph "symptoms" that are sentences, not findings a parent would report.
_NOT_A_FINDING = re.compile(r"表现|临床|主要|可出现|可有|波及|引起|导致|患者|多见|常见|本病")
MAX_FINDING_CHARS = 10
#: Findings or names that fix the child's sex in a vignette.
_FEMALE = re.compile(r"月经|痛经|闭经|泌乳|阴道|卵巢|子宫|女")
_MALE = re.compile(r"睾丸|阴茎|阴囊|前列腺|男")
SEX = {"zh": ("女", "男"), "en": ("girl", "boy")}


def findings(subject: Subject) -> list[str]:
    """The disease's symptoms that read like findings ("发热", "皮疹"), leading 伴/有 removed."""
    out = []
    for value in subject.values("常见症状"):
        value = re.sub(r"^(伴有|伴|有)", "", value)
        if 2 <= len(value) <= MAX_FINDING_CHARS and not _NOT_A_FINDING.search(value) and value not in out:
            out.append(value)
    return out
DEFAULT_DEPARTMENT = {"zh": "儿科", "en": "pediatrics"}


@dataclass
class Case:
    """The findings of one vignette."""

    shown: list[str]
    hidden: list[str]
    exams: list[str]
    age: str
    sex: str


def diag_examples(subject: Subject, phraser: Phraser, count: int, multi_turn_share: float,
                  differential: list[Subject]) -> list[Example]:
    """`count` vignettes of `subject` (none when it has too few symptoms)."""
    if subject.kind != "disease" or len(findings(subject)) < MIN_SYMPTOMS:
        return []
    out = []
    for _ in range(count):
        style = phraser.style()
        multi = phraser.rng.random() < multi_turn_share
        out.append(_vignette(subject, phraser, style, multi, differential))
    return out


def _case(subject: Subject, phraser: Phraser, language: str) -> Case:
    pool = findings(subject)
    symptoms = phraser.rng.sample(pool, len(pool))[:6]
    split = max(1, min(3, len(symptoms) // 2))
    return Case(
        shown=symptoms[:split], hidden=symptoms[split:],
        exams=subject.values("检查")[:3],
        age=phraser.age(subject.values("多发群体"), language), sex=_sex(subject, phraser, language),
    )


def _sex(subject: Subject, phraser: Phraser, language: str) -> str:
    text = subject.name + "".join(subject.values("常见症状")) + "".join(subject.values("多发群体"))
    female, male = bool(_FEMALE.search(text)), bool(_MALE.search(text))
    if female != male:
        return SEX[language][0] if female else SEX[language][1]
    return phraser.sex(language)


def _vignette(subject: Subject, phraser: Phraser, style: str, multi: bool,
              differential: list[Subject]) -> Example:
    language = language_of(style)
    case = _case(subject, phraser, language)
    first = case.shown if multi else case.shown + case.hidden
    messages = [{"role": "user", "content": phraser.question(
        "diag", "first_turn", style, age=case.age, sex=case.sex, symptoms=join_items(first, language))}]
    if multi:
        messages.append({"role": "assistant", "content": _ask(phraser, language, case)})
        messages.append({"role": "user", "content": _supply(phraser, style, language, case)})
    parts = verdict(phraser, style, subject, case, differential)
    messages.append({"role": "assistant", "content": parts.full()})
    rejections = [("terse", parts.terse(language)), ("no_safety", parts.without_safety())]
    if differential:
        wrong = verdict(phraser, style, differential[0], case, [subject])
        rejections.append(("neighbour_facts", wrong.full()))
    return Example(
        task="diag", source="cmekg:disease:vignette" + (":multi_turn" if multi else ""),
        messages=messages, language=language, style=style, subject=subject.name,
        fact_ids=subject.fact_ids("常见症状", "多发群体", "检查", "就诊科室"),
        rejections=rejections, meta={"multi_turn": multi},
    )


def _ask(phraser: Phraser, language: str, case: Case) -> str:
    questions = [phraser.text("diag", "ask_symptom", language, symptoms=join_items(case.hidden, language))]
    if case.exams:
        questions.append(phraser.text("diag", "ask_exam", language, exams=join_items(case.exams, language)))
    questions.append(phraser.text("diag", "ask_general", language))
    return phraser.text("diag", "ask_more", language) + "\n" + numbered(questions)


def _supply(phraser: Phraser, style: str, language: str, case: Case) -> str:
    if case.exams:
        done = phraser.text("diag", "exams_done", language, exams=join_items(case.exams, language))
    else:
        done = phraser.text("diag", "exams_none", language)
    return phraser.question("diag", "supply", style, symptoms=join_items(case.hidden, language),
                            exams_done=done)


def verdict(phraser: Phraser, style: str, subject: Subject, case: Case,
            differential: list[Subject]) -> AnswerParts:
    """The diagnosis with its evidence (symptoms, population, tests), differential, next steps."""
    language = language_of(style)
    symptoms = [s for s in case.shown + case.hidden if s in findings(subject)]
    symptoms = symptoms or findings(subject)[:3] or subject.values("常见症状")[:3]
    evidence = [phraser.text("diag", "evidence_symptom", language, name=subject.name,
                             items=join_items(symptoms, language))]
    groups = subject.values("多发群体")[:3]
    if groups:
        evidence.append(phraser.text("diag", "evidence_group", language, name=subject.name,
                                     items=join_items(groups, language)))
    exams = subject.values("检查")[:3]
    if exams:
        evidence.append(phraser.text("diag", "evidence_exam", language, items=join_items(exams, language)))
    body = [phraser.text("diag", "verdict", language, name=subject.name),
            phraser.text("diag", "evidence_head", language), numbered(evidence)]
    others = [d.name for d in differential if d.name != subject.name][:3]
    if others:
        body.append(phraser.text("diag", "differential", language, others=join_items(others, language)))
    dept = join_items(subject.values("就诊科室")[:2], language) or DEFAULT_DEPARTMENT[language]
    if exams:
        steps = phraser.text("diag", "next_steps", language, dept=dept, exams=join_items(exams, language))
    else:
        steps = phraser.text("diag", "next_steps_plain", language, dept=dept)
    return AnswerParts(phraser.opening(style), "\n".join(body), [steps], phraser.closing(style))
