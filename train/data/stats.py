"""The build report: counts per task and split, answer length distribution, the DFPO rejection
mix, the CPT mix and the leakage check — as `stats.json`, `stats.md` and `lengths.png`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from statistics import mean
from typing import Any

from train.data.text import approx_tokens

PERCENTILES = (10, 50, 90, 99)


def distribution(values: list[int]) -> dict[str, float]:
    """min / percentiles / max / mean of a list of lengths (nearest-rank percentiles)."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    out: dict[str, float] = {"n": len(ordered), "min": ordered[0]}
    for p in PERCENTILES:
        out[f"p{p}"] = ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]
    out["max"] = ordered[-1]
    out["mean"] = round(mean(ordered), 1)
    return out


def answer_lengths(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Per task: estimated tokens of the final answer of each conversation record."""
    lengths: dict[str, list[int]] = {}
    for record in records:
        last = record["messages"][-1]
        answer = last["content"] if last["role"] == "assistant" else record.get("reference", "")
        lengths.setdefault(record["task"], []).append(approx_tokens(answer))
    return lengths


def build_stats(files: dict[str, list[dict[str, Any]]], extra: dict[str, Any]) -> dict[str, Any]:
    """Counts per file and task, languages, length distributions, plus `extra` sections."""
    counts = {name: dict(sorted(Counter(r.get("task", "text") for r in records).items()))
              for name, records in files.items()}
    sft_lengths = answer_lengths(files.get("sft.jsonl", []))
    eval_lengths: dict[str, list[int]] = {}
    for name, records in files.items():
        if name.startswith("eval/"):
            for task, values in answer_lengths(records).items():
                eval_lengths.setdefault(task, []).extend(values)
    cpt_lengths = [approx_tokens(r["text"]) for r in files.get("cpt.jsonl", [])]
    return {
        "records": {name: len(records) for name, records in files.items()},
        "tasks": counts,
        "turns": _turns(files.get("sft.jsonl", [])),
        "answer_tokens": {
            "sft": {task: distribution(v) for task, v in sorted(sft_lengths.items())},
            "eval": {task: distribution(v) for task, v in sorted(eval_lengths.items())},
            "cpt_text": distribution(cpt_lengths),
        },
        **extra,
    }


def _turns(records: list[dict[str, Any]]) -> dict[str, int]:
    turns = Counter(sum(1 for m in r["messages"] if m["role"] == "user") for r in records)
    return {f"{k}_user_turns": v for k, v in sorted(turns.items())}


def write_stats(out_dir: Path, stats: dict[str, Any], sft_lengths: dict[str, list[int]]) -> None:
    (out_dir / "stats.json").write_text(
        json.dumps(stats, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / "stats.md").write_text(markdown(stats), encoding="utf-8")
    plot_lengths(out_dir / "lengths.png", sft_lengths)


def markdown(stats: dict[str, Any]) -> str:
    lines = ["# PedCorpus build report", "", "## Records", "", "| file | records | by task |", "|---|---|---|"]
    for name, count in stats["records"].items():
        tasks = ", ".join(f"{t}: {n}" for t, n in stats["tasks"][name].items())
        lines.append(f"| `{name}` | {count} | {tasks} |")
    lines += ["", "## Answer length (estimated tokens)", "",
              "| split | task | n | min | p10 | p50 | p90 | p99 | max | mean |", "|---|---|---|---|---|---|---|---|---|---|"]
    for split in ("sft", "eval"):
        for task, d in stats["answer_tokens"][split].items():
            lines.append(f"| {split} | {task} | " + " | ".join(
                str(d.get(k, "")) for k in ("n", "min", "p10", "p50", "p90", "p99", "max", "mean")) + " |")
    leak = stats.get("leakage", {})
    lines += ["", "## Leakage check (held-out diseases vs. every training file)", "",
              f"- result: **{'PASS' if leak.get('ok') else 'FAIL'}**",
              f"- held-out diseases: {leak.get('held_out_diseases')} of {leak.get('eligible_diseases')} eligible",
              f"- training examples about a held-out disease: {leak.get('training_examples_about_held_out')}",
              f"- held-out fact ids used in training: {leak.get('held_out_fact_ids_in_training')}",
              f"- held-out names found in training text: {leak.get('held_out_names_in_training_text') or 'none'}"]
    for section in ("dfpo_rejection_kinds", "cpt_mix", "languages", "styles", "deduplicated"):
        if section in stats:
            lines += ["", f"## {section.replace('_', ' ').capitalize()}", ""]
            lines += [f"- {k}: {v}" for k, v in stats[section].items()]
    lines += ["", "Length histogram: `lengths.png`.", ""]
    return "\n".join(lines)


def plot_lengths(path: Path, lengths: dict[str, list[int]]) -> None:
    """Histogram of SFT answer lengths per task (PNG, no timestamps so rebuilds are identical)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for task, values in sorted(lengths.items()):
        if values:
            ax.hist(values, bins=40, alpha=0.5, label=f"{task} (n={len(values)})")
    ax.set_xlabel("answer length (estimated tokens)")
    ax.set_ylabel("SFT records")
    ax.set_title("PedCorpus SFT answer lengths")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
