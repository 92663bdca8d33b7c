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
) -> str:
    """The system message for one turn. `facts` items need `marker` and `text`."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if language not in LANGUAGES:
        language = "en"
    template = _environment().get_template(f"{task}.{language}.j2")
    text = template.render(
        patient_lines=list(patient_lines), facts=list(facts), triage_level=triage_level,
        triage_flags=triage_flags, mode=mode,
    )
    # Collapse the blank lines Jinja leaves behind, keeping one blank line between sections.
    return re.sub(r"\n{3,}", "\n\n", text).strip()
