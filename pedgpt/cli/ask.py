"""`pedgpt ask TEXT` — one question through the whole assistant (triage, knowledge, engine, guard).

    pedgpt ask "我家宝宝1岁半，发烧38.8度，精神还可以，需要马上去医院吗？"
    pedgpt ask "Dose of ibuprofen for my 2 year old?" --weight-kg 12 --task medicate --json
"""

from __future__ import annotations

import argparse
import sys

from pedgpt.cli.common import add_json_flag, emit_json, number
from pedgpt.config import BACKENDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask one question and stream the checked answer")
    p.add_argument("text", help="the question (Chinese or English)")
    p.add_argument("--task", choices=("consult", "diagnose", "medicate"), default="consult")
    p.add_argument("--age-months", type=number(float, "--age-months"))
    p.add_argument("--weight-kg", type=number(float, "--weight-kg"))
    p.add_argument("--max-new-tokens", type=number(int, "--max-new-tokens"), default=256)
    p.add_argument("--temperature", type=number(float, "--temperature"), default=0.0)
    p.add_argument("--model", help="pedgpt-0.5b (the default), pedgpt-0.5b-moe, base, or a model "
                                   "file/folder (default: PEDGPT_MODEL)")
    p.add_argument("--backend", choices=BACKENDS, help="default: PEDGPT_BACKEND or auto")
    p.add_argument("--mode", choices=("clinician", "parent"), help="default: PEDGPT_MODE")
    p.add_argument("--no-knowledge", action="store_true", help="do not retrieve knowledge facts")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pedgpt.assistant import Assistant, Patient
    from pedgpt.config import Settings
    from pedgpt.engine import GenerationParams, load_engine
    from pedgpt.errors import InputError

    if not args.text.strip():
        raise InputError("the question is empty")
    GenerationParams(args.max_new_tokens, args.temperature)  # validate before loading a model
    patient = Patient(age_months=args.age_months, weight_kg=args.weight_kg)
    settings = Settings.from_env(model=args.model, backend=args.backend, mode=args.mode)
    engine = load_engine(settings.model, settings.backend)
    assistant = Assistant(engine, mode=settings.mode, use_knowledge=not args.no_knowledge)
    turn = assistant.prepare(args.task, [], args.text, patient, args.max_new_tokens)
    pieces = []
    for piece in assistant.stream(turn, max_new_tokens=args.max_new_tokens,
                                  temperature=args.temperature):
        pieces.append(piece)
        if not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()
    result = assistant.finish(turn, "".join(pieces))
    if args.json:
        emit_json(result.to_dict())
    else:
        print()
        print_checks(result)
    return 0


def print_checks(result) -> None:
    """The safety summary under a streamed answer."""
    zh = result.language == "zh"
    level = result.triage.get("level", "routine")
    print("\n—— " + ("安全检查" if zh else "Safety checks") + " ——")
    print(("分诊: " if zh else "Triage: ") + level)
    if result.banner:
        print(result.banner)
    for flag in result.triage.get("flags", []):
        print(f"  ! {flag.get('text')} [{flag.get('id')}]")
    for blocked in result.blocked_requests:
        print(f"  ✗ {blocked['drug']}: {blocked['rule']} [{blocked['rule_id']}; {blocked['source']}]")
    for finding in result.dose_checks:
        print(f"  ! {finding.get('message')}")
    cited = [c for c in result.citations if c.get("cited")]
    for citation in cited or result.citations[:3]:
        print(f"  [{citation['marker']}] {citation['text']} ({citation['id']})")
