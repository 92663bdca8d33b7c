"""`pedgpt bench` — the performance report of issue 9, measured side by side in one run.

    pedgpt bench                       # everything (~15–25 min on 2 busy cores), table on stdout
    pedgpt bench --quick               # no training run, first-ever start or thread sweep
    pedgpt bench --decode-only         # engine vs raw llama.cpp decode tok/s only (~1 min)
    pedgpt bench --json --out bench.md # one JSON object; the table in bench.md, chart in bench.png

Run from a source checkout (the measurement code lives in the top-level `bench/` folder).
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import add_json_flag, emit_json, number, stdout_to_stderr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed, start-up and memory against llama.cpp and transformers")
    p.add_argument("--model", help="a llama.cpp model: pedgpt-0.5b (the default), base, or a GGUF "
                                   "(default: PEDGPT_MODEL)")
    p.add_argument("--reps", type=number(int, "--reps"), default=3, help="timed runs per contender")
    p.add_argument("--max-new-tokens", type=number(int, "--max-new-tokens"), default=64)
    p.add_argument("--threads", type=number(int, "--threads"),
                   help="threads for every contender (default: the cores this process may use)")
    p.add_argument("--quick", action="store_true",
                   help="skip the training run, the first-ever start and the thread sweep")
    p.add_argument("--decode-only", action="store_true",
                   help="only decode tok/s of the engine vs raw llama.cpp on the short prompt (~1 min)")
    p.add_argument("--out", help="write the Markdown table here and the PNG chart beside it")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pedgpt.config import Settings
    from pedgpt.errors import InputError

    if args.decode_only:
        return _decode_only(args)
    _checkout_on_path()
    try:
        from bench.perf import BenchOptions, run_bench
        from bench.report import render_table, write_chart
    except ImportError:
        raise InputError("pedgpt bench runs from a source checkout (the bench/ folder is not installed)") from None
    options = BenchOptions(model=Settings.from_env(model=args.model).model, reps=args.reps,
                           max_new_tokens=args.max_new_tokens, threads=args.threads, quick=args.quick)
    if args.json:  # the training section's trainer logs go to stdout otherwise
        with stdout_to_stderr():
            result = run_bench(options)
    else:
        result = run_bench(options)
    # The decode-only fields at top level too (JSON fields are added, never renamed).
    result.update({k: result["short"].get(k) for k in ("engine", "raw_llama_cpp")},
                  ratio=result["ratios"]["decode_vs_raw_short"])
    out = Path(args.out) if args.out else Path("bench-report.md")
    result["chart"] = str(write_chart(result, out.with_suffix(".png")))
    table = render_table(result) + f"\n\n![bench chart]({Path(result['chart']).name})\n"
    if args.out:
        out.write_text(table, encoding="utf-8")
    if args.json:
        emit_json(result)
    else:
        print(table)
    return 0


def _checkout_on_path() -> None:
    """Make the checkout's top-level `bench/` importable when run from another folder."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if (root / "bench" / "perf.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _decode_only(args: argparse.Namespace) -> int:
    from pedgpt.bench import check_reps, decode_comparison
    from pedgpt.config import Settings
    from pedgpt.engine import GenerationParams

    check_reps(args.reps, args.threads)
    GenerationParams(max_new_tokens=args.max_new_tokens)  # validates the range
    result = decode_comparison(Settings.from_env(model=args.model).model, reps=args.reps,
                               max_new_tokens=args.max_new_tokens, threads=args.threads)
    if args.json:
        emit_json(result)
        return 0
    for name in ("engine", "raw_llama_cpp"):
        row = result[name]
        print(f"{name:>14}: {row['decode_tps_median']:7.2f} tok/s decode (median; runs "
              f"{', '.join(f'{r:.1f}' for r in row['decode_tps'])})")
    print(f"{'ratio':>14}: {result['ratio']}  (engine / raw; target >= 0.95)")
    return 0
