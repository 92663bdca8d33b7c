"""`pedgpt train cpt|sft|dfpo|moe|pipeline --config FILE.yaml` — run one stage or the whole recipe.

The training stack (transformers Trainer, TRL, DeepSpeed) is imported only inside the handler.
Under several GPUs or nodes, launch the same command through `torchrun`/`accelerate launch`/
`deepspeed` (README, section Training).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from pedgpt.cli.common import add_json_flag, emit_json
from pedgpt.errors import BackendError

#: stage name → (config class name in train.config, one-line help)
STAGES = {
    "cpt": ("CPTConfig", "continued pre-training on packed text (hybrid instruction CPT)"),
    "sft": ("SFTConfig", "full-parameter SFT, loss on assistant turns"),
    "dfpo": ("DFPOConfig", "DFPO preference optimisation (DPO + μ·NLL of the chosen answer)"),
    "moe": ("MoEConfig", "MoE-LoRA secondary SFT (universal + routed experts)"),
    "pipeline": ("PipelineConfig", "data build → CPT → SFT → DFPO → MoE-LoRA"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="run a training stage or the whole recipe",
                                   description="Train PedGPT (the PediatricsGPT recipe) from a YAML recipe.")
    parser.add_argument("stage", choices=list(STAGES), help="stage to run")
    parser.add_argument("--config", required=True, metavar="FILE.yaml", help="recipe, e.g. train/recipes/tiny.yaml")
    parser.add_argument("--output-dir", default=None, help="override the recipe's output_dir")
    add_json_flag(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        import train.config as config_module
        from train.config import load_config
        for name in ("transformers", "trl", "accelerate", "datasets"):
            __import__(name)
    except ModuleNotFoundError as exc:
        raise BackendError(f"training needs the train extra ({exc.name} is missing): "
                           "pip install -e '.[train]'") from None

    class_name, _ = STAGES[args.stage]
    cfg = load_config(args.config, getattr(config_module, class_name))
    if args.output_dir:
        cfg.output_dir = args.output_dir
    module = __import__(f"train.{args.stage}", fromlist=["run"])
    # Trainer logs print to stdout; with --json, stdout must carry exactly one object.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        folder = Path(module.run(cfg))
    result = {"stage": args.stage, "output": str(folder.resolve())}
    metrics = folder / "metrics.json"
    if metrics.is_file():
        record = json.loads(metrics.read_text(encoding="utf-8"))
        result.update({k: record[k] for k in ("first_loss", "last_loss", "global_step") if k in record})
    if args.json:
        emit_json(result)
    else:
        print(f"done: {result['output']}")
    return 0
