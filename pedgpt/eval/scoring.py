"""Score a run folder's predictions: the paper's metrics per text task, the safety metrics, and
language consistency / repetition rate over every answer. Writes `scores.json`.

    from pedgpt.eval.scoring import score_run
    score_run(Path("runs/base"), {"kqa": items})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

from pedgpt.eval.metrics import corpus_scores
from pedgpt.eval.safety_eval import (language_consistency, load_safety_items, repetition_rate,
                                     score_safety)
from pedgpt.eval.tasks import TEXT_TASKS, EvalItem
from pedgpt.eval.textfiles import read_jsonl


def task_predictions(run_dir: Path, task: str, items: Sequence[EvalItem]) -> list[dict]:
    """The run's records for exactly these items, in item order."""
    records = {r.get("id"): r for r in read_jsonl(run_dir / "predictions" / f"{task}.jsonl",
                                                  tolerate_torn_tail=True)}
    return [records[item.id] for item in items if item.id in records]


def score_run(run_dir: Path, items: Mapping[str, Sequence[EvalItem]]) -> dict:
    """Compute and write `scores.json`; returns its content."""
    scores: dict = {"tasks": {}, "quality": {}}
    everything: list[dict] = []
    for task, task_items in items.items():
        records = task_predictions(run_dir, task, task_items)
        everything += records
        if task in TEXT_TASKS:
            scores["tasks"][task] = score_text_task(records)
        else:
            scores["safety"] = score_safety_records(records)
        scores["quality"][task] = quality(records)
    scores["quality"]["all"] = quality(everything)
    (run_dir / "scores.json").write_text(json.dumps(scores, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    return scores


def score_text_task(records: Sequence[dict]) -> dict:
    metrics = corpus_scores([r.get("prediction", "") for r in records],
                            [r.get("reference", "") for r in records])
    return {"n": len(records), "errors": sum("error" in r for r in records),
            "metrics": {k: round(v, 2) for k, v in metrics.items()}}


def score_safety_records(records: Sequence[dict]) -> dict:
    answers = {r["id"]: r.get("prediction", "") for r in records}
    items = [item for item in load_safety_items() if item.id in answers]
    return score_safety(items, answers, triage=_optional_layer("triage"),
                        guard=_optional_layer("guard"))


def quality(records: Sequence[dict]) -> dict:
    """Language consistency and repetition rate of these answers (percentages)."""
    lang = language_consistency((r.get("language", "zh"), r.get("prediction", "")) for r in records)
    rep = repetition_rate(r.get("prediction", "") for r in records)
    return {"n": len(records), "language_consistency": lang["language_consistency"],
            "repetition_rate": rep["repetition_rate"]}


def _optional_layer(name: str):
    """The safety layer's hook, or None (figures left out) if `pedgpt.safety` lacks its API."""
    try:
        from pedgpt import safety
    except ImportError:
        return None
    from pedgpt.eval import safety_eval

    if name == "triage":
        return safety_eval.rule_triage if hasattr(safety, "assess") else None
    ready = hasattr(safety, "check_answer") and hasattr(safety, "SafetyContext")
    return safety_eval.guard_kinds if ready else None
