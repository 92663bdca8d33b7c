"""Stack the LoRA adapters of consecutive stages into ONE adapter relative to the first base.

Each LoRA stage (CPT → SFT → DFPO) trains an adapter on top of the previous stage's merged
weights, so the final weights are W + Σ_k s_k·B_k·A_k exactly. That sum is itself a LoRA of rank
Σ r_k: A = [A_1; A_2; …] (R, in), B = [s_1·B_1, s_2·B_2, …] (out, R), with lora_alpha = R (scale 1).
One adapter can then be served on the quantized base (llama.cpp GGUF LoRA) or with PEFT.

    python -m train.ship runs/pedgpt-0.5b-served --recipe …    # composes, then writes the shipped models
    compose_adapters([cpt/adapter, sft/adapter, dfpo/adapter], out, base="embedded")
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from pedgpt.errors import InputError
from pedgpt.engine.gguf_lora import ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapter_scale
from train.common import ADAPTER_SUBDIR

LORA_STAGES = ("cpt", "sft", "dfpo")
#: Beside the adapter: which stage adapters it stacks and their ranks (PEFT's config has no room).
STAGES_FILE = "lora_stages.json"


def _read(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
        return config, load_file(str(folder / ADAPTER_WEIGHTS))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the LoRA adapter in {folder}: {exc}") from None


def _module_of(key: str) -> tuple[str, str]:
    """("...layers.3.self_attn.q_proj", "A"|"B") of a PEFT tensor key."""
    stem, _, side = key.rpartition(".lora_")
    if side not in ("A.weight", "B.weight"):
        raise InputError(f"unexpected tensor {key!r} in a LoRA adapter")
    return stem, side[0]


def compose_adapters(folders: list[Path], out: Path, base: str, dtype=torch.float16) -> Path:
    """Write the stacked adapter of `folders` (in stage order) to `out` (PEFT layout)."""
    if not folders:
        raise InputError("no LoRA adapters to compose")
    stacked: dict[str, dict[str, list[torch.Tensor]]] = {}
    ranks, targets = [], set()
    for folder in folders:
        config, tensors = _read(Path(folder))
        scale, rank = adapter_scale(config), int(config["r"])
        ranks.append(rank)
        targets.update(config.get("target_modules") or [])
        for key, value in tensors.items():
            module, side = _module_of(key)
            value = value.float() * (scale if side == "B" else 1.0)
            stacked.setdefault(module, {"A": [], "B": [], "stages": []})[side].append(value)
    total = sum(ranks)
    weights = {}
    for module, parts in stacked.items():
        if len(parts["A"]) != len(folders) or len(parts["B"]) != len(folders):
            raise InputError(f"{module} is not adapted by every stage; give the stages the same "
                             "lora target_modules")
        weights[f"{module}.lora_A.weight"] = torch.cat(parts["A"], dim=0).to(dtype).contiguous()
        weights[f"{module}.lora_B.weight"] = torch.cat(parts["B"], dim=1).to(dtype).contiguous()
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file(weights, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base,
              "r": total, "lora_alpha": total, "lora_dropout": 0.0, "bias": "none",
              "target_modules": sorted(targets), "use_rslora": False, "use_dora": False,
              "fan_in_fan_out": False, "inference_mode": True}
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    stages = {"stage_adapters": [str(f) for f in folders], "stage_ranks": ranks, "rank": total}
    (out / STAGES_FILE).write_text(json.dumps(stages, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


def stage_adapters(run_dir: Path) -> list[Path]:
    """The adapters a pipeline run left, in stage order (stages trained full-parameter have none)."""
    found = [run_dir / stage / ADAPTER_SUBDIR for stage in LORA_STAGES]
    return [folder for folder in found if (folder / ADAPTER_WEIGHTS).is_file()]
