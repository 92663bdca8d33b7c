"""`pedgpt triage TEXT [--age-months N] [--temp-c T] [--json]` — red-flag triage of a description.

    pedgpt triage "3周宝宝发烧38.2度，吃奶差"
    pedgpt triage "2-year-old, fever 39 for 2 days, playing" --json
    pedgpt triage "fever and rash" --age-months 8 --temp-c 38.6
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import add_json_flag, emit_json, number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="red-flag triage (emergency / urgent / routine) of a description",
                       description="Triage a description of a sick child with cited rules (NICE NG143, WHO IMCI).")
    p.add_argument("text", help="the description, in Chinese or English")
    p.add_argument("--age-months", type=number(float, "--age-months"), help="age in months (overrides the text)")
    p.add_argument("--temp-c", type=number(float, "--temp-c"), help="temperature in °C (overrides the text)")
    p.add_argument("--weight-kg", type=number(float, "--weight-kg"), help="weight in kg (checked for plausibility)")
    p.add_argument("--language", choices=("zh", "en"), help="language of the advice (default: the text's)")
    p.add_argument("--mode", choices=("clinician", "parent"),
                   help="parent hides unverified [R] thresholds (default: PEDGPT_MODE or clinician)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from pedgpt.errors import InputError
    from pedgpt.safety import assess

    if args.weight_kg is not None and not 0 < args.weight_kg <= 150:
        raise InputError(f"--weight-kg must be more than 0 and at most 150, got {args.weight_kg:g}")
    mode = args.mode or os.environ.get("PEDGPT_MODE") or "clinician"
    result = assess(args.text, age_months=args.age_months, temp_c=args.temp_c, language=args.language,
                    weight_kg=args.weight_kg, mode=mode)
    if args.json:
        emit_json(result.to_dict())
        return 0
    print(_render(result))
    return 0


def _render(result) -> str:
    zh = result.language == "zh"
    names = {"emergency": "急症", "urgent": "尽快就医", "routine": "居家观察"} if zh else \
        {"emergency": "EMERGENCY", "urgent": "URGENT", "routine": "routine"}
    lines = [f"{'分级' if zh else 'level'}: {names[result.level]} ({result.level})"]
    for flag in result.flags:
        tag = f" [{flag.tag}]"
        lines.append(f"  - {flag.id}: {flag.text}{tag} — {flag.source}")
    lines.append(result.advice)
    return "\n".join(lines)
