"""`pedgpt data build --out DIR [--seed S] [--limit N] [--config FILE.yaml] [--json]`.

Builds the PedCorpus-style training and evaluation data (`train.data.build`) from the knowledge
graph and the safety tables. Flags override values from `--config`.
"""

from __future__ import annotations

import argparse
import json

from pedgpt.cli.common import add_json_flag, emit_json, number


BUILD_HELP = """Build the PedCorpus-style corpus from the CMeKG knowledge index and the safety tables.

Writes into --out: cpt.jsonl, sft.jsonl, dfpo.jsonl, moe.jsonl, eval/{kqa,diag,treat,safety}.jsonl
(held out by disease), stats.json, stats.md, lengths.png and manifest.json. The same seed gives
byte-identical files. Exit code 1 if the leakage check fails."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="build training / evaluation data",
                                   description="PedCorpus-style data for the training recipe.")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    build = sub.add_parser("build", help="build cpt/sft/dfpo/moe JSONL + held-out eval splits",
                           description=BUILD_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--out", help="output folder (or `out_dir` in --config)")
    build.add_argument("--seed", type=number(int, "--seed"), help="random seed (default 0)")
    build.add_argument("--limit", type=number(int, "--limit"),
                       help="at most N records per task and eval file (fast runs)")
    build.add_argument("--cpt-ratio", type=number(float, "--cpt-ratio"),
                       help="instruction tokens per knowledge-passage token in cpt.jsonl (default 1.0)")
    build.add_argument("--config", help="YAML file with DataBuildConfig fields")
    build.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_json_flag(build)
    build.set_defaults(func=run_build)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_build(args: argparse.Namespace) -> int:
    from pedgpt.errors import InputError
    from train.data import DataBuildConfig, build

    overrides = {"out_dir": args.out, "seed": args.seed, "limit": args.limit, "cpt_ratio": args.cpt_ratio,
                 "progress": False if args.no_progress or args.json else None}
    if args.config:
        config = DataBuildConfig.from_yaml(args.config, **overrides)
    elif args.out:
        config = DataBuildConfig(**{k: v for k, v in overrides.items() if v is not None})
    else:
        raise InputError("data build needs --out DIR (or a --config with out_dir)")
    folder = build(config)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = {"out": str(folder), "counts": manifest["counts"], "leakage_ok": manifest["leakage_ok"],
               "data_version": manifest["data_version"], "seed": manifest["seed"]}
    if args.json:
        emit_json(summary)
    else:
        for name, count in manifest["counts"].items():
            print(f"{name:22s} {count:7d}")
        print(f"leakage check: {'pass' if manifest['leakage_ok'] else 'FAIL'}; report: {folder / 'stats.md'}")
    return 0 if manifest["leakage_ok"] else 1
