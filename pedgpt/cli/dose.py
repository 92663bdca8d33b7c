"""`pedgpt dose DRUG --weight-kg W --age-months N [--indication NAME] [--mode M] [--json]`.

    pedgpt dose paracetamol --weight-kg 12 --age-months 24
    pedgpt dose 美林 --weight-kg 9 --age-months 10 --json
    pedgpt dose amoxicillin --weight-kg 14 --age-months 30 --indication 中耳炎
    pedgpt dose ORS --weight-kg 10 --age-months 18 --indication "some dehydration"

Unknown drugs (closest names suggested), weight <= 0 or > 150 kg, age < 0 or > 216 months,
weights implausible for the age and non-numeric values give one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import add_json_flag, emit_json, number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dose", help="weight-based dose, limits and contraindications for one drug",
                       description="Weight-based paediatric dose with caps, floors and contraindications.")
    p.add_argument("drug", help="drug name: generic, Chinese or brand (paracetamol, 布洛芬, Motrin, ORS ...)")
    p.add_argument("--weight-kg", type=number(float, "--weight-kg"), required=True, help="weight in kg")
    p.add_argument("--age-months", type=number(float, "--age-months"), required=True, help="age in months")
    p.add_argument("--indication", help="e.g. fever, pneumonia, 中耳炎 / aom, some dehydration, 水痘")
    p.add_argument("--mode", choices=("clinician", "parent"), help="default: PEDGPT_MODE or clinician")
    p.add_argument("--language", choices=("zh", "en"), help="language of the text (default: from the drug name)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from pedgpt.safety import calculate

    mode = args.mode or os.environ.get("PEDGPT_MODE") or "clinician"
    advice = calculate(args.drug, args.weight_kg, args.age_months, indication=args.indication, mode=mode,
                       language=args.language)
    if args.json:
        emit_json(advice.to_dict())
        return 0
    print(_render(advice))
    return 0


def _render(a) -> str:
    zh = a.language == "zh"
    head = f"{a.drug_name} ({a.drug}), {a.weight_kg:g} kg, {a.age_months:g} {'个月' if zh else 'months'}"
    if not a.allowed:
        return "\n".join([head, ("不可用：" if zh else "NOT ALLOWED: ") + (a.reason or ""), *_sources(a, zh)])
    lines = [head]
    if a.regimen_label:
        lines.append(("方案：" if zh else "regimen: ") + a.regimen_label)
    if a.per_dose_mg:
        lines.append(f"{'每次' if zh else 'per dose'}: {a.per_dose_mg['min']:g}–{a.per_dose_mg['max']:g} mg")
    if a.per_dose_ml:
        lines.append(f"{'每次稀便后' if zh else 'after each loose stool'}: "
                     f"{a.per_dose_ml['min']:g}–{a.per_dose_ml['max']:g} mL")
    if a.volume_ml:
        lines.append(f"{'总量' if zh else 'volume'}: {a.volume_ml['max']:g} mL"
                     + (f" / {a.over_hours:g} h" if a.over_hours else ""))
    if a.interval_hours_min:
        lines.append(f"{'最短间隔' if zh else 'minimum interval'}: {a.interval_hours_min:g} h")
    if a.max_doses_per_24h:
        lines.append(f"{'24小时最多' if zh else 'max doses / 24 h'}: {a.max_doses_per_24h}")
    if a.unit == "mg" and a.max_daily_mg:
        lines.append(f"{'每日最大量' if zh else 'max daily'}: {a.max_daily_mg:g} mg")
    if a.duration:
        lines.append(("疗程：" if zh else "duration: ") + a.duration)
    lines += [f"  ! {w}" for w in a.warnings]
    return "\n".join(lines + _sources(a, zh))


def _sources(a, zh: bool) -> list[str]:
    return [("来源：" if zh else "sources:")] + [f"  - {s}" for s in a.sources]
