"""The whole `pedgpt bench` run: every measurement of issue 9 in one process, in order.

    python -m pedgpt bench [--quick] [--json] [--out report.md]   # also writes report.png beside it

Contenders alternate rep by rep and every figure is a median, so a change in machine load
during the run hits all contenders alike; the load average at start and end is recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass

from bench import report

#: Environment variable naming a JSON file rewritten after every section (partial results).
PARTIAL_ENV = "PEDGPT_BENCH_PARTIAL"


@dataclass
class BenchOptions:
    """What one `pedgpt bench` run measures."""

    model: str | None = None
    """A GGUF path (None → PEDGPT_MODEL or the embedded model)."""
    reps: int = 3
    """Timed runs per contender (after one untimed warm-up)."""
    max_new_tokens: int = 64
    """Tokens generated per llama.cpp sample."""
    hf_new_tokens: int = 24
    """Tokens generated per transformers sample (fp32 is ~10x slower; decode rate is per token)."""
    long_tokens: int = 1500
    """Target length of the long consultation prompt."""
    threads: int | None = None
    """Threads for every contender (None → the cores this process may use)."""
    quick: bool = False
    """Skip the training run, the first-ever start and the thread sweep."""

    def __post_init__(self) -> None:
        from pedgpt.errors import InputError

        if not 1 <= self.reps <= 50:
            raise InputError(f"--reps must be between 1 and 50, got {self.reps}")
        if not 2 <= self.max_new_tokens <= 1024:
            raise InputError(f"--max-new-tokens must be between 2 and 1024, got {self.max_new_tokens}")
        if self.threads is not None and not 1 <= self.threads <= 512:
            raise InputError(f"--threads must be between 1 and 512, got {self.threads}")


def machine(load_start: tuple) -> dict:
    """Cores, CPU, memory and the load averages (1-minute) at start and now."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), 0)
    cores = len(os.sched_getaffinity(0))
    end = os.getloadavg()
    return {"cpu": cpu, "cores": cores, "memory_gb": round(mem / 1024 / 1024, 1),
            "load_start": round(load_start[0], 2), "load_end": round(end[0], 2),
            "high_load": max(load_start[0], end[0]) > report.HIGH_LOAD_PER_CORE * cores,
            "python": platform.python_version()}


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def warn_if_busy(where: str) -> None:
    load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    if load > report.HIGH_LOAD_PER_CORE * cores:
        print(f"pedgpt bench: warning: load average {load:.1f} on {cores} cores at {where}; "
              "other processes compete for the CPU", file=sys.stderr, flush=True)


def cli_startup_s(reps: int = 3) -> dict:
    """Wall seconds of `python -m pedgpt --help` (lazy imports keep it short)."""
    runs = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pedgpt", "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return {"pedgpt_help_s": round(sorted(runs)[len(runs) // 2], 3)}


def step(name: str) -> None:
    print(f"pedgpt bench: {name} …", file=sys.stderr, flush=True)


def section(result: dict, key: str, label: str, measure) -> None:
    """result[key] = measure(); a failing section is recorded as {"error": ...} and the run goes
    on (one broken part must not cost the other measurements of a 20-minute run)."""
    step(label)
    started = time.perf_counter()
    try:
        result[key] = measure()
    except Exception as exc:  # report, keep measuring
        result[key] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        print(f"pedgpt bench: {label} failed: {result[key]['error']}", file=sys.stderr, flush=True)
    result.setdefault("section_seconds", {})[key] = round(time.perf_counter() - started, 1)
    if PARTIAL_ENV in os.environ:  # a long run leaves what it has measured so far
        with open(os.environ[PARTIAL_ENV], "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False, indent=1)


def run_bench(options: BenchOptions) -> dict:
    from bench import perf_app, perf_checks, perf_engines, perf_prompts

    load_start = os.getloadavg()
    warn_if_busy("start")
    step("loading contenders (engine, raw llama.cpp, transformers fp32/bf16)")
    bench = perf_engines.EngineBench.open(options.model, options.threads)
    result: dict = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "model": bench.engine.info()["model"], "threads": bench.engine.n_threads,
                    "reps": options.reps, "max_new_tokens": options.max_new_tokens,
                    "hf_new_tokens": options.hf_new_tokens, "hf_threads": bench.hf_threads,
                    "quick": options.quick}
    reps, tokens, hf_tokens = options.reps, options.max_new_tokens, options.hf_new_tokens
    short = perf_prompts.short_messages()
    section(result, "short", "short prompt", lambda: bench.compare(short, reps, tokens, hf_tokens))
    long_turn = perf_prompts.long_turn(bench.engine, options.long_tokens, tokens)
    # Everything is warm after the short prompt; a long-prompt warm-up would cost minutes.
    section(result, "long", "long prompt",
            lambda: bench.compare(long_turn.messages, reps, tokens, hf_tokens, warm_up=False))
    result["ratios"] = report.ratios(result)
    section(result, "prefix_reuse", "follow-up turn (prefix reuse)",
            lambda: perf_engines.prefix_reuse(bench, reps, tokens))
    section(result, "english_lock", "English question: answer lock on / off",
            lambda: perf_engines.english_lock(bench, reps, tokens))
    if not options.quick:
        counts = sorted({1, bench.engine.n_threads})
        section(result, "threads_sweep", "thread counts",
                lambda: perf_engines.thread_sweep(bench, short, counts, min(reps, 2), tokens, 12))
    bench.hf.clear()  # free the transformers models before the app starts
    section(result, "checks", "knowledge and safety checks", lambda: perf_checks.checks_ms(reps))
    section(result, "startup", "CLI start-up", cli_startup_s)
    section(result, "app", "app: cold start, end-to-end, memory",
            lambda: perf_app.app_measurements(bench.engine, reps, tokens, first_ever=not options.quick))
    if not options.quick:
        section(result, "training", "training the tiny recipe", perf_checks.training_throughput)
    warn_if_busy("end")
    result["machine"] = machine(load_start)
    result["targets"] = report.targets(result)
    return result
