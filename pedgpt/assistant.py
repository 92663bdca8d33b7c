"""One assistant turn: patient context + safety + knowledge around the engine.

    assistant = Assistant(engine, mode="clinician")
    turn = assistant.prepare("consult", history, "宝宝1岁半，发烧38.8度…", Patient(weight_kg=11))
    for piece in assistant.stream(turn, max_new_tokens=256):
        ...                                   # stream to the user
    result = assistant.finish(turn, answer)  # triage, dose checks, citations; result.to_dict()

`prepare` detects the language, extracts age/weight/temperature from the text (explicit patient
values win), runs red-flag triage, retrieves cited knowledge facts, renders the task's system
prompt (patient context pinned there) and drops the oldest history turns — never the patient
context — until the prompt fits the model's context window. `finish` runs the answer guard.
The UI and the CLI both go through here, so what a clinician sees was checked the same way.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Iterator, Sequence

from pedgpt.engine.base import Engine
from pedgpt.errors import InputError
from pedgpt.language import detect_language
from pedgpt.prompts import TASKS, system_prompt, turn_context

#: Longest question accepted, in characters (the token check against the context comes later).
MAX_QUESTION_CHARS = 8000
#: Knowledge facts put in the prompt per turn.
FACTS_PER_TURN = 8
#: Input plausibility bounds for the patient card (a pediatric service: birth to 18 years).
MAX_AGE_MONTHS = 216
MAX_WEIGHT_KG = 150
#: Knowledge-graph predicates that state how much of a drug to give.
DOSE_PREDICATES = ("用法用量",)


@dataclass
class Patient:
    """Patient context pinned to a consultation and given to the model on every turn."""

    age_months: float | None = None
    sex: str | None = None
    """"F", "M" or None."""
    weight_kg: float | None = None
    allergies: str = ""
    chronic_conditions: str = ""

    def __post_init__(self) -> None:
        if self.age_months is not None and not 0 <= self.age_months <= MAX_AGE_MONTHS:
            raise InputError(f"age must be between 0 and {MAX_AGE_MONTHS} months, got {self.age_months}")
        if self.weight_kg is not None and not 0 < self.weight_kg <= MAX_WEIGHT_KG:
            raise InputError(f"weight must be above 0 and at most {MAX_WEIGHT_KG} kg, got {self.weight_kg}")
        if self.sex not in (None, "", "F", "M"):
            raise InputError(f"sex must be F or M, got {self.sex!r}")
        self.sex = self.sex or None

    def lines(self, language: str) -> list[str]:
        """Human-readable lines for the system prompt."""
        zh = language == "zh"
        out = []
        if self.age_months is not None:
            out.append(f"年龄：{format_age(self.age_months, 'zh')}" if zh
                       else f"Age: {format_age(self.age_months, 'en')}")
        if self.sex:
            out.append(("性别：" + {"F": "女", "M": "男"}[self.sex]) if zh
                       else "Sex: " + {"F": "female", "M": "male"}[self.sex])
        if self.weight_kg is not None:
            out.append(f"体重：{self.weight_kg:g} kg" if zh else f"Weight: {self.weight_kg:g} kg")
        if self.allergies.strip():
            out.append(("过敏史：" if zh else "Allergies: ") + self.allergies.strip())
        if self.chronic_conditions.strip():
            out.append(("基础疾病：" if zh else "Chronic conditions: ") + self.chronic_conditions.strip())
        return out

    def merged_with(self, age_months: float | None, weight_kg: float | None) -> "Patient":
        """Fill missing age/weight from values extracted from the text; explicit values win."""
        return Patient(
            age_months=self.age_months if self.age_months is not None else age_months,
            sex=self.sex,
            weight_kg=self.weight_kg if self.weight_kg is not None else weight_kg,
            allergies=self.allergies,
            chronic_conditions=self.chronic_conditions,
        )


@dataclass
class TurnSafety:
    """What the safety layer derives from a conversation's user turns before the model answers
    (the app's `Assistant.prepare` and the training data's system messages share it)."""

    patient: Patient
    """The patient card with age/weight filled in from the text."""
    triage: object
    """`pedgpt.safety.Assessment` of the question (the last user turn)."""
    blocked: list[dict]
    """`BlockedRequest.to_dict()` of every contraindicated drug the conversation names."""

    @property
    def level(self) -> str:
        return str(getattr(self.triage.level, "value", self.triage.level))

    @property
    def flags(self) -> str:
        return "; ".join(flag.text for flag in self.triage.flags)


def turn_safety(user_turns: Sequence[str], language: str, patient: Patient | None = None,
                lenient: bool = False) -> TurnSafety:
    """Patient facts, triage of the question and contraindicated requests for these user turns
    (oldest first). An extracted age or weight outside the card's bounds raises InputError, or
    with `lenient` is left out (training data: a corpus sentence is not a patient card)."""
    from pedgpt import safety

    conversation = "\n".join(user_turns)
    found = safety.extract_patient(conversation)
    age, weight = found.age_months, found.weight_kg
    if lenient:
        age = age if age is not None and 0 <= age <= MAX_AGE_MONTHS else None
        weight = weight if weight is not None and 0 < weight <= MAX_WEIGHT_KG else None
    patient = (patient or Patient()).merged_with(age, weight)
    triage = safety.assess(user_turns[-1], age_months=patient.age_months, temp_c=found.temp_c,
                           language=language)
    blocked = safety.blocked_requests("\n".join([conversation, patient.chronic_conditions]),
                                      patient.age_months, patient.weight_kg, found.findings,
                                      language)
    return TurnSafety(patient, triage, [b.to_dict() for b in blocked])


def without_doses_of(citations: list[dict], blocked: list[dict]) -> list[dict]:
    """Retrieved facts minus the usage-and-dose facts (用法用量) of a drug the rules forbid for
    this patient: a knowledge-graph dose for aspirin next to "aspirin is contraindicated" is an
    invitation to quote it. Markers are renumbered so they stay F1, F2, …"""
    if not blocked:
        return citations
    from pedgpt.safety.answer_parse import parse_answer

    forbidden = {b["drug_id"] for b in blocked}
    kept = [c for c in citations if not (
        c["predicate"] in DOSE_PREDICATES
        and forbidden & {m.drug_id for m in parse_answer(c["entity"]).mentions})]
    return [dict(c, marker=f"F{i}") for i, c in enumerate(kept, start=1)]


def format_age(age_months: float, language: str) -> str:
    years, months = divmod(int(round(age_months)), 12)
    if language == "zh":
        return (f"{years}岁" if years else "") + (f"{months}个月" if months or not years else "")
    parts = ([f"{years} y"] if years else []) + ([f"{months} mo"] if months or not years else [])
    return " ".join(parts)


@dataclass
class Turn:
    """Everything decided before generation."""

    task: str
    question: str
    language: str
    patient: Patient
    messages: list[dict]
    triage: dict
    citations: list[dict]
    dropped_turns: int = 0
    blocked: list[dict] = field(default_factory=list)
    """Drugs the question names that a contraindication rule forbids for this patient
    (`pedgpt.safety.blocked_requests`); the system prompt states each rule."""


@dataclass
class AnswerResult:
    """A finished answer with its checks (the `ask --json` shape)."""

    answer: str
    language: str
    task: str
    triage: dict
    dose_checks: list[dict] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    banner: str = ""
    model: str = ""
    blocked_requests: list[dict] = field(default_factory=list)
    """Contraindicated drugs the question named; their rules were put in the system prompt."""

    def to_dict(self) -> dict:
        return asdict(self)


class Assistant:
    """Wraps one engine with the clinical rules; stateless between turns."""

    def __init__(self, engine: Engine, mode: str = "clinician", use_knowledge: bool = True,
                 knowledge_index=None) -> None:
        """`knowledge_index`: a `pedgpt.knowledge.KnowledgeIndex`; None → the shared default."""
        if mode not in ("clinician", "parent"):
            raise InputError(f"unknown mode {mode!r}")
        self.engine = engine
        self.mode = mode
        self.use_knowledge = use_knowledge
        self.knowledge_index = knowledge_index

    # ---- before generation --------------------------------------------------------------------
    def prepare(self, task: str, history: Sequence[dict], question: str,
                patient: Patient | None = None, max_new_tokens: int = 256) -> Turn:
        if task not in TASKS:
            raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
        question = (question or "").strip()
        if not question:
            raise InputError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(f"the question is too long ({len(question)} characters; "
                             f"at most {MAX_QUESTION_CHARS})")
        language = detect_language(question)
        users = [m["content"] for m in history if m.get("role") == "user"] + [question]
        checked = turn_safety(users, language, patient)
        patient, blocked = checked.patient, checked.blocked
        citations = without_doses_of(self._retrieve(question, patient), blocked)
        messages, dropped = self._fit(
            self._system(task, language, patient, citations, checked.level, checked.flags,
                         bool(history), blocked),
            list(history), {"role": "user", "content": question}, max_new_tokens)
        return Turn(task, question, language, patient, messages, checked.triage.to_dict(),
                    citations, dropped, blocked)

    def _system(self, task: str, language: str, patient: Patient, citations: list[dict],
                triage_level: str, flags: str, follow_up: bool,
                blocked: list[dict] = ()) -> list[dict]:
        """[leading system message, per-turn context message or None].

        First turn: one system message with everything (as training data renders it). Follow-up
        turns: the leading message holds only what is fixed for the consultation (instructions,
        patient), and the triage and facts of this turn go in a second system message just before
        the question, so the rendered history stays a prefix of the previous turn's prompt and
        llama.cpp's KV cache skips re-reading it (measured by `pedgpt bench`, "follow-up")."""
        lines = patient.lines(language)
        if not follow_up:
            return [{"role": "system", "content": system_prompt(
                task, language, lines, citations, triage_level, flags, self.mode,
                blocked=blocked)}, None]
        return [{"role": "system", "content": system_prompt(
                    task, language, lines, mode=self.mode, with_turn_context=False)},
                {"role": "system", "content": turn_context(language, citations, triage_level, flags,
                                                           blocked)}]

    def _retrieve(self, question: str, patient: Patient) -> list[dict]:
        if not self.use_knowledge:
            return []
        from pedgpt.knowledge import retrieve

        facts = retrieve(question, patient=patient, k=FACTS_PER_TURN, index=self.knowledge_index)
        return [{"marker": f"F{i}", "id": f.id, "entity": f.entity, "predicate": f.predicate,
                 "value": f.value, "text": f.text} for i, f in enumerate(facts, start=1)]

    def _fit(self, system: list, history: list[dict], user: dict,
             max_new_tokens: int) -> tuple[list[dict], int]:
        """Drop the oldest history messages (whole user/assistant pairs) until the prompt fits.
        `system`: [leading message, per-turn context message or None] (see `_system`)."""
        budget = self.engine.context_length - max_new_tokens
        dropped = 0
        lead, context = system
        while True:
            messages = [lead] + history + ([context] if context else []) + [user]
            tokens = self.engine.prompt_tokens(messages)
            if tokens <= budget:
                return messages, dropped
            if not history:
                raise InputError(
                    f"the question is too long for the model: {tokens} prompt tokens, "
                    f"{budget} available after reserving {max_new_tokens} for the answer")
            cut = 2 if len(history) >= 2 and history[1].get("role") == "assistant" else 1
            history, dropped = history[cut:], dropped + cut

    # ---- generation ---------------------------------------------------------------------------
    def stream(self, turn: Turn, max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 1.0, cancel: threading.Event | None = None) -> Iterator[str]:
        return self.engine.stream(turn.messages, max_new_tokens=max_new_tokens,
                                  temperature=temperature, top_p=top_p, cancel=cancel,
                                  answer_language=turn.language)

    # ---- after generation ---------------------------------------------------------------------
    def finish(self, turn: Turn, answer: str) -> AnswerResult:
        from pedgpt import safety

        context = safety.SafetyContext(age_months=turn.patient.age_months,
                                       weight_kg=turn.patient.weight_kg,
                                       language=turn.language, mode=self.mode)
        guarded = safety.guard(answer, context, triage=turn.triage)
        cited = [dict(c, cited=f"[{c['marker']}]" in answer) for c in turn.citations]
        return AnswerResult(
            answer=guarded.answer, language=turn.language, task=turn.task, triage=turn.triage,
            dose_checks=[f.to_dict() for f in guarded.findings], citations=cited,
            banner=guarded.banner, model=str(self.engine.info().get("model", "")),
            blocked_requests=list(turn.blocked))

    def ask(self, question: str, task: str = "consult", patient: Patient | None = None,
            history: Sequence[dict] = (), **generation) -> AnswerResult:
        """Prepare, generate and check in one call (no streaming)."""
        turn = self.prepare(task, history, question, patient,
                            generation.get("max_new_tokens", 256))
        return self.finish(turn, "".join(self.stream(turn, **generation)))
