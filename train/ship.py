"""Turn a finished `pedgpt-0.5b-cpu` pipeline run into the models that ship inside the package.

    pedgpt train pipeline --config train/recipes/pedgpt-0.5b-cpu.yaml
    python -m train.ship runs/pedgpt-0.5b-served --recipe train/recipes/pedgpt-0.5b-cpu.yaml \
        [--eval reports/pedgpt-0.5b/summary.json] [--cards-only]

writes `pedgpt/models/pedgpt-0.5b/` (the CPT+SFT+DFPO adapters stacked into one fp16 LoRA over the
embedded GGUF — the served default, fast path) and `pedgpt/models/pedgpt-0.5b-moe/` (the MoE-LoRA
experts in bf16 on top of it, served through transformers), each with a `pedgpt_model.json`
manifest and a model card (data version, recipe, seeds, stage losses, evaluation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import torch

from pedgpt.errors import InputError
from train import moe_lora
from train.common import CURVE_NAME, METRICS_NAME
from train.lora_compose import LORA_STAGES, STAGES_FILE, compose_adapters, stage_adapters

MODELS_DIR = Path(__file__).resolve().parent.parent / "pedgpt" / "models"
LORA_NAME, MOE_NAME = "pedgpt-0.5b", "pedgpt-0.5b-moe"
MANIFEST = "pedgpt_model.json"
#: The package must stay small enough for PyPI and a Space (issue: adapters ≤ 40 MB in all).
MAX_SHIPPED_MB = 40


def ship(run_dir: Path, recipe: Path, out_root: Path = MODELS_DIR, evaluation: Path | None = None) -> list[Path]:
    """Write both shipped model folders from `run_dir`; returns them."""
    run_dir, out_root = Path(run_dir), Path(out_root)
    adapters = stage_adapters(run_dir)
    if not adapters:
        raise InputError(f"{run_dir} holds no LoRA stage adapters (cpt|sft|dfpo/adapter)")
    lora = compose_adapters(adapters, _fresh(out_root / LORA_NAME), base="embedded")
    _manifest(lora, "PedGPT-0.5B", base="embedded", adapter_type="lora")
    folders = [lora]
    if (run_dir / "moe" / moe_lora.CONFIG_NAME).is_file():
        folders.append(_ship_moe(run_dir / "moe", _fresh(out_root / MOE_NAME)))
    write_cards(run_dir, recipe, folders, evaluation)
    size_mb = sum(p.stat().st_size for f in folders for p in f.iterdir()) / 1e6
    if size_mb > MAX_SHIPPED_MB:
        raise InputError(f"the shipped adapters take {size_mb:.1f} MB (limit {MAX_SHIPPED_MB} MB)")
    return folders


def write_cards(run_dir: Path, recipe: Path, folders: list[Path], evaluation: Path | None) -> None:
    """Loss curves and model card of each shipped folder (the weights are left alone)."""
    facts = _facts(run_dir, recipe, evaluation)
    facts["lora"] = _json(folders[0] / STAGES_FILE)
    for folder in folders:
        _copy_curves(run_dir, folder)
        (folder / "README.md").write_text(model_card(folder.name, facts), encoding="utf-8")


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _manifest(folder: Path, name: str, base: str, adapter_type: str) -> None:
    manifest = {"name": name, "base": base, "adapter": ".", "adapter_type": adapter_type}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _ship_moe(source: Path, out: Path) -> Path:
    """The MoE-LoRA adapter in bf16 (the transformers backend runs bf16 on CPU), its base the
    shipped LoRA model it was trained on."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(source / moe_lora.WEIGHTS_NAME))
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()},
              str(out / moe_lora.WEIGHTS_NAME), metadata={"format": "pt", "adapter_type": moe_lora.ADAPTER_TYPE})
    config = json.loads((source / moe_lora.CONFIG_NAME).read_text(encoding="utf-8"))
    config["base_model"] = f"../{LORA_NAME}"
    (out / moe_lora.CONFIG_NAME).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    for extra in ("router_stats.json", "router_stats.png"):
        if (source / extra).is_file():
            shutil.copy2(source / extra, out / extra)
    _manifest(out, "PedGPT-0.5B-MoE", base=f"../{LORA_NAME}", adapter_type=moe_lora.ADAPTER_TYPE)
    return out


def _copy_curves(run_dir: Path, folder: Path) -> None:
    for stage in (*LORA_STAGES, "moe"):
        curve = run_dir / stage / CURVE_NAME
        if curve.is_file() and (stage != "moe" or folder.name == MOE_NAME):
            shutil.copy2(curve, folder / f"loss_{stage}.png")


