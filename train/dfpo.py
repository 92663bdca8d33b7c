"""Stage 3 — DFPO (direct following preference optimisation) with TRL's `DPOTrainer`.

DFPO = DPO's sigmoid loss on summed log-probabilities + μ × the per-token NLL of the preferred
answer (`train.losses.dfpo_loss`). TRL 1.16 computes exactly that with
`DPOConfig(loss_type=["sigmoid", "sft"], loss_weights=[1.0, mu])`; a test checks TRL's value
against `dfpo_loss` on the same batch. The reference model is the frozen SFT checkpoint (a
second copy of `model`, or `ref_model`), or, for LoRA runs, the adapter-disabled model.

Prompts and answers are rendered to text by the shared chat template before TRL sees them, so
DFPO trains on the same prompt text `pedgpt serve` produces.

    pedgpt train dfpo --config my-dfpo.yaml        # or: python -m train.dfpo my-dfpo.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

from pedgpt.chat_template import ChatTemplate
from pedgpt.errors import InputError
from train.common import (
    chat_template_for, finish_stage, load_causal_lm, model_dtype, peft_config, read_jsonl,
    stage_tokenizer, trainer_arguments, train_resumable,
)
from train.config import DFPOConfig, load_config


def render_pair(record: dict, template: ChatTemplate) -> dict:
    """{"prompt": [msgs], "chosen": [msg], "rejected": [msg]} → the same three as rendered text.

    The prompt ends with the generation prompt (what serving sends); each answer is the text the
    template adds after it, cut just after the end-of-turn token so TRL does not add another.
    """
    prompt = template.render(record["prompt"], add_generation_prompt=True)
    out = {"prompt": prompt}
    for key in ("chosen", "rejected"):
        full = template.render(list(record["prompt"]) + list(record[key]), add_generation_prompt=False)
        if not full.startswith(prompt):
            raise InputError("chat template renders the prompt differently with an answer; cannot build pairs")
        answer = full[len(prompt):]
        trimmed = answer.rstrip()
        out[key] = trimmed if template.eos_token and trimmed.endswith(template.eos_token) else answer
    return out


def preference_dataset(cfg: DFPOConfig, tokenizer):
    """The rendered pairs as a `datasets.Dataset` (what DPOTrainer takes)."""
    from datasets import Dataset

    template = chat_template_for(tokenizer)
    records = read_jsonl(cfg.data, cfg.limit, required=("prompt", "chosen", "rejected"))
    return Dataset.from_list([render_pair(record, template) for record in records])


def dfpo_arguments(cfg: DFPOConfig):
    """TRL `DPOConfig` for DFPO; every TrainingArguments default TRL overrides is set explicitly."""
    from trl import DPOConfig

    return DPOConfig(**trainer_arguments(cfg), beta=cfg.beta, loss_type=["sigmoid", "sft"],
                     loss_weights=[1.0, cfg.mu], max_length=cfg.max_length, disable_dropout=True,
                     precompute_ref_log_probs=False)


def build_trainer(cfg: DFPOConfig):
    """A ready DPOTrainer (policy, frozen reference, data) for this config."""
    from trl import DPOTrainer

    tokenizer = stage_tokenizer(cfg)
    args = dfpo_arguments(cfg)  # before the models: ZeRO-3 loads them sharded
    model = load_causal_lm(cfg.model, model_dtype(cfg))
    ref_model = None
    if cfg.lora is None:  # full-parameter: an explicit frozen copy of the SFT checkpoint
        ref_model = load_causal_lm(cfg.ref_model or cfg.model, model_dtype(cfg)).eval()
        ref_model.requires_grad_(False)
    return DPOTrainer(model=model, ref_model=ref_model, args=args, train_dataset=preference_dataset(cfg, tokenizer),
                      processing_class=tokenizer, peft_config=peft_config(cfg))


def run(cfg: DFPOConfig) -> Path:
    """Train and return the checkpoint folder (LoRA runs: adapter in OUT/adapter, merged in OUT)."""
    cfg.require_paths("dfpo")
    trainer = build_trainer(cfg)
    metrics = train_resumable(trainer, cfg)
    extra = {"beta": cfg.beta, "mu": cfg.mu, "pairs": len(trainer.train_dataset)}
    extra.update(_reward_summary(trainer.state.log_history))
    return finish_stage(trainer, cfg, "dfpo", metrics, extra=extra)


def _reward_summary(log_history: list[dict]) -> dict:
    """Last logged preference accuracy and margin (TRL's metric names)."""
    last = next((entry for entry in reversed(log_history) if "rewards/accuracies" in entry), {})
    return {k.replace("/", "_"): last[k] for k in ("rewards/accuracies", "rewards/margins") if k in last}


if __name__ == "__main__":
    print(run(load_config(sys.argv[1], DFPOConfig)))
