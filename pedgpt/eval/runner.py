"""`pedgpt eval run`: generate answers for the evaluation tasks, score them, write the report.

    pedgpt eval run --model M --tasks kqa,diag,treat,safety --out runs/base --limit 20

Layout of a run folder:
- `run.json`: model, engine info, data folder and version, generation settings, seed, command;
- `predictions/<task>.jsonl`: one line per answered item, appended and flushed as it is
  generated. Re-running the same command resumes: ids already there are skipped (a line torn
  by an interruption is dropped);
- `scores.json`, `report.md`, `charts/*.png` (see `pedgpt.eval.report`).

Generation settings are fixed per run (greedy by default) and recorded; resuming with other
settings or another model is refused, so one run never mixes two configurations.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from pedgpt.engine.base import Engine, GenerationParams
from pedgpt.engine.script_lock import LOCKED_LANGUAGES
from pedgpt.errors import InputError, PedGPTError
from pedgpt.eval.tasks import TASKS as TASK_ORDER
from pedgpt.eval.tasks import (EvalItem, data_build_info, data_version, load_task_items,
                               parse_tasks)
from pedgpt.eval.textfiles import append_jsonl, read_jsonl, split_lines, write_jsonl

PROMPT_MODES = ("bare", "served")
#: Evaluation task → the app tab (serving task) whose system prompt a served run uses; safety
#: questions go to the consultation tab, where a parent or clinician would first ask them.
SERVED_TASK = {"kqa": "consult", "diag": "diagnose", "treat": "medicate", "safety": "consult"}
#: run.json keys added after the first runs, with the value those runs implicitly had.
LEGACY_RUN_DEFAULTS = {"prompt": "bare", "answer_language_lock": []}
#: Item → (messages to send, answer language to lock the answer to or None).
Prompter = Callable[[EvalItem], tuple[list, str | None]]


@dataclass
class GenerationSettings:
    """Sampling settings used for every answer of a run (recorded in run.json and the report)."""

    max_new_tokens: int = 256
    """Answer length cap, in tokens."""
    temperature: float = 0.0
    """0 = greedy decoding (reproducible); the paper's demo sampled at 0.95."""
    top_p: float = 1.0
    seed: int = 0
    """Sampling seed (unused by greedy decoding, recorded anyway)."""

    def __post_init__(self) -> None:
        GenerationParams(self.max_new_tokens, self.temperature, self.top_p, (), self.seed)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunConfig:
    """One evaluation run."""

    out: Path
    """Run folder; re-running into it resumes."""
    tasks: tuple[str, ...] = ("kqa", "diag", "treat", "safety")
    model: str | None = None
    """Model reference for `load_engine` (None: the default, PedGPT-0.5B)."""
    backend: str = "auto"
    limit: int | None = None
    """At most this many items per task (per category for safety)."""
    safety_categories: tuple[str, ...] | None = None
    """Only these safety categories (None: all four) — e.g. a quick screen of a training
    checkpoint on "contraindicated,benign"."""
    data_dir: Path | None = None
    """Folder written by `pedgpt data build` (None: `$PEDGPT_HOME/data/default`)."""
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    prompt: str = "bare"
    """"bare": each item's conversation as it is (the paper's protocol: no system message, the
    chat template adds its default). "served": through `pedgpt.assistant.Assistant` as the app
    serves it — the task's system prompt with the patient context read from the question, the
    triage instruction, retrieved knowledge facts and the contraindication rules."""
    command: str = ""
    """The command line that reproduces the run."""

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if isinstance(self.tasks, str):
            self.tasks = parse_tasks(self.tasks)
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, got {self.limit}")
        if self.safety_categories is not None:
            self.safety_categories = parse_safety_categories(self.safety_categories)
        if self.prompt not in PROMPT_MODES:
            raise InputError(f"--prompt must be one of {', '.join(PROMPT_MODES)}, got {self.prompt!r}")

    @classmethod
    def from_cli(cls, args, command: str = "") -> "RunConfig":
        generation = GenerationSettings(
            **{k: v for k, v in (("max_new_tokens", args.max_new_tokens), ("seed", args.seed))
               if v is not None})
        return cls(out=Path(args.out), tasks=parse_tasks(args.tasks), model=args.model,
                   backend=args.backend or "auto", limit=args.limit,
                   safety_categories=getattr(args, "safety_categories", None),
                   data_dir=Path(args.data) if args.data else None, generation=generation,
                   prompt=getattr(args, "prompt", None) or "bare", command=command)


