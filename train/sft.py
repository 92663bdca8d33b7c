"""Stage 2 — full-parameter supervised fine-tuning, loss on every assistant turn only.

Each conversation goes through the shared chat template (`pedgpt.chat_template`): the model's
own template renders it, `render_segments` marks the assistant replies, `tokenize_segments` turns
them into ids + labels with -100 on everything else. The prompt part is therefore byte-identical
to what `pedgpt serve` sends the model.

    pedgpt train sft --config my-sft.yaml          # or: python -m train.sft my-sft.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm.auto import tqdm

from pedgpt.chat_template import ChatTemplate, tokenize_segments
from pedgpt.errors import InputError
from train.common import (
    chat_template_for, finish_stage, load_causal_lm, model_dtype, read_jsonl,
    stage_tokenizer, trainer_arguments, train_resumable, with_lora,
)
from train.config import SFTConfig, load_config
from train.losses import IGNORE_INDEX


def encode_conversation(messages: list[dict], template: ChatTemplate, tokenizer, max_length: int) -> dict | None:
    """One conversation → {"input_ids", "attention_mask", "labels"}; None when nothing is trainable.

    Truncation keeps the start (the question) and cuts the tail, like serving's context limit.
    """
    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    ids, labels = tokenize_segments(template.render_segments(messages), encode, IGNORE_INDEX)
    ids, labels = ids[:max_length], labels[:max_length]
    if all(label == IGNORE_INDEX for label in labels[1:]):
        return None
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def encode_records(records: list[dict], tokenizer, max_length: int, desc: str = "tokenizing") -> list[dict]:
    """Conversations (`messages`) → encoded examples; extra record keys (e.g. `task`) are kept."""
    template = chat_template_for(tokenizer)
    examples = []
    for record in tqdm(records, desc=desc, unit="conv", leave=False):
        encoded = encode_conversation(record["messages"], template, tokenizer, max_length)
        if encoded is not None:
            encoded.update({k: v for k, v in record.items() if k != "messages"})
            examples.append(encoded)
    if not examples:
        raise InputError(f"no conversation has an assistant reply within max_length={max_length} tokens")
    return examples


def padding_collator(tokenizer):
    """Pads input_ids with the pad token and labels with -100 (transformers' seq2seq collator)."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX, return_tensors="pt")


def run(cfg: SFTConfig) -> Path:
    """Train and return the checkpoint folder."""
    from transformers import Trainer, TrainingArguments

    cfg.require_paths("sft")
    tokenizer = stage_tokenizer(cfg)
    records = read_jsonl(cfg.data, cfg.limit, required=("messages",))
    examples = [{k: e[k] for k in ("input_ids", "attention_mask", "labels")}
                for e in encode_records(records, tokenizer, cfg.max_length)]
    args = TrainingArguments(**trainer_arguments(cfg))  # before the model: ZeRO-3 loads it sharded
    model = with_lora(load_causal_lm(cfg.model, model_dtype(cfg)), cfg)
    trainer = Trainer(model=model, args=args, train_dataset=examples,
                      data_collator=padding_collator(tokenizer), processing_class=tokenizer)
    metrics = train_resumable(trainer, cfg)
    return finish_stage(trainer, cfg, "sft", metrics, extra={"examples": len(examples)})


if __name__ == "__main__":
    print(run(load_config(sys.argv[1], SFTConfig)))
