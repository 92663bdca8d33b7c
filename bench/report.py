"""Targets with pass/fail, the text table and the PNG chart of a `pedgpt bench` result.

    from bench.report import targets, render_table, write_chart
    result["targets"] = targets(result)
    print(render_table(result)); write_chart(result, "bench.png")
"""

from __future__ import annotations

from pathlib import Path

#: (id, description, path to the measured value, comparison, limit) — the issue's targets.
TARGETS = [
    ("decode_vs_raw", "decode tok/s, engine / raw llama.cpp (long prompt)", ("ratios", "decode_vs_raw"), ">=", 0.95),
    ("decode_vs_fp32", "decode tok/s, engine / transformers fp32 (long prompt)", ("ratios", "decode_vs_fp32"), ">=", 5.0),
    ("decode_vs_base", "decode tok/s, served default (base + adapter) / raw llama.cpp on the base GGUF (long prompt)",
     ("ratios", "decode_vs_raw_base"), ">=", 0.9),
    ("ttft_long_vs_raw", "TTFT long prompt, engine / raw llama.cpp", ("ratios", "ttft_long_vs_raw"), "<=", 1.1),
    ("follow_up", "TTFT follow-up turn / first turn", ("prefix_reuse", "ratio"), "<=", 0.5),
    ("english_lock", "decode tok/s, English answer with the answer-language lock / without",
     ("english_lock", "ratio"), ">=", 0.95),
    ("app_overhead", "app overhead to first token (ms)", ("app", "end_to_end", "overhead_first_token_ms"), "<=", 150.0),
    ("cold_start", "cold start, model assembled (s)", ("app", "cold_start_s"), "<=", 10.0),
    ("peak_rss", "peak RSS of the serving process (MB)", ("app", "peak_rss_mb"), "<=", 1500.0),
]
HIGH_LOAD_PER_CORE = 1.5


def lookup(result: dict, path: tuple):
    value = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def targets(result: dict) -> list[dict]:
    """Each target with its measured value and pass / fail (None when not measured)."""
    rows = []
    for ident, text, path, op, limit in TARGETS:
        value = lookup(result, path)
        ok = None if value is None else (value >= limit if op == ">=" else value <= limit)
        rows.append({"id": ident, "target": f"{text} {op} {limit:g}", "value": value, "pass": ok})
    return rows


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator rounded to 3 places; None when either is missing or zero."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def ratios(result: dict) -> dict:
    """The issue's ratios from the medians of one run."""
    long, short = result.get("long", {}), result.get("short", {})

    def get(block, name, key):
        return (block.get(name) or {}).get(key)

    return {
        "decode_vs_raw": ratio(get(long, "engine", "decode_tps_median"), get(long, "raw_llama_cpp", "decode_tps_median")),
        "decode_vs_raw_short": ratio(get(short, "engine", "decode_tps_median"), get(short, "raw_llama_cpp", "decode_tps_median")),
        "decode_vs_raw_base": ratio(get(long, "engine", "decode_tps_median"), get(long, "raw_llama_cpp_base", "decode_tps_median")),
        "decode_vs_fp32": ratio(get(long, "engine", "decode_tps_median"), get(long, "transformers_fp32", "decode_tps_median")),
        "decode_vs_bf16": ratio(get(long, "engine", "decode_tps_median"), get(long, "transformers_bf16", "decode_tps_median")),
        "ttft_long_vs_raw": ratio(get(long, "engine", "first_token_s_median"), get(long, "raw_llama_cpp", "first_token_s_median")),
        "ttft_short_vs_raw": ratio(get(short, "engine", "first_token_s_median"), get(short, "raw_llama_cpp", "first_token_s_median")),
    }


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def machine_lines(machine: dict) -> list[str]:
    lines = [f"machine: {machine.get('cpu', '?')}, {machine.get('cores')} cores usable, "
             f"{machine.get('memory_gb')} GB RAM; load average at start {machine.get('load_start')}, "
             f"at end {machine.get('load_end')}"]
    if machine.get("high_load"):
        lines.append(f"WARNING: the machine was busy (load > {HIGH_LOAD_PER_CORE} per core): absolute "
                     "figures are pessimistic; ratios (alternating contenders) are the fair part")
    return lines


