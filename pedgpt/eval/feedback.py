"""`pedgpt eval feedback`: clinician feedback from the app's database as an evaluation source.

Summarises thumbs up/down and the reasons given, per model, and exports every answer a
clinician corrected as a DFPO preference pair (chosen = the clinician's corrected answer,
rejected = the model's answer) in the data builder's `dfpo.jsonl` format:
`{"prompt": [messages up to the question], "chosen": [{"role": "assistant", ...}],
"rejected": [{"role": "assistant", ...}], "task", "rejection_kind"}`.

    pedgpt eval feedback --out feedback/          # → feedback/dfpo_pairs.jsonl, feedback/feedback.md
    pedgpt eval feedback --db postgresql+psycopg2://… --json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from pedgpt.errors import InputError
from pedgpt.eval.textfiles import write_jsonl

#: App task (storage) → training task of the data builder.
TASK_MAP = {"consult": "kqa", "diagnose": "diag", "medicate": "treat"}
REJECTION_KIND = "clinician_correction"


def summarise_feedback(records: Iterable[dict]) -> dict:
    """Counts per model: {"total", "models": {model: {"up", "down", "total", "up_rate", "reasons"}}}."""
    models: dict[str, dict] = {}
    total = 0
    for record in records:
        total += 1
        row = models.setdefault(record.get("model") or "unknown",
                                {"up": 0, "down": 0, "total": 0, "reasons": {}, "corrected": 0})
        row[record["rating"]] = row.get(record["rating"], 0) + 1
        row["total"] += 1
        row["corrected"] += bool((record.get("corrected_answer") or "").strip())
        if record.get("reason"):
            row["reasons"][record["reason"]] = row["reasons"].get(record["reason"], 0) + 1
    for row in models.values():
        row["up_rate"] = round(100 * row["up"] / row["total"], 2) if row["total"] else 0.0
    return {"total": total, "models": models}


def preference_pairs(records: Iterable[dict]) -> list[dict]:
    """DFPO pairs from corrected answers (skips those without a question before them)."""
    pairs = []
    for record in records:
        corrected = (record.get("corrected_answer") or "").strip()
        answer = (record.get("answer") or "").strip()
        context = [{"role": m["role"], "content": m["content"]} for m in record.get("context", [])]
        if not corrected or not answer or corrected == answer:
            continue
        if not context or context[-1]["role"] != "user":
            continue
        pairs.append({"prompt": context,
                      "chosen": [{"role": "assistant", "content": corrected}],
                      "rejected": [{"role": "assistant", "content": answer}],
                      "task": TASK_MAP.get(record.get("task"), "kqa"),
                      "rejection_kind": REJECTION_KIND})
    return pairs


def load_feedback_records(db_url: str | None = None) -> list[dict]:
    """All rated answers from the app database (read-only; never migrates or purges)."""
    from pedgpt.storage import ConsultationStore, Database

    db = Database(db_url)
    try:
        if "feedback" not in db.table_names():
            raise InputError(f"no PedGPT app database at {db.url} (no feedback table); "
                             "start the app once with `pedgpt serve` or pass --db URL")
        return list(ConsultationStore(db).feedback_records())
    finally:
        db.dispose()


def feedback_command(db_url: str | None = None, out: str | Path | None = None) -> dict:
    """Summary (and, with `out`, the DFPO pairs file and a Markdown summary)."""
    records = load_feedback_records(db_url)
    summary = summarise_feedback(records)
    pairs = preference_pairs(records)
    summary["pairs"] = len(pairs)
    if out is not None:
        out = Path(out)
        write_jsonl(out / "dfpo_pairs.jsonl", pairs)
        summary["pairs_path"] = str(out / "dfpo_pairs.jsonl")
        (out / "feedback.md").write_text(format_summary(summary, markdown=True) + "\n",
                                         encoding="utf-8")
        (out / "feedback.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                           encoding="utf-8")
    return summary


def format_summary(summary: dict, markdown: bool = False) -> str:
    """Human-readable table of thumbs and reasons per model."""
    lines = ["# Clinician feedback", ""] if markdown else []
    lines += ["| model | rated | 👍 | 👎 | 👍 rate (%) | corrected | reasons |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for model, row in sorted(summary["models"].items()):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(row["reasons"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {model} | {row['total']} | {row['up']} | {row['down']} | "
                     f"{row['up_rate']:.1f} | {row['corrected']} | {reasons or '—'} |")
    lines += ["", f"{summary['total']} rated answers; {summary['pairs']} DFPO preference pairs"
              + (f" written to {summary['pairs_path']}" if summary.get("pairs_path") else "")]
    return "\n".join(lines)
