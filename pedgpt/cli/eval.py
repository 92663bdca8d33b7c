"""`pedgpt eval …`: the paper's metrics, task runs, pairwise judging, reports, clinician feedback.

    pedgpt eval score --pred pred.jsonl --ref ref.jsonl [--json]
    pedgpt eval run --model M --tasks kqa,diag,treat,safety --out runs/base [--limit 20]
    pedgpt eval judge --a runs/base --b runs/sft --judge-model M --out runs/base-vs-sft
    pedgpt eval compare runs/base runs/sft --out runs/compare
    pedgpt eval criteria --base runs/base --candidate runs/dfpo [--bench bench.json] [--json]
    pedgpt eval feedback --out feedback/ [--db URL] [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pedgpt.cli.common import add_json_flag, emit_json, number


def register(subparsers) -> None:
    parser = subparsers.add_parser("eval", help="evaluate models: metrics, tasks, judge, reports")
    sub = parser.add_subparsers(dest="eval_command", metavar="ACTION",
                                parser_class=type(parser))
    _register_score(sub)
    _register_run(sub)
    _register_rescore(sub)
    _register_judge(sub)
    _register_compare(sub)
    _register_criteria(sub)
    _register_feedback(sub)
    parser.set_defaults(func=lambda args: _missing_action(parser))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ---- score --------------------------------------------------------------------------------
def _register_score(sub) -> None:
    p = sub.add_parser("score", help="the paper's ROUGE/BLEU/GLEU/Distinct on two answer files")
    p.add_argument("--pred", required=True, help="predictions: JSONL with `text`, or one per line")
    p.add_argument("--ref", required=True, help="references, same format and count as --pred")
    add_json_flag(p)
    p.set_defaults(func=_score)


def _score(args) -> int:
    from pedgpt.eval.metrics import METRICS, corpus_scores
    from pedgpt.eval.textfiles import read_answers

    predictions = read_answers(args.pred, role="prediction")
    references = read_answers(args.ref, role="reference")
    scores = corpus_scores(predictions, references, progress=not args.json)
    if args.json:
        emit_json(scores)
    else:
        print(f"{len(predictions)} answers")
        for name in METRICS:
            print(f"{name:<11} {scores[name]:8.2f}")
    return 0


# ---- rescore ------------------------------------------------------------------------------
def _register_rescore(sub) -> None:
    p = sub.add_parser("rescore", help="score finished runs again (after a scorer changed)")
    p.add_argument("runs", nargs="+", help="run folders written by `pedgpt eval run`")
    add_json_flag(p)
    p.set_defaults(func=_rescore)


def _rescore(args) -> int:
    from pedgpt.eval.runner import rescore_run

    results = {str(run): rescore_run(run) for run in args.runs}
    if args.json:
        emit_json(results)
    else:
        for run in results:
            print(f"rescored {run}: {Path(run) / 'scores.json'}, {Path(run) / 'report.md'}")
    return 0


# ---- run ----------------------------------------------------------------------------------
def _register_run(sub) -> None:
    p = sub.add_parser("run", help="generate answers on the held-out tasks and write a report")
    p.add_argument("--model", default=None, help="pedgpt-0.5b (the default), pedgpt-0.5b-moe, base, "
                                                 "or a model file/folder")
    p.add_argument("--backend", default=None, help="auto|llamacpp|transformers|openai")
    p.add_argument("--tasks", default="kqa,diag,treat,safety", help="comma-separated task names")
    p.add_argument("--out", required=True, help="run folder (re-running it resumes)")
    p.add_argument("--limit", type=number(int, "--limit"), default=None,
                   help="at most N items per task (per category for safety)")
    p.add_argument("--safety-categories", default=None,
                   help="comma-separated: red_flags,dosing,contraindicated,benign (default: all)")
    p.add_argument("--data", default=None, help="data folder from `pedgpt data build --out DIR`")
    p.add_argument("--max-new-tokens", type=number(int, "--max-new-tokens"), default=None)
    p.add_argument("--seed", type=number(int, "--seed"), default=None)
    p.add_argument("--prompt", choices=("bare", "served"), default="bare",
                   help="bare: the items' own messages (the paper's protocol); served: the app's "
                        "system prompt with patient context, triage, knowledge and "
                        "contraindication rules (pedgpt.assistant)")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pedgpt.eval.runner import RunConfig, run_evaluation

    config = RunConfig.from_cli(args, command=_run_command_line(args))
    summary = run_evaluation(config)
    if args.json:
        emit_json(summary)
    else:
        print(f"report: {summary['report']}")
    return 0


# ---- criteria -------------------------------------------------------------------------------
def _register_criteria(sub) -> None:
    p = sub.add_parser("criteria", help="acceptance criteria of a trained model against its base "
                                        "(exit 1 when one fails)")
    p.add_argument("--base", required=True, help="run folder of the base model")
    p.add_argument("--candidate", required=True, help="run folder of the trained model")
    p.add_argument("--bench", default=None, help="`pedgpt bench --json` output (decode ratio)")
    add_json_flag(p)
    p.set_defaults(func=_criteria)


def _criteria(args) -> int:
    from pedgpt.eval.criteria import check_criteria, criteria_table

    rows = check_criteria(args.base, args.candidate, args.bench)
    passed = all(row.passed for row in rows)
    if args.json:
        emit_json({"passed": passed, "criteria": [row.to_dict() for row in rows]})
    else:
        print("\n".join(criteria_table(rows)))
        print("all criteria pass" if passed else "some criteria fail")
    return 0 if passed else 1


# ---- judge --------------------------------------------------------------------------------
def _register_judge(sub) -> None:
    p = sub.add_parser("judge", help="pairwise win/tie/loss of run A vs run B, judged by a model")
    p.add_argument("--a", required=True, help="run folder of model A")
    p.add_argument("--b", required=True, help="run folder of model B")
    p.add_argument("--judge-model", default=None, help="judge model (default: embedded model)")
    p.add_argument("--judge-backend", default=None, help="auto|llamacpp|transformers|openai")
    p.add_argument("--tasks", default="kqa,diag,treat", help="comma-separated task names")
    p.add_argument("--out", required=True, help="folder for verdicts and judge.md")
    p.add_argument("--limit", type=number(int, "--limit"), default=None)
    add_json_flag(p)
    p.set_defaults(func=_judge)


def _judge(args) -> int:
    from pedgpt.eval.judge import JudgeConfig, run_judge

    config = JudgeConfig.from_cli(args)
    summary = run_judge(config)
    if args.json:
        emit_json(summary)
    else:
        for task, row in summary["tasks"].items():
            print(f"{task:<6} A wins {row['win']:3d}  ties {row['tie']:3d}  B wins {row['loss']:3d}"
                  f"  (A win rate {row['win_rate']:.1f} %)")
        print(f"report: {summary['report']}")
    return 0


# ---- compare ------------------------------------------------------------------------------
def _register_compare(sub) -> None:
    p = sub.add_parser("compare", help="render several runs side by side")
    p.add_argument("runs", nargs="+", help="run folders written by `pedgpt eval run`")
    p.add_argument("--out", required=True, help="folder for compare.md and charts")
    add_json_flag(p)
    p.set_defaults(func=_compare)


def _compare(args) -> int:
    from pedgpt.eval.compare import compare_runs

    summary = compare_runs(args.runs, args.out)
    if args.json:
        emit_json(summary)
    else:
        print(f"report: {summary['report']}")
    return 0


# ---- feedback -----------------------------------------------------------------------------
def _register_feedback(sub) -> None:
    p = sub.add_parser("feedback", help="summarise clinician feedback; export DFPO pairs")
    p.add_argument("--db", default=None, help="database URL (default: PEDGPT_DB_URL)")
    p.add_argument("--out", default=None, help="write dfpo_pairs.jsonl and feedback.md here")
    add_json_flag(p)
    p.set_defaults(func=_feedback)


def _feedback(args) -> int:
    from pedgpt.eval.feedback import feedback_command

    summary = feedback_command(db_url=args.db, out=args.out)
    if args.json:
        emit_json(summary)
    else:
        from pedgpt.eval.feedback import format_summary

        print(format_summary(summary))
    return 0


def _run_command_line(args) -> str:
    """The `eval run` invocation rebuilt from the parsed options (to reproduce the run)."""
    import shlex

    parts = ["pedgpt", "eval", "run"]
    for option in ("model", "backend", "tasks", "out", "limit", "safety_categories", "data",
                   "max_new_tokens", "seed"):
        value = getattr(args, option)
        if value is not None:
            parts += ["--" + option.replace("_", "-"), str(value)]
    if getattr(args, "prompt", "bare") != "bare":
        parts += ["--prompt", args.prompt]
    return " ".join(shlex.quote(part) for part in parts)
