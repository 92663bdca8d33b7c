"""The in-memory record (`Example`), the output schemas, de-duplication and JSONL writing.

Output shapes (what TRL / transformers read):
- sft.jsonl, moe.jsonl: {"messages": [...], "task", "source"}
- dfpo.jsonl: {"prompt": [...messages without the answer], "chosen": [{"role": "assistant", ...}],
  "rejected": [{"role": "assistant", ...}], "task", "rejection_kind"} (TRL conversational
  preference format)
- cpt.jsonl: {"text"}
- eval/{kqa,diag,treat,safety}.jsonl: {"id", "task", "messages" (ending with the user turn),
  "reference", "disease"}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pedgpt.chat_template import validate_messages
from pedgpt.errors import InputError

TASKS = ("kqa", "diag", "treat", "safety", "self_cognition", "general")
EVAL_TASKS = ("kqa", "diag", "treat", "safety")


@dataclass
class Example:
    """One generated conversation plus what it was made from (provenance stays in memory)."""

    task: str
    source: str
    messages: list[dict]
    language: str = "zh"
    style: str = "parent_zh"
    subject: str = ""
    fact_ids: tuple[str, ...] = ()
    rejections: list[tuple[str, str]] = field(default_factory=list)
    """(rejection_kind, weaker final answer) candidates for DFPO."""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        return self.messages[-1]["content"]

    def sft_record(self) -> dict[str, Any]:
        return {"messages": self.messages, "task": self.task, "source": self.source}

    def key(self) -> str:
        return fingerprint(self.messages)


def fingerprint(obj: Any) -> str:
    """Content hash used for de-duplication."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def dedupe(items: Iterable[Any], key=fingerprint) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _check(condition: bool, kind: str, message: str) -> None:
    if not condition:
        raise InputError(f"data build produced an invalid {kind} record: {message}")


def _check_conversation(messages: Any, kind: str, last_role: str) -> None:
    _check(isinstance(messages, list) and messages, kind, "messages must be a non-empty list")
    validate_messages(messages)
    roles = [m["role"] for m in messages if m["role"] != "system"]
    _check(roles and roles[-1] == last_role, kind, f"the last turn must be {last_role}")
    _check(all(m["content"].strip() for m in messages), kind, "empty message content")
    expected = ["user", "assistant"] * len(roles)
    _check(roles == expected[: len(roles)], kind, "turns must alternate user/assistant")


def validate(kind: str, record: dict[str, Any]) -> None:
    """Raise InputError unless `record` has the exact shape of output file `kind`."""
    if kind in ("sft", "moe"):
        _check(set(record) == {"messages", "task", "source"}, kind, f"keys {sorted(record)}")
        _check(record["task"] in TASKS, kind, f"unknown task {record['task']!r}")
        _check_conversation(record["messages"], kind, "assistant")
    elif kind == "dfpo":
        keys = {"prompt", "chosen", "rejected", "task", "rejection_kind"}
        _check(set(record) == keys, kind, f"keys {sorted(record)}")
        _check_conversation(record["prompt"], kind, "user")
        for side in ("chosen", "rejected"):
            turn = record[side]
            _check(isinstance(turn, list) and len(turn) == 1 and turn[0].get("role") == "assistant"
                   and isinstance(turn[0].get("content"), str) and turn[0]["content"].strip(),
                   kind, f"{side} must be one assistant message")
        _check(record["chosen"][0]["content"] != record["rejected"][0]["content"], kind,
               "chosen equals rejected")
    elif kind == "cpt":
        _check(set(record) == {"text"} and isinstance(record["text"], str) and record["text"].strip(),
               kind, "needs one non-empty 'text'")
    elif kind == "eval":
        _check(set(record) == {"id", "task", "messages", "reference", "disease"}, kind,
               f"keys {sorted(record)}")
        _check(record["task"] in EVAL_TASKS, kind, f"unknown task {record['task']!r}")
        _check_conversation(record["messages"], kind, "user")
        _check(isinstance(record["reference"], str) and record["reference"].strip(), kind,
               "empty reference")
    else:
        raise InputError(f"unknown record kind {kind!r}")


def write_jsonl(path: Path, kind: str, records: list[dict[str, Any]]) -> int:
    """Validate and write records, one compact JSON object per line (UTF-8, LF)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            validate(kind, record)
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return len(records)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
