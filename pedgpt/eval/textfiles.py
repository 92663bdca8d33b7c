"""Reading answer files and JSONL records for evaluation.

An answer file is either JSONL (every non-blank line a JSON object carrying the answer under
`text`, or under one of the role-specific fallback keys such as `prediction` / `reference`) or
plain text with one answer per line (a blank line is an empty answer).

    from pedgpt.eval.textfiles import read_answers
    read_answers("pred.jsonl", role="prediction")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from pedgpt.errors import InputError

#: Keys tried in order when a JSONL record has no `text` field.
FALLBACK_KEYS = {
    "prediction": ("prediction", "answer", "output", "response"),
    "reference": ("reference", "answer", "output", "response"),
}


def read_answers(path: str | Path, role: str = "prediction") -> list[str]:
    """Answers in file order, from JSONL (`text` or fallback keys) or plain lines."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    lines = split_lines(content)
    if _looks_like_jsonl(path, lines):
        return [_answer_of(record, path, number, role)
                for number, record in _records(lines, path)]
    return lines


def split_lines(content: str) -> list[str]:
    """Lines split at "\n" only (str.splitlines would also split inside an answer at U+2028,
    form feeds, etc.), without a trailing "\r"; a final newline ends the last line."""
    if not content:
        return []
    lines = content.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _looks_like_jsonl(path: Path, lines: list[str]) -> bool:
    if path.suffix.lower() == ".jsonl":
        return True
    filled = [line for line in lines if line.strip()]
    if not filled:
        return False
    for line in filled:
        try:
            if not isinstance(json.loads(line), dict):
                return False
        except ValueError:
            return False
    return True


def _records(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise InputError(f"{path}:{number}: not a JSON object") from None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: not a JSON object")
        yield number, record


def _answer_of(record: dict, path: Path, number: int, role: str) -> str:
    for key in ("text",) + FALLBACK_KEYS.get(role, ()):
        if key in record:
            value = record[key]
            if value is None:
                return ""
            if not isinstance(value, str):
                raise InputError(f"{path}:{number}: {key!r} must be text")
            return value
    raise InputError(f"{path}:{number}: no 'text' field")


def read_jsonl(path: str | Path, tolerate_torn_tail: bool = False) -> list[dict]:
    """All JSON objects of a JSONL file; with `tolerate_torn_tail`, a last line cut off by an
    interrupted writer is dropped instead of failing."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = split_lines(path.read_text(encoding="utf-8"))
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if tolerate_torn_tail and number == len(lines):
                break
            raise InputError(f"{path}:{number}: not a JSON object") from None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: not a JSON object")
        records.append(record)
    return records


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    """Write records as JSONL (UTF-8, Chinese kept readable), replacing the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def append_jsonl(path: str | Path, record: dict) -> None:
    """Append one record and flush it to disk (so an interrupted run keeps what it finished)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