def contender_table(result: dict) -> list[str]:
    """Markdown rows: contender × prompt → decode tok/s and TTFT medians."""
    lines = ["| contender | short: decode tok/s | short: TTFT s | long: decode tok/s | long: TTFT s |",
             "|---|---:|---:|---:|---:|"]
    names = list((result.get("short") or {}).keys() | (result.get("long") or {}).keys())
    order = ["engine", "raw_llama_cpp", "raw_llama_cpp_base", "transformers_fp32", "transformers_bf16"]
    for name in [n for n in order if n in names]:
        s, l = result.get("short", {}).get(name, {}), result.get("long", {}).get(name, {})
        lines.append(f"| {name} | {_fmt(s.get('decode_tps_median'))} | {_fmt(s.get('first_token_s_median'))} "
                     f"| {_fmt(l.get('decode_tps_median'))} | {_fmt(l.get('first_token_s_median'))} |")
    return lines


def render_table(result: dict) -> str:
    """The whole report as Markdown (machine, contenders, other figures, targets)."""
    lines = [f"PedGPT bench — {result.get('date')} — reps {result.get('reps')}, threads "
             f"{result.get('threads')}, model {result.get('model')}", *machine_lines(result.get("machine", {})), ""]
    lines += [f"prompt tokens: short {lookup(result, ('short', 'prompt_tokens'))}, "
              f"long {lookup(result, ('long', 'prompt_tokens'))}", ""]
    lines += contender_table(result) + [""]
    lines += ["| figure | value |", "|---|---:|"]
    for key, value in other_figures(result):
        lines.append(f"| {key} | {_fmt(value)} |")
    lines += ["", "| target | measured | result |", "|---|---:|---|"]
    for row in result.get("targets", []):
        verdict = {True: "PASS", False: "FAIL", None: "not measured"}[row["pass"]]
        lines.append(f"| {row['target']} | {_fmt(row['value'])} | {verdict} |")
    return "\n".join(lines)


def other_figures(result: dict) -> list[tuple[str, object]]:
    rows = [(f"{key}: FAILED", value["error"]) for key, value in result.items()
            if isinstance(value, dict) and "error" in value]
    rows += [(f"ratio {k}", v) for k, v in (result.get("ratios") or {}).items()]
    pr = result.get("prefix_reuse") or {}
    rows += [(f"prefix reuse: {k}", pr.get(k)) for k in
             ("first_turn_ttft_s", "follow_up_ttft_s", "first_turn_prompt_tokens",
              "follow_up_prompt_tokens", "reused_prefix_tokens")]
    lock = result.get("english_lock") or {}
    rows += [(f"english lock: {k} decode tok/s", (lock.get(k) or {}).get("decode_tps_median"))
             for k in ("locked", "unlocked") if k in lock]
    app = result.get("app") or {}
    rows += [(f"app: {k}", v) for k, v in (app.get("end_to_end") or {}).items() if not k.endswith("runs_first_s")]
    rows += [(f"app: {k}", app.get(k)) for k in ("cold_start_s", "first_ever_start_s", "peak_rss_mb") if k in app]
    rows += [(f"checks: {k}", v) for k, v in (result.get("checks") or {}).items()]
    rows += [(f"cli: {k}", v) for k, v in (result.get("startup") or {}).items()]
    for name, row in (result.get("threads_sweep") or {}).items():
        rows.append((f"threads: {name} decode tok/s", row.get("decode_tps_median")))
    for stage, row in (result.get("training") or {}).items():
        rows.append((f"training {stage}: tokens/s", row.get("tokens_per_s")))
    return rows


def write_chart(result: dict, path: str | Path) -> Path:
    """Two panels: decode tok/s and TTFT per contender (short and long prompts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = [n for n in ("engine", "raw_llama_cpp", "raw_llama_cpp_base", "transformers_fp32", "transformers_bf16")
             if n in (result.get("short") or {}) or n in (result.get("long") or {})]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in ((axes[0], "decode_tps_median", "decode tokens/s (higher is better)"),
                           (axes[1], "first_token_s_median", "time to first token, s (lower is better)")):
        for offset, prompt in ((-0.2, "short"), (0.2, "long")):
            values = [lookup(result, (prompt, n, key)) or 0 for n in order]
            bars = ax.bar([i + offset for i in range(len(order))], values, width=0.4, label=f"{prompt} prompt")
            ax.bar_label(bars, fmt="%.3g", fontsize=7)
        ax.set_xticks(range(len(order)), [n.replace("_", "\n", 1) for n in order], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    machine = result.get("machine", {})
    fig.suptitle(f"PedGPT bench {result.get('date')} — {machine.get('cores')} cores, load "
                 f"{machine.get('load_start')} → {machine.get('load_end')}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