def _facts(run_dir: Path, recipe: Path, evaluation: Path | None) -> dict:
    """What the model cards state: data, recipe, seeds, per-stage metrics, evaluation."""
    data = _json(run_dir / "data" / "manifest.json")
    stages = {}
    for stage in (*LORA_STAGES, "moe"):
        metrics = _json(run_dir / stage / METRICS_NAME)
        if metrics:
            stages[stage] = {k: metrics.get(k) for k in (
                "first_loss", "last_loss", "probe_loss_before", "probe_loss_after", "global_step",
                "wall_seconds", "examples", "blocks", "pairs", "rewards_accuracies", "rewards_margins")
                if metrics.get(k) is not None}
    import yaml

    recipe_text = Path(recipe).read_text(encoding="utf-8")
    seeds = {stage: (cfg.get("training") or {}).get("seed") for stage, cfg in
             (yaml.safe_load(recipe_text) or {}).items() if isinstance(cfg, dict) and "training" in cfg}
    return {"data_version": data.get("data_version"), "data_seed": data.get("seed"), "run_dir": str(run_dir),
            "recipe": str(recipe), "recipe_sha256": hashlib.sha256(recipe_text.encode()).hexdigest(),
            "seeds": seeds, "stages": stages,
            "evaluation": _json(evaluation) if evaluation else {}}


def _json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def model_card(name: str, facts: dict) -> str:
    moe = name == MOE_NAME
    lines = [
        "---", "library_name: peft" if not moe else "library_name: transformers",
        "base_model: Qwen2.5-Coder-0.5B-Instruct (the embedded GGUF, Q4_K_M)",
        "tags: [pedgpt, pediatrics, lora]" if not moe else "tags: [pedgpt, pediatrics, moe-lora]",
        "license: mit", "---", "",
        f"# {'PedGPT-0.5B-MoE' if moe else 'PedGPT-0.5B'}", "",
        ("The MoE-LoRA variant: one universal + three specific LoRA experts on the FFN, trained on "
         "top of PedGPT-0.5B (`../pedgpt-0.5b`). Served through the transformers backend: "
         "`pedgpt serve --model pedgpt-0.5b-moe`." if moe else
         "The served default: the PediatricsGPT recipe (hybrid-instruction CPT → SFT → DFPO) run "
         "as LoRA stages on the embedded base model, the stage adapters (ranks "
         f"{facts['lora'].get('stage_ranks')}) stacked into one rank-{facts['lora'].get('rank')} "
         "LoRA over the attention projections (fp16). "
         "The llama.cpp backend merges it once into the quantized base (adapted weights stored "
         "as Q8_0, built on first use and checked by sha256) and serves that GGUF (`pedgpt serve`; "
         "the base stays selectable with `--model base`)."), "",
        "For research and clinician testing only: answers need a clinician's judgment; PedGPT's "
        "deterministic safety layer checks every answer.", "",
        "## Provenance", "",
        f"- data: PedCorpus-lite `{facts['data_version']}` (builder seed {facts['data_seed']}; "
        "held-out diseases never seen in training — leakage check PASS)",
        f"- recipe: `{facts['recipe']}` (sha256 `{facts['recipe_sha256'][:16]}…`), seeds {facts['seeds']}",
        f"- reproduce: `pedgpt train pipeline --config {facts['recipe']} && "
        f"python -m train.ship {facts.get('run_dir', 'OUTPUT_DIR')} --recipe {facts['recipe']}`", "",
        "## Stages", "", "| stage | steps | first loss | last loss | probe loss before → after | seconds |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for stage, m in facts["stages"].items():
        if moe or stage != "moe":
            lines.append(f"| {stage} | {m.get('global_step', '')} | {m.get('first_loss', '')} | "
                         f"{m.get('last_loss', '')} | {m.get('probe_loss_before', '')} → "
                         f"{m.get('probe_loss_after', '')} | {m.get('wall_seconds', '')} |")
    lines += ["", *[f"![{s} loss](loss_{s}.png)" for s in facts["stages"] if moe or s != "moe"], ""]
    evaluation = facts.get("evaluation") or {}
    lines += ["## Evaluation", ""]
    if evaluation:
        lines += [f"- {key}: {value}" for key, value in evaluation.items()]
    else:
        lines.append("See `reports/pedgpt-0.5b.md`.")
    lines += ["", "Full report: `reports/pedgpt-0.5b.md` in the repository.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.ship", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="the pipeline's output_dir (e.g. runs/pedgpt-0.5b)")
    parser.add_argument("--recipe", required=True, help="the recipe the run used")
    parser.add_argument("--out", default=str(MODELS_DIR), help="where the model folders go")
    parser.add_argument("--eval", default=None, help="a JSON object of headline evaluation figures")
    parser.add_argument("--cards-only", action="store_true",
                        help="rewrite the model cards of the shipped folders (after a new evaluation) "
                             "without re-composing the adapters")
    args = parser.parse_args(argv)
    evaluation = Path(args.eval) if args.eval else None
    try:
        if args.cards_only:
            folders = [f for f in (Path(args.out) / LORA_NAME, Path(args.out) / MOE_NAME) if f.is_dir()]
            if not folders or not (folders[0] / STAGES_FILE).is_file():
                raise InputError(f"{args.out} holds no shipped {LORA_NAME} folder to describe")
            write_cards(Path(args.run_dir), Path(args.recipe), folders, evaluation)
        else:
            folders = ship(Path(args.run_dir), Path(args.recipe), Path(args.out), evaluation)
        for folder in folders:
            print(folder)
    except (InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
