"""`pedgpt eval compare RUN_DIR... --out DIR`: several finished runs side by side (e.g. the base
model, then after each training stage), in the report's tables plus grouped-bar charts.

    from pedgpt.eval.compare import compare_runs
    compare_runs(["runs/base", "runs/sft"], "runs/compare")   # → runs/compare/compare.md
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from pedgpt.errors import InputError
from pedgpt.eval.report import (RunResult, charts_section, headline_table, load_run,
                                quality_table, safety_table, task_table)
from pedgpt.eval.tasks import TASK_TITLES, TEXT_TASKS


def compare_runs(run_dirs: Sequence[str | Path], out: str | Path) -> dict:
    """Write `OUT/compare.md`, `OUT/compare.json` and charts; returns the summary."""
    if not run_dirs:
        raise InputError("give at least one run folder")
    runs = _named_runs(run_dirs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Evaluation runs compared", "",
             "| Run | folder | model | data versions | generation |", "| --- | --- | --- | --- | --- |"]
    for run in runs:
        gen = run.meta.get("generation", {})
        versions = ", ".join(f"{t} {v}" for t, v in run.meta.get("data_versions", {}).items())
        lines.append(f"| {run.name} | `{run.path}` | `{run.meta.get('model')}` | {versions} | "
                     f"T={gen.get('temperature')}, max {gen.get('max_new_tokens')} tokens |")
    lines += ["", "## Results in the paper's layout", "", *headline_table(runs), ""]
    for task in TEXT_TASKS:
        if any(task in run.scores.get("tasks", {}) for run in runs):
            lines += [f"### {TASK_TITLES[task]}", "", *task_table(task, runs), ""]
    if any(run.scores.get("safety") for run in runs):
        lines += ["## Safety", "", *safety_table(runs), ""]
    lines += ["## Answer quality", "", *quality_table(runs), "",
              "## Charts", "", *charts_section(runs, out / "charts", out), ""]
    report = out / "compare.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    summary = {"runs": [{"name": r.name, "path": str(r.path), "scores": r.scores} for r in runs],
               "report": str(report)}
    (out / "compare.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                      encoding="utf-8")
    return summary


def _named_runs(run_dirs: Sequence[str | Path]) -> list[RunResult]:
    """Load runs; name them by folder when their model names collide."""
    runs = [load_run(d) for d in run_dirs]
    if len({r.name for r in runs}) != len(runs):
        runs = [load_run(d, name=Path(d).name) for d in run_dirs]
    seen: dict[str, int] = {}
    for run in runs:  # still equal (a/run, b/run): number them
        seen[run.name] = seen.get(run.name, 0) + 1
        if seen[run.name] > 1:
            run.name = f"{run.name} ({seen[run.name]})"
    return runs
