"""Stage 1 — continued pre-training with hybrid instruction pre-training.

`cpt.jsonl` holds plain knowledge passages and instruction pairs already rendered as completion
text (the data builder mixes them). Here every text gets the EOS token, all texts are concatenated
and cut into blocks of `max_length` tokens (packing: no padding, no wasted compute), and the loss
is the plain next-token NLL over every token.

    pedgpt train cpt --config my-cpt.yaml          # or: python -m train.cpt my-cpt.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm.auto import tqdm

from pedgpt.errors import InputError
from train.common import (
    finish_stage, load_causal_lm, model_dtype, read_jsonl, stage_tokenizer,
    trainer_arguments, train_resumable, with_lora,
)
from train.config import CPTConfig, load_config


def pack_texts(texts: list[str], tokenizer, block_size: int) -> list[dict]:
    """Tokenize, join with EOS and cut into full blocks: [{"input_ids", "attention_mask", "labels"}].

    The tail shorter than one block is dropped (standard packing); labels = input_ids because the
    loss covers every token (the model shifts them internally).
    """
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    stream: list[int] = []
    for text in tqdm(texts, desc="tokenizing", unit="text", leave=False):
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"] + eos)
    blocks = [stream[i: i + block_size] for i in range(0, len(stream) - block_size + 1, block_size)]
    if not blocks:
        raise InputError(f"the CPT text holds {len(stream)} tokens, less than one block of {block_size}")
    return [{"input_ids": b, "attention_mask": [1] * block_size, "labels": list(b)} for b in blocks]


def run(cfg: CPTConfig) -> Path:
    """Train and return the checkpoint folder."""
    from transformers import Trainer, TrainingArguments, default_data_collator

    cfg.require_paths("cpt")
    tokenizer = stage_tokenizer(cfg)
    texts = [str(record["text"]) for record in read_jsonl(cfg.data, cfg.limit, required=("text",))]
    blocks = pack_texts(texts, tokenizer, cfg.max_length)
    args = TrainingArguments(**trainer_arguments(cfg))  # before the model: ZeRO-3 loads it sharded
    model = with_lora(load_causal_lm(cfg.model, model_dtype(cfg)), cfg)
    trainer = Trainer(model=model, args=args, train_dataset=blocks,
                      data_collator=default_data_collator, processing_class=tokenizer)
    metrics = train_resumable(trainer, cfg)
    return finish_stage(trainer, cfg, "cpt", metrics, extra={"texts": len(texts), "blocks": len(blocks)})


if __name__ == "__main__":
    print(run(load_config(sys.argv[1], CPTConfig)))
