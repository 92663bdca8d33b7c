"""System prompts per task and language, rendered from the Jinja2 templates in `assets/prompts/`.

Templates: `{task}.{language}.j2` for task in TASKS and language in LANGUAGES; they include
`_context.{language}.j2`, which adds the pinned patient context, the triage instruction and the
retrieved knowledge facts with their citation markers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pedgpt.errors import InputError
from pedgpt.paths import asset

TASKS = ("consult", "diagnose", "medicate")
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(asset("prompts"))),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # plain text for the model, not HTML
    )


def system_prompt(
    task: str,
    language: str,
    patient_lines: Sequence[str] = (),
    facts: Sequence[dict] = (),
    triage_level: str = "routine",
    triage_flags: str = "",
    mode: str = "clinician",
    with_turn_context: bool = True,
    blocked: Sequence[dict] = (),
) -> str:
    """The system message for one turn. `facts` items need `marker` and `text`; `blocked` items
    (`pedgpt.safety.blocked_requests`, as dicts) need `drug`, `rule` and `source`.

    `with_turn_context=False` leaves out the triage instruction and the facts (they change every
    turn) so that the message stays the same across one consultation; see `turn_context`."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if language not in LANGUAGES:
        language = "en"
    template = _environment().get_template(f"{task}.{language}.j2")
    text = template.render(
        patient_lines=list(patient_lines), facts=list(facts), triage_level=triage_level,
        triage_flags=triage_flags, mode=mode, with_turn_context=with_turn_context,
        blocked=list(blocked),
    )
    return _tidy(text)


def turn_context(language: str, facts: Sequence[dict] = (), triage_level: str = "routine",
                 triage_flags: str = "", blocked: Sequence[dict] = ()) -> str:
    """The per-turn part alone (triage instruction, retrieved facts), for a system message placed
    just before the question on follow-up turns: the history before it then stays byte-identical
    between turns, so the engine's KV cache reuses it instead of re-reading the conversation."""
    if language not in LANGUAGES:
        language = "en"
    text = _environment().get_template(f"_context.{language}.j2").render(
        patient_lines=[], facts=list(facts), triage_level=triage_level, triage_flags=triage_flags,
        mode="clinician", with_turn_context=True, blocked=list(blocked))
    return _tidy(text)


def _tidy(text: str) -> str:
    # Collapse the blank lines Jinja leaves behind, keeping one blank line between sections.
    return re.sub(r"\n{3,}", "\n\n", text).strip()
