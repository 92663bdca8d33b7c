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
    lines, triage and contraindication rules from `pedgpt.assistant.turn_safety` (as
    `Assistant.prepare` computes them) and the facts the answer is grounded on."""
    from pedgpt.assistant import turn_safety

    grounded = [facts[fid] for fid in example.fact_ids if fid in facts][:FACTS_PER_TURN]
    users = [m["content"] for m in example.messages if m["role"] == "user"]
    checked = turn_safety(users, example.language, lenient=True)
    prompt = system_prompt(
        SERVING_TASK[example.task], example.language, checked.patient.lines(example.language),
        facts=[{"marker": f"F{i}", "text": text} for i, text in enumerate(grounded, 1)],
        triage_level=checked.level, triage_flags=checked.flags, blocked=checked.blocked,
    )
    return replace(example, messages=[{"role": "system", "content": prompt}, *example.messages])
