"""Optional system messages (`DataBuildConfig.system_prompt = "task"`): each conversation starts
with the task's PedGPT system prompt as served (`pedgpt.prompts.system_prompt`): the patient
context, triage instruction and contraindication rules the safety layer derives from the user
turns, and the knowledge facts the answer is grounded on with their citation markers, as
retrieval provides them at serving time.
"""

from __future__ import annotations

from dataclasses import replace

from pedgpt.assistant import FACTS_PER_TURN
from pedgpt.prompts import system_prompt
from train.data.knowledge import Subject
from train.data.records import Example

#: Corpus task → the serving task whose system prompt it trains.
SERVING_TASK = {"kqa": "consult", "diag": "diagnose", "treat": "medicate", "safety": "consult",
                "self_cognition": "consult", "general": "consult"}


def fact_texts(subjects: list[Subject]) -> dict[str, str]:
    """Fact id → "entity — predicate: value" (the knowledge index's rendering)."""
    return {f.id: f"{s.name} — {f.predicate}: {f.value}"
            for s in subjects for facts in s.facts.values() for f in facts}


def with_system_prompt(example: Example, facts: dict[str, str]) -> Example:
    """The example with the system message the app would send for its last question: patient
    lines, triage and contraindication rules computed by `pedgpt.safety` from the user turns, as
    `pedgpt.assistant.Assistant.prepare` does, and the facts the answer is grounded on."""
    from pedgpt import safety
    from pedgpt.assistant import Patient

    grounded = [facts[fid] for fid in example.fact_ids if fid in facts][:FACTS_PER_TURN]
    users = [m["content"] for m in example.messages if m["role"] == "user"]
    found = safety.extract_patient("\n".join(users))
    patient = Patient(age_months=found.age_months if _plausible_age(found.age_months) else None,
                      weight_kg=found.weight_kg if _plausible_weight(found.weight_kg) else None)
    triage = safety.assess(users[-1], age_months=patient.age_months, temp_c=found.temp_c,
                           language=example.language)
    blocked = safety.blocked_requests("\n".join(users), patient.age_months, patient.weight_kg,
                                      found.findings, example.language)
    prompt = system_prompt(
        SERVING_TASK[example.task], example.language, patient.lines(example.language),
        facts=[{"marker": f"F{i}", "text": text} for i, text in enumerate(grounded, 1)],
        triage_level=str(getattr(triage.level, "value", triage.level)),
        triage_flags="; ".join(flag.text for flag in triage.flags),
        blocked=[b.to_dict() for b in blocked],
    )
    return replace(example, messages=[{"role": "system", "content": prompt}, *example.messages])


def _plausible_age(months: float | None) -> bool:
    from pedgpt.assistant import MAX_AGE_MONTHS

    return months is not None and 0 <= months <= MAX_AGE_MONTHS


def _plausible_weight(kg: float | None) -> bool:
    from pedgpt.assistant import MAX_WEIGHT_KG

    return kg is not None and 0 < kg <= MAX_WEIGHT_KG
