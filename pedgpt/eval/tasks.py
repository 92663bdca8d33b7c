"""The evaluation tasks and their items: the three held-out pediatric tasks from the data builder
(MedKQ&A `kqa`, EviDiag `diag` — often multi-turn, TreRecom `treat`) plus the safety sets.

Split contract (written by `pedgpt data build --out DIR`): `DIR/eval/{kqa,diag,treat}.jsonl`, one
object per line `{"id", "task", "messages": [{"role", "content"}, ...] (ending with the user turn
to answer), "reference", "disease"}`. Default DIR: `$PEDGPT_HOME/data/default`.

    from pedgpt.eval.tasks import load_task_items, parse_tasks
    items = load_task_items("kqa", data_dir=None, limit=20)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pedgpt.errors import InputError
from pedgpt.language import detect_language
from pedgpt.eval.textfiles import split_lines
from pedgpt.paths import cache_dir

TEXT_TASKS = ("kqa", "diag", "treat")
TASKS = TEXT_TASKS + ("safety",)
#: Names the paper uses for the tasks (report headings).
TASK_TITLES = {"kqa": "MedKQ&A", "diag": "EviDiag", "treat": "TreRecom", "safety": "Safety"}


@dataclass(frozen=True)
class EvalItem:
    """One question to answer: the conversation so far and, for text tasks, the reference."""

    id: str
    task: str
    messages: tuple
    """Conversation ending with the user turn to answer ({"role", "content"} dicts)."""
    reference: str = ""
    disease: str = ""
    language: str = "zh"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.messages or self.messages[-1].get("role") != "user":
            raise InputError(f"item {self.id}: messages must end with the user turn to answer")
        if self.task not in TASKS:
            raise InputError(f"item {self.id}: unknown task {self.task!r}")

    @property
    def question(self) -> str:
        return self.messages[-1]["content"]


def parse_tasks(text: str) -> tuple[str, ...]:
    """"kqa,diag,treat,safety" → validated tuple in canonical order."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TASKS]
    if unknown or not names:
        raise InputError(f"unknown task(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(TASKS)}")
    return tuple(task for task in TASKS if task in names)


def default_data_dir() -> Path:
    return cache_dir("data") / "default"


def split_path(data_dir: str | Path | None, task: str) -> Path:
    return Path(data_dir or default_data_dir()) / "eval" / f"{task}.jsonl"


def load_task_items(task: str, data_dir: str | Path | None = None, limit: int | None = None,
                    safety_categories: tuple[str, ...] | None = None) -> list[EvalItem]:
    """Items of one task (at most `limit`, in file order); for "safety", only
    `safety_categories` when given (all four otherwise)."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, got {limit}")
    if task == "safety":
        from pedgpt.eval.safety_eval import CATEGORIES, load_safety_items

        return [EvalItem(id=s.id, task="safety", messages=tuple(s.messages()),
                         language=s.language, extra={"category": s.category})
                for s in load_safety_items(categories=safety_categories or CATEGORIES,
                                           limit=limit)]
    path = split_path(data_dir, task)
    if not path.is_file():
        raise InputError(f"no held-out split {path}; build the data first with "
                         f"`pedgpt data build --out {path.parent.parent}` (or pass --data DIR)")
    items = [_item_from_row(row, task, path, n) for n, row in _rows(path)]
    if not items:
        raise InputError(f"{path} holds no items")
    return items[:limit] if limit else items


def _rows(path: Path):
    for number, line in enumerate(split_lines(path.read_text(encoding="utf-8")), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError:
                raise InputError(f"{path}:{number}: not a JSON object") from None


def _item_from_row(row: dict, task: str, path: Path, number: int) -> EvalItem:
    try:
        messages = tuple({"role": m["role"], "content": m["content"]} for m in row["messages"])
        item_id, reference = str(row["id"]), row["reference"]
    except (KeyError, TypeError):
        raise InputError(f"{path}:{number}: needs id, messages[{{role, content}}] and reference") \
            from None
    if not isinstance(reference, str):
        raise InputError(f"{path}:{number}: reference must be text")
    question = messages[-1]["content"] if messages else ""
    return EvalItem(id=item_id, task=task, messages=messages, reference=reference,
                    disease=str(row.get("disease", "")), language=detect_language(question))


def data_version(data_dir: str | Path | None, task: str) -> str:
    """Short content hash of the files a task reads (its split, or the safety sets)."""
    from pedgpt.paths import asset

    paths = (sorted(asset("eval", "safety").glob("*.jsonl")) if task == "safety"
             else [split_path(data_dir, task)])
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def data_build_info(data_dir: str | Path | None) -> dict:
    """`data_version` and `seed` from the data builder's manifest.json, when there is one."""
    path = Path(data_dir or default_data_dir()) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: manifest[key] for key in ("data_version", "seed") if key in manifest}
