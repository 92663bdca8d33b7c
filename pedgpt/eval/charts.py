"""PNG charts for evaluation reports (matplotlib, headless Agg backend).

    from pedgpt.eval.charts import grouped_bars
    grouped_bars("kqa.png", "MedKQ&A", ["ROUGE-L", "BLEU-4"], {"base": [10.0, 5.0]})
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


def grouped_bars(path: Path | str, title: str, labels: Sequence[str],
                 series: Mapping[str, Sequence[float | None]], ylabel: str = "score (0–100)",
                 ymax: float | None = 100.0) -> Path:
    """One group of bars per label, one bar per series (None values are left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = max(len(series), 1)
    width = 0.8 / count
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) * max(1, count / 2)), 3.6))
    for index, (name, values) in enumerate(series.items()):
        xs = [i + (index - (count - 1) / 2) * width for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        bars = ax.bar(xs, ys, width=width * 0.95, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ymax is not None:
        ax.set_ylim(0, ymax * 1.08)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def labelled_scatter(path: Path | str, title: str, points: Mapping[str, tuple[float, float]],
                     xlabel: str, ylabel: str, reference: str | None = None,
                     limit: float = 100.0) -> Path:
    """One labelled point per name; with `reference`, the region no worse than that point on both
    axes (lower is better on both) is shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if reference in points:
        x0, y0 = points[reference]
        ax.axvspan(-limit * 0.03, x0, ymax=(y0 + limit * 0.03) / (limit * 1.06), alpha=0.12,
                   color="tab:green", label=f"no worse than {reference}")
    names_at: dict[tuple[float, float], list[str]] = {}
    for name, point in points.items():  # runs on the same spot share one point and one label
        names_at.setdefault(point, []).append(name)
    for (x, y), names in names_at.items():
        ax.scatter([x], [y], s=36, zorder=3)
        ax.annotate(", ".join(names), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xlim(-limit * 0.03, limit * 1.03)
    ax.set_ylim(-limit * 0.03, limit * 1.03)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if reference in points:
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
