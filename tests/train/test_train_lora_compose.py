"""Stage adapters stacked into one LoRA give the same model as merging them one after another."""

from __future__ import annotations

import json

import pytest
import torch

from pedgpt.errors import InputError
from train.lora_compose import compose_adapters, stage_adapters
from train.ship import main as ship_main


def _random_adapter(model_dir, out, seed, rank, alpha, base_override=None):
    """A PEFT adapter with non-zero A and B (a fresh one has B = 0) on `base_override` or the
    model in `model_dir`; returns the model with the adapter merged."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = base_override or AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    torch.manual_seed(seed)
    peft_model = get_peft_model(base, LoraConfig(r=rank, lora_alpha=alpha, target_modules=["q_proj", "v_proj"],
                                                 task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.normal_(0, 0.3)
    peft_model.save_pretrained(str(out))
    return peft_model.merge_and_unload()


def test_stacked_adapter_equals_sequential_merges(train_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    first = _random_adapter(train_model_dir, tmp_path / "cpt" / "adapter", seed=1, rank=2, alpha=4)
    both = _random_adapter(train_model_dir, tmp_path / "sft" / "adapter", seed=2, rank=4, alpha=4,
                           base_override=first)
    out = compose_adapters(stage_adapters(tmp_path), tmp_path / "stacked", base=str(train_model_dir),
                           dtype=torch.float32)
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == 6 and config["lora_alpha"] == 6
    assert json.loads((out / "lora_stages.json").read_text())["stage_ranks"] == [2, 4]
    base = AutoModelForCausalLM.from_pretrained(str(train_model_dir), dtype=torch.float32)
    stacked = PeftModel.from_pretrained(base, str(out)).merge_and_unload()
    ids = torch.tensor([[1, 5, 9, 12, 40, 7]])
    with torch.no_grad():
        expected, got = both(ids).logits, stacked(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(str(train_model_dir), dtype=torch.float32)(ids).logits
    assert not torch.allclose(expected, plain, atol=1e-3)  # the adapters do change the model
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_mismatched_targets_and_empty_runs_are_refused(train_model_dir, tmp_path, capsys):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    _random_adapter(train_model_dir, tmp_path / "cpt" / "adapter", seed=1, rank=2, alpha=4)
    other = get_peft_model(AutoModelForCausalLM.from_pretrained(str(train_model_dir)),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["k_proj"], task_type="CAUSAL_LM"))
    other.save_pretrained(str(tmp_path / "sft" / "adapter"))
    with pytest.raises(InputError, match="not adapted by every stage"):
        compose_adapters(stage_adapters(tmp_path), tmp_path / "out", base="embedded")
    with pytest.raises(InputError, match="no LoRA adapters"):
        compose_adapters([], tmp_path / "out", base="embedded")
    assert ship_main([str(tmp_path / "nothing-here"), "--recipe", "x.yaml", "--out", str(tmp_path / "o")]) == 2
    assert "holds no LoRA stage adapters" in capsys.readouterr().err


def test_ship_writes_both_models_with_manifests_and_cards(train_model_dir, tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from train.moe_lora import inject_moe_lora, save_moe_adapter
    from train.ship import ship

    run = tmp_path / "run"
    merged = _random_adapter(train_model_dir, run / "cpt" / "adapter", seed=1, rank=2, alpha=4)
    _random_adapter(train_model_dir, run / "sft" / "adapter", seed=2, rank=4, alpha=8, base_override=merged)
    for stage, loss in (("cpt", 3.0), ("sft", 1.0)):
        (run / stage / "metrics.json").write_text(json.dumps({"complete": True, "first_loss": loss + 1,
                                                              "last_loss": loss, "global_step": 5}))
    moe_model = AutoModelForCausalLM.from_pretrained(str(train_model_dir))
    inject_moe_lora(moe_model, ["up_proj"], r=2, alpha=4, num_specific=2)
    save_moe_adapter(moe_model, run / "moe")
    (run / "data").mkdir()
    (run / "data" / "manifest.json").write_text(json.dumps({"data_version": "pedcorpus-lite/1", "seed": 0}))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("sft:\n  training: {seed: 7}\n")
    lora, moe = ship(run, recipe, out_root=tmp_path / "models")
    assert json.loads((lora / "pedgpt_model.json").read_text()) == {
        "name": "PedGPT-0.5B", "base": "embedded", "adapter": ".", "adapter_type": "lora"}
    assert json.loads((moe / "pedgpt_model.json").read_text())["base"] == "../pedgpt-0.5b"
    assert json.loads((lora / "adapter_config.json").read_text())["r"] == 6
    assert all(t.dtype == torch.bfloat16 for t in load_file(str(moe / "moe_lora_adapter.safetensors")).values())
    card = (lora / "README.md").read_text()
    assert "pedcorpus-lite/1" in card and "rank-6" in card and "{'sft': 7}" in card and "| sft | 5 |" in card
    assert "recipe.yaml" in card and "| moe |" not in card
    # After a new evaluation: --cards-only rewrites the cards and leaves the weights alone.
    weights = (lora / "adapter_model.safetensors").read_bytes()
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"language consistency %": "97.86 → 100.0"}))
    assert ship_main([str(run), "--recipe", str(recipe), "--out", str(tmp_path / "models"),
                      "--eval", str(summary), "--cards-only"]) == 0
    assert "- language consistency %: 97.86 → 100.0" in (lora / "README.md").read_text()
    assert "97.86 → 100.0" in (moe / "README.md").read_text()
    assert (lora / "adapter_model.safetensors").read_bytes() == weights
    assert ship_main([str(run), "--recipe", str(recipe), "--out", str(tmp_path / "empty"), "--cards-only"]) == 2