def run_evaluation(config: RunConfig, engine: Engine | None = None) -> dict:
    """Generate what is missing, score everything, write the report; returns the summary."""
    items = {task: load_task_items(task, config.data_dir, config.limit, config.safety_categories)
             for task in config.tasks}
    if engine is None:
        from pedgpt.engine import load_engine

        engine = load_engine(config.model, backend=config.backend)
    meta = _start_run(config, engine)
    prompter = served_prompter(engine, config.generation) if config.prompt == "served" else None
    for task, task_items in items.items():
        generate_task(engine, task_items, config.out / "predictions" / f"{task}.jsonl",
                      config.generation, desc=task, prompter=prompter)
    from pedgpt.eval.report import write_report
    from pedgpt.eval.scoring import score_run

    scores = score_run(config.out, items)
    meta["finished_at"] = _now()
    (config.out / "run.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    report = write_report(config.out)
    return {"out": str(config.out), "report": str(report), "scores": scores}


def rescore_run(run_dir: Path | str) -> dict:
    """Score a finished run's answers again with today's scorers (markers, safety layer) and
    rewrite `scores.json` and `report.md`; generates nothing and leaves `run.json` alone.
    Refuses when the held-out files changed since the answers were generated."""
    from pedgpt.eval.report import write_report
    from pedgpt.eval.scoring import score_run

    run_dir = Path(run_dir)
    path = run_dir / "run.json"
    if not path.is_file():
        raise InputError(f"{run_dir} is not an evaluation run (no run.json)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    data_dir = None if meta.get("data_dir") in (None, "default") else Path(meta["data_dir"])
    categories = meta.get("safety_categories")
    categories = None if categories in (None, "all") else tuple(categories)
    items = {}
    for task in meta.get("tasks", []):
        then, now = meta.get("data_versions", {}).get(task), data_version(data_dir, task)
        if then is not None and then != now:
            raise InputError(f"{run_dir}: the {task} items changed since these answers were "
                             f"generated (version {then}, now {now}); run the evaluation again")
        items[task] = load_task_items(task, data_dir, meta.get("limit"), categories)
    scores = score_run(run_dir, items)
    write_report(run_dir)
    return scores


def served_prompter(engine: Engine, settings: GenerationSettings) -> Prompter:
    """Item → the messages the app would send for it (`pedgpt.assistant.Assistant.prepare`,
    clinician mode, patient facts read from the conversation) and the app's answer language."""
    from pedgpt.assistant import Assistant

    assistant = Assistant(engine, mode="clinician")

    def messages(item: EvalItem) -> list[dict]:
        history = [m for m in item.messages[:-1] if m["role"] != "system"]
        turn = assistant.prepare(SERVED_TASK[item.task], history, item.question,
                                 max_new_tokens=settings.max_new_tokens)
        return turn.messages, turn.language

    return messages


def generate_task(engine: Engine, items: Sequence[EvalItem], path: Path,
                  settings: GenerationSettings, desc: str = "",
                  prompter: Prompter | None = None) -> int:
    """Answer the items not yet in `path` (appending each); returns how many were generated.
    `prompter` turns an item into the messages to send (None: the item's own messages)."""
    from tqdm import tqdm

    done = {record.get("id") for record in _load_repaired(path)}
    pending = [item for item in items if item.id not in done]
    for item in tqdm(pending, desc=desc or "generating", unit="answer", disable=None):
        append_jsonl(path, answer_record(engine, item, settings, prompter))
    return len(pending)


def answer_record(engine: Engine, item: EvalItem, settings: GenerationSettings,
                  prompter: Prompter | None = None) -> dict:
    """Generate one answer; a request the engine rejects is recorded with its error."""
    started = time.perf_counter()
    error, messages = None, []
    try:
        messages, language = prompter(item) if prompter else (list(item.messages), None)
        text = "".join(engine.stream(messages, max_new_tokens=settings.max_new_tokens,
                                     temperature=settings.temperature, top_p=settings.top_p,
                                     seed=settings.seed, answer_language=language))
    except PedGPTError as exc:
        text, error = "", str(exc)
    stats = engine.last_stats
    record = {"id": item.id, "task": item.task, "language": item.language,
              "question": item.question, "prediction": text.strip(), "reference": item.reference,
              "seconds": round(time.perf_counter() - started, 3),
              "completion_tokens": stats.completion_tokens, "finish_reason": stats.finish_reason}
    if len(item.messages) > 1:  # multi-turn: keep the context (the judge shows it)
        record["messages"] = list(item.messages)
    if prompter and messages and messages[0]["role"] == "system":
        record["system"] = messages[0]["content"]  # what the served prompt told the model
    if item.extra:
        record.update(item.extra)
    if error:
        record["error"] = error
    return record


def _load_repaired(path: Path) -> list[dict]:
    """Records of a predictions file; rewrites it without a torn last line if there is one."""
    records = read_jsonl(path, tolerate_torn_tail=True)
    if path.is_file():
        lines = [line for line in split_lines(path.read_text(encoding="utf-8")) if line.strip()]
        if len(lines) != len(records):
            write_jsonl(path, records)
    return records


def parse_safety_categories(chosen: str | Sequence[str]) -> tuple[str, ...] | None:
    """"contraindicated,benign" (or a sequence of names) → a validated tuple in the safety set's
    order (empty: None)."""
    from pedgpt.eval.safety_eval import CATEGORIES

    parts = chosen.split(",") if isinstance(chosen, str) else chosen
    names = [name.strip() for name in parts if name.strip()]
    unknown = [name for name in names if name not in CATEGORIES]
    if unknown:
        raise InputError(f"unknown safety categor{'y' if len(unknown) == 1 else 'ies'} "
                         f"{', '.join(map(repr, unknown))}; choose from {', '.join(CATEGORIES)}")
    return tuple(c for c in CATEGORIES if c in names) or None


def _start_run(config: RunConfig, engine: Engine) -> dict:
    """Write run.json, or check that an existing run was made with the same settings."""
    meta = {
        "model": config.model or "default", "backend": config.backend,
        "engine": _safe_info(engine), "data_dir": str(config.data_dir or "default"),
        "data_versions": {task: data_version(config.data_dir, task) for task in config.tasks},
        "data_build": data_build_info(config.data_dir),
        "tasks": list(config.tasks), "limit": config.limit,
        "safety_categories": list(config.safety_categories) if config.safety_categories else "all",
        "generation": config.generation.to_dict(), "seed": config.generation.seed,
        "prompt": config.prompt,
        # Served runs answer as the app does: English questions get no Chinese characters.
        "answer_language_lock": list(LOCKED_LANGUAGES) if config.prompt == "served" else [],
        "command": config.command, "started_at": _now(), "pedgpt_version": _version(),
        "git_commit": _git_commit(),
    }
    path = config.out / "run.json"
    if path.is_file():
        _check_resumable(json.loads(path.read_text(encoding="utf-8")), meta, config.out)
    config.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return meta


def _check_resumable(old: dict, meta: dict, out: Path) -> None:
    """Refuse to mix configurations in one folder; merge the task lists of compatible runs."""
    for key in ("model", "backend", "generation", "prompt", "answer_language_lock"):
        if old.get(key, LEGACY_RUN_DEFAULTS.get(key, meta[key])) != meta[key]:
            raise InputError(f"{out} holds a run with another {key} ({old[key]!r}); "
                             "use a new --out folder")
    versions = old.get("data_versions", {})
    for task, version in meta["data_versions"].items():
        if versions.get(task, version) != version:
            raise InputError(f"{out} holds {task} answers for other data (version "
                             f"{versions[task]}); use a new --out folder")
    meta["data_versions"] = {**versions, **meta["data_versions"]}
    meta["tasks"] = [t for t in TASK_ORDER if t in set(old.get("tasks", [])) | set(meta["tasks"])]
    meta["started_at"] = old.get("started_at", meta["started_at"])


def _safe_info(engine: Engine) -> dict:
    try:
        return json.loads(json.dumps(engine.info(), default=str))
    except Exception as exc:  # info() is descriptive only; never fail a run on it
        return {"error": str(exc)}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pedgpt")
    except Exception:
        return "unknown"


def _git_commit() -> str:
    import subprocess

    from pedgpt.paths import ASSETS_DIR

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ASSETS_DIR.parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""
