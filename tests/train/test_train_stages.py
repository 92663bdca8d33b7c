"""Each stage on a 2-layer random Qwen2 model: it trains (loss falls), checkpoints and documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from train.common import load_causal_lm, load_tokenizer, stage_complete
from train.config import CPTConfig, DFPOConfig, LoraSettings, MoEConfig, SFTConfig, TrainingConfig


def _training(steps: int, lr: float = 5e-3, batch: int = 4) -> TrainingConfig:
    return TrainingConfig(learning_rate=lr, max_steps=steps, per_device_train_batch_size=batch,
                          warmup_ratio=0.0, lr_scheduler_type="constant", save_steps=1000)


def _check_stage_folder(folder: Path, stage: str) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["stage"] == stage and metrics["complete"] is True and stage_complete(folder)
    assert metrics["probe_loss_after"] < metrics["probe_loss_before"], metrics
    assert len(metrics["loss_curve"]) == metrics["logged_steps"] >= 2
    assert (folder / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = (folder / "README.md").read_text()
    assert f"tags: [pedgpt, pediatrics, {stage}]" in card and "## Config" in card and "first_loss" in card
    assert (folder / "tokenizer_config.json").is_file()
    return metrics


def test_cpt_packs_and_trains(train_model_dir, corpus_dir, tmp_path):
    from train import cpt

    cfg = CPTConfig(model=str(train_model_dir), data=str(corpus_dir / "cpt.jsonl"), output_dir=str(tmp_path / "cpt"),
                    max_length=32, training=_training(8))
    folder = cpt.run(cfg)
    metrics = _check_stage_folder(folder, "cpt")
    assert metrics["blocks"] >= 4 and (folder / "model.safetensors").is_file()
    before, after = load_causal_lm(train_model_dir), load_causal_lm(folder)
    assert not torch.equal(before.model.layers[0].mlp.up_proj.weight, after.model.layers[0].mlp.up_proj.weight)


def test_pack_texts_makes_full_blocks_with_eos(train_tokenizer_dir):
    from train.cpt import pack_texts

    tokenizer = load_tokenizer(train_tokenizer_dir)
    blocks = pack_texts(["孩子发烧", "小儿腹泻要注意什么？"] * 5, tokenizer, block_size=8)
    assert blocks and all(len(b["input_ids"]) == 8 and b["labels"] == b["input_ids"] for b in blocks)
    assert tokenizer.eos_token_id in sum((b["input_ids"] for b in blocks), [])


def test_sft_labels_only_assistant_turns(train_tokenizer_dir):
    from train.common import chat_template_for
    from train.sft import encode_conversation

    tokenizer = load_tokenizer(train_tokenizer_dir)
    template = chat_template_for(tokenizer)
    messages = [{"role": "user", "content": "孩子发烧怎么办？"}, {"role": "assistant", "content": "先物理降温。"},
                {"role": "user", "content": "要吃药吗？"}, {"role": "assistant", "content": "遵医嘱。"}]
    example = encode_conversation(messages, template, tokenizer, max_length=512)
    full = tokenizer(template.render(messages, add_generation_prompt=False), add_special_tokens=False)["input_ids"]
    assert example["input_ids"] == full  # training text is the serving rendering
    target = tokenizer.decode([t for t, l in zip(example["input_ids"], example["labels"]) if l != -100])
    assert "先物理降温。" in target and "遵医嘱。" in target
    assert "孩子发烧" not in target and "要吃药吗" not in target and "<|im_start|>" not in target
    prompt = template.render(messages[:1], add_generation_prompt=True)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert example["input_ids"][: len(prompt_ids)] == prompt_ids  # the served prompt is a prefix
    assert all(l == -100 for l in example["labels"][: len(prompt_ids)])


def test_sft_trains(train_model_dir, corpus_dir, tmp_path):
    from train import sft

    cfg = SFTConfig(model=str(train_model_dir), data=str(corpus_dir / "sft.jsonl"), output_dir=str(tmp_path / "sft"),
                    max_length=96, training=_training(6))
    _check_stage_folder(sft.run(cfg), "sft")


def test_sft_resumes_from_last_checkpoint(train_model_dir, corpus_dir, tmp_path):
    from train import sft

    out = tmp_path / "sft"
    training = _training(4)
    training.save_steps = 2
    cfg = SFTConfig(model=str(train_model_dir), data=str(corpus_dir / "sft.jsonl"), output_dir=str(out),
                    max_length=96, training=training)
    sft.run(cfg)
    cfg.training.max_steps = 6
    sft.run(cfg)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from"].endswith("checkpoint-4") and metrics["global_step"] == 6


def test_dfpo_trains_full_and_lora(train_model_dir, corpus_dir, tmp_path):
    from train import dfpo

    for name, lora in (("full", None), ("lora", LoraSettings(r=4, alpha=8))):
        cfg = DFPOConfig(model=str(train_model_dir), data=str(corpus_dir / "dfpo.jsonl"),
                         output_dir=str(tmp_path / name), max_length=96, beta=0.1, mu=1.0, lora=lora,
                         training=_training(4, lr=5e-3 if lora is None else 2e-2, batch=3))
        folder = dfpo.run(cfg)
        metrics = _check_stage_folder(folder, "dfpo")
        assert metrics["mu"] == 1.0 and (folder / "model.safetensors").is_file()
        assert not (folder / "adapter_config.json").exists()  # LoRA is merged into plain weights
        if lora is not None:
            assert (folder / "adapter" / "adapter_model.safetensors").is_file()  # and kept alone


def test_lora_cpt_then_sft_stack_into_one_adapter(train_model_dir, corpus_dir, tmp_path):
    """CPT and SFT as LoRA stages: each saves its adapter and the merged model the next stage
    starts from; the stacked adapter over the starting model reproduces the final weights."""
    from peft import PeftModel

    from train import cpt, sft
    from train.lora_compose import compose_adapters, stage_adapters

    lora = LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"])
    first = cpt.run(CPTConfig(model=str(train_model_dir), data=str(corpus_dir / "cpt.jsonl"), lora=lora,
                              output_dir=str(tmp_path / "cpt"), max_length=32, training=_training(6, lr=3e-2)))
    _check_stage_folder(first, "cpt")
    second = sft.run(SFTConfig(model=str(first), data=str(corpus_dir / "sft.jsonl"), lora=lora,
                               output_dir=str(tmp_path / "sft"), max_length=96, training=_training(6, lr=3e-2)))
    _check_stage_folder(second, "sft")
    base, final = load_causal_lm(train_model_dir), load_causal_lm(second)
    assert torch.equal(base.model.layers[0].mlp.up_proj.weight, final.model.layers[0].mlp.up_proj.weight)
    assert not torch.equal(base.model.layers[0].self_attn.q_proj.weight, final.model.layers[0].self_attn.q_proj.weight)
    stacked = compose_adapters(stage_adapters(tmp_path), tmp_path / "stacked", base=str(train_model_dir),
                               dtype=torch.float32)
    rebuilt = PeftModel.from_pretrained(load_causal_lm(train_model_dir), str(stacked)).merge_and_unload()
    for name in ("q_proj", "v_proj"):
        torch.testing.assert_close(getattr(rebuilt.model.layers[1].self_attn, name).weight,
                                   getattr(final.model.layers[1].self_attn, name).weight, atol=1e-5, rtol=1e-4)


def test_dfpo_pairs_use_the_serving_prompt(train_tokenizer_dir):
    from train.common import chat_template_for
    from train.dfpo import render_pair

    template = chat_template_for(load_tokenizer(train_tokenizer_dir))
    record = {"prompt": [{"role": "user", "content": "发烧？"}], "chosen": [{"role": "assistant", "content": "好"}],
              "rejected": [{"role": "assistant", "content": "坏"}]}
    pair = render_pair(record, template)
    assert pair["prompt"] == template.render(record["prompt"], add_generation_prompt=True)
    assert pair["chosen"] == "好<|im_end|>" and pair["rejected"] == "坏<|im_end|>"


def test_moe_trains_adapter_only_and_writes_manifest(train_model_dir, corpus_dir, tmp_path):
    from train import moe
    from train.moe_lora import load_moe_adapter, moe_modules

    cfg = MoEConfig(model=str(train_model_dir), data=str(corpus_dir / "moe.jsonl"), output_dir=str(tmp_path / "moe"),
                    max_length=96, r=4, alpha=8, num_specific=3, aux_loss_weight=0.01,
                    training=_training(6, lr=2e-2))
    folder = moe.run(cfg)
    metrics = _check_stage_folder(folder, "moe")
    assert not (folder / "model.safetensors").exists()  # only the adapter is saved
    assert 0 < metrics["trainable_percent"] < 100
    stats = json.loads((folder / "router_stats.json").read_text())
    assert set(stats) == {"kqa", "diag", "treat"}
    assert all(abs(sum(v["mean_gates"]) - 1) < 1e-3 for v in stats.values())
    manifest = json.loads((folder / "pedgpt_model.json").read_text())
    assert manifest["adapter_type"] == "moe-lora" and Path(manifest["base"]) == Path(train_model_dir).resolve()
    model = load_moe_adapter(load_causal_lm(train_model_dir), folder)
    layers = moe_modules(model)
    assert layers and any(m.lora_B.abs().sum() > 0 for m in layers.values())


def test_moe_qlora_needs_cuda(train_model_dir, corpus_dir, tmp_path, monkeypatch):
    from pedgpt.errors import BackendError
    from train import moe

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = MoEConfig(model=str(train_model_dir), data=str(corpus_dir / "moe.jsonl"),
                    output_dir=str(tmp_path / "q"), qlora=True)
    with pytest.raises(BackendError, match="CUDA"):
        moe.build_model(cfg)
