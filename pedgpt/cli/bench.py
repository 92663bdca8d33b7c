"""`pedgpt bench` — decode speed of the engine beside raw llama-cpp-python (same GGUF, threads).

    pedgpt bench                       # the embedded model, 5 alternating reps, 128 tokens
    pedgpt bench --reps 9 --json
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import add_json_flag, emit_json, number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure decode tokens/s: engine vs raw llama-cpp-python")
    p.add_argument("--model", help="a GGUF model (default: PEDGPT_MODEL or the embedded model)")
    p.add_argument("--reps", type=number(int, "--reps"), default=5, help="timed runs per contender")
    p.add_argument("--max-new-tokens", type=number(int, "--max-new-tokens"), default=128)
    p.add_argument("--threads", type=number(int, "--threads"),
                   help="threads for both contenders (default: the cores this process may use)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pedgpt.bench import check_reps, decode_comparison
    from pedgpt.config import Settings
    from pedgpt.engine import GenerationParams

    check_reps(args.reps, args.threads)
    GenerationParams(max_new_tokens=args.max_new_tokens)  # validates the range
    settings = Settings.from_env(model=args.model)
    result = decode_comparison(settings.model, reps=args.reps, max_new_tokens=args.max_new_tokens,
                               threads=args.threads)
    if args.json:
        emit_json(result)
        return 0
    print(f"model: {result['model']}  threads: {result['threads']}  reps: {result['reps']}  "
          f"new tokens: {result['max_new_tokens']}")
    for name in ("engine", "raw_llama_cpp"):
        row = result[name]
        print(f"{name:>14}: {row['decode_tps_median']:7.2f} tok/s decode (median; runs "
              f"{', '.join(f'{r:.1f}' for r in row['decode_tps'])})")
    print(f"{'ratio':>14}: {result['ratio']}  (engine / raw; >= 0.9 expected)")
    return 0
