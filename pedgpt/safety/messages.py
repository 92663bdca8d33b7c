"""Bilingual messages of the answer guard (assets/safety/guard_messages.yaml), checked at load."""

from __future__ import annotations

import functools

from pydantic import BaseModel, ConfigDict

from pedgpt.paths import asset
from pedgpt.safety.schema import Bilingual, TableError
from pedgpt.safety.tables import load_table


class MessageTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    messages: dict[str, Bilingual]


@functools.cache
def message_table() -> MessageTable:
    return load_table(asset("safety", "guard_messages.yaml"), MessageTable)


def message(language: str, key: str, **values: str) -> str:
    """The message `key` in `language`, with its {fields} filled."""
    try:
        template = message_table().messages[key].get(language)
    except KeyError:
        raise TableError(f"guard_messages.yaml has no message {key!r}") from None
    return template.format(**values)
