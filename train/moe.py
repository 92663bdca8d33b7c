"""Stage 4 — MoE-LoRA secondary SFT (mixture of universal-specific experts).

The base model (the DFPO checkpoint) is frozen; `train.moe_lora.inject_moe_lora` wraps the FFN
linear layers with one universal + `num_specific` routed LoRA experts, and a transformers
`Trainer` trains only those on `moe.jsonl` (conversations + a `task` label), with the SFT
masking (assistant tokens only). Optional load-balancing loss; router weights are averaged per
task and saved as `router_stats.json` (+ PNG). `qlora: true` loads the base in 4-bit NF4 (CUDA).

The checkpoint folder holds the adapter (`moe_lora_config.json` + safetensors), the tokenizer, a
model card and `pedgpt_model.json`, so `pedgpt serve --model <folder>` serves base + adapter.

    pedgpt train moe --config my-moe.yaml          # or: python -m train.moe my-moe.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from pedgpt.errors import BackendError
from train import moe_lora
from train.common import (
    finish_stage, load_causal_lm, model_dtype, read_jsonl, stage_tokenizer, trainer_arguments,
    train_resumable,
)
from train.config import MoEConfig, load_config
from train.sft import encode_records, padding_collator

MANIFEST_NAME = "pedgpt_model.json"
ROUTER_STATS_NAME = "router_stats.json"


class RouterStats:
    """Running mean of the router weights per task: {task: [T floats]} over training sequences."""

    def __init__(self, tasks: list[str], num_specific: int) -> None:
        self.tasks = tasks
        self.sums = torch.zeros(len(tasks), num_specific, dtype=torch.float64)
        self.counts = torch.zeros(len(tasks), dtype=torch.float64)

    def update(self, task_ids: torch.Tensor, means: torch.Tensor | None) -> None:
        """task_ids: [B] indices into `tasks`; means: [B, T] per-sequence router means."""
        if means is None:
            return
        ids = task_ids.to("cpu").long()
        self.sums.index_add_(0, ids, means.detach().to("cpu", torch.float64))
        self.counts.index_add_(0, ids, torch.ones(len(ids), dtype=torch.float64))

    def summary(self) -> dict:
        return {task: {"sequences": int(self.counts[i]),
                       "mean_gates": [round(float(v), 4) for v in self.sums[i] / max(1.0, float(self.counts[i]))]}
                for i, task in enumerate(self.tasks) if self.counts[i] > 0}


def make_trainer_class():
    """A `Trainer` whose loss adds the optional balance term and records router weights per task."""
    from transformers import Trainer

    class MoETrainer(Trainer):
        def __init__(self, *args, aux_loss_weight: float = 0.0, router_stats: RouterStats, **kwargs):
            super().__init__(*args, **kwargs)
            self.aux_loss_weight = aux_loss_weight
            self.router_stats = router_stats

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            task_ids = inputs.pop("task_ids")
            loss, outputs = super().compute_loss(model, inputs, return_outputs=True,
                                                 num_items_in_batch=num_items_in_batch)
            core = self.accelerator.unwrap_model(model)
            balance = moe_lora.aux_loss(core) if self.aux_loss_weight else None
            if balance is not None:
                loss = loss + self.aux_loss_weight * balance
            if model.training:
                self.router_stats.update(task_ids, moe_lora.router_means(core, inputs.get("attention_mask")))
            return (loss, outputs) if return_outputs else loss

    return MoETrainer


def task_collator(tokenizer, tasks: list[str]):
    """SFT padding plus a `task_ids` tensor (index into `tasks`)."""
    pad = padding_collator(tokenizer)
    index = {task: i for i, task in enumerate(tasks)}

    def collate(features: list[dict]) -> dict:
        ids = torch.tensor([index[f["task"]] for f in features])
        batch = pad([{k: f[k] for k in ("input_ids", "attention_mask", "labels")} for f in features])
        batch["task_ids"] = ids
        return batch

    return collate


def load_base(cfg: MoEConfig):
    """The frozen base model; 4-bit NF4 on CUDA when `qlora` (bitsandbytes)."""
    if not cfg.qlora:
        return load_causal_lm(cfg.model, model_dtype(cfg))
    if not torch.cuda.is_available():
        raise BackendError("qlora needs a CUDA GPU (bitsandbytes 4-bit); set qlora: false on this machine")
    from peft import prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.bfloat16)
    model = load_causal_lm(cfg.model, "bfloat16", quantization=quant)
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.training.gradient_checkpointing)


def build_model(cfg: MoEConfig):
    """Base + injected MoE-LoRA layers (only the adapter trains)."""
    model = load_base(cfg)
    moe_lora.inject_moe_lora(model, cfg.target_modules, r=cfg.r, alpha=cfg.alpha,
                             num_specific=cfg.num_specific, dropout=cfg.dropout)
    if cfg.qlora:
        # transformers refuses to train a quantised model unless it carries adapters; this is the
        # flag its own adapter integration sets.
        model._hf_peft_config_loaded = True
    moe_lora.set_aux_loss(model, cfg.aux_loss_weight > 0)
    moe_lora.set_router_recording(model, True)
    return model


def run(cfg: MoEConfig) -> Path:
    """Train the experts and return the adapter folder."""
    from transformers import TrainingArguments

    cfg.require_paths("moe")
    tokenizer = stage_tokenizer(cfg)
    records = read_jsonl(cfg.data, cfg.limit, required=("messages",))
    for record in records:
        record["task"] = str(record.get("task") or "general")
    examples = encode_records(records, tokenizer, cfg.max_length)
    tasks = sorted({e["task"] for e in examples})
    args = TrainingArguments(**trainer_arguments(cfg))
    model = build_model(cfg)
    trainable, total = moe_lora.trainable_parameters(model)
    stats = RouterStats(tasks, cfg.num_specific)
    trainer = make_trainer_class()(
        model=model, args=args, train_dataset=examples, data_collator=task_collator(tokenizer, tasks),
        processing_class=tokenizer, aux_loss_weight=cfg.aux_loss_weight, router_stats=stats)
    metrics = train_resumable(trainer, cfg)
    moe_lora.set_router_recording(model, False)
    out = Path(cfg.output_dir)
    _save_adapter(trainer, cfg)
    extra = {"trainable_parameters": trainable, "total_parameters": total,
             "trainable_percent": round(100 * trainable / total, 3), "router_by_task": stats.summary()}
    if trainer.is_world_process_zero():
        (out / ROUTER_STATS_NAME).write_text(json.dumps(stats.summary(), indent=2, ensure_ascii=False))
        write_manifest(out, base=cfg.model, adapter=out)
    return finish_stage(trainer, cfg, "moe", metrics, save_model=False, extra=extra)


def _save_adapter(trainer, cfg: MoEConfig) -> None:
    """Save only the adapter (under ZeRO-3 the partitioned weights are gathered first)."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    full_state = trainer.accelerator.get_state_dict(trainer.model) if trainer.is_deepspeed_enabled else None
    if trainer.is_world_process_zero():
        moe_lora.save_moe_adapter(model, cfg.output_dir, full_state=full_state,
                                  extra={"base_model": str(Path(cfg.model).resolve())
                                         if Path(cfg.model).exists() else cfg.model})


def write_manifest(folder: str | Path, base: str | Path, adapter: str | Path) -> Path:
    """`pedgpt_model.json`: how `load_engine(model=folder)` finds base + MoE adapter."""
    def absolute(path):
        return str(Path(path).resolve()) if Path(path).exists() else str(path)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"base": absolute(base), "adapter": absolute(adapter), "adapter_type": moe_lora.ADAPTER_TYPE}
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(run(load_config(sys.argv[1], MoEConfig)))
