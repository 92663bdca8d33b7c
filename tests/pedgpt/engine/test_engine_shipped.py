"""The models that ship inside the package: PedGPT-0.5B (the served default, its LoRA merged into
the GGUF on the fast path) and PedGPT-0.5B-MoE (transformers), with their manifests, model cards and size limit."""

from __future__ import annotations

import json

import pytest

from pedgpt.engine.loader import SHIPPED_DIR, describe_model, resolve_model, shipped_models

LORA, MOE = SHIPPED_DIR / "pedgpt-0.5b", SHIPPED_DIR / "pedgpt-0.5b-moe"
QUESTION = [{"role": "user", "content": "小儿急性喉炎的常见症状有哪些？"}]


def test_both_models_ship_within_the_size_limit_with_cards():
    assert shipped_models() == ["pedgpt-0.5b", "pedgpt-0.5b-moe"]
    total = sum(p.stat().st_size for folder in (LORA, MOE) for p in folder.iterdir())
    assert total <= 40e6
    lora_config = json.loads((LORA / "adapter_config.json").read_text())
    assert lora_config["base_model_name_or_path"] == "embedded" and lora_config["r"] == lora_config["lora_alpha"]
    assert sorted(lora_config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    stages = json.loads((LORA / "lora_stages.json").read_text())
    assert sum(stages["stage_ranks"]) == stages["rank"] == lora_config["r"]
    for folder, name in ((LORA, "PedGPT-0.5B"), (MOE, "PedGPT-0.5B-MoE")):
        manifest = json.loads((folder / "pedgpt_model.json").read_text())
        assert manifest["name"] == name and manifest["adapter"] == "."
        card = (folder / "README.md").read_text()
        for fact in ("pedcorpus-lite", "pedgpt-0.5b-cpu.yaml", "| sft |", "| dfpo |", "## Evaluation"):
            assert fact in card, (folder, fact)
    assert "| moe |" in (MOE / "README.md").read_text()


def test_names_resolve_to_the_shipped_folders(embedded_gguf):
    default = resolve_model(None)
    assert default.name == "PedGPT-0.5B" and default.embedded and default.adapter == str(LORA)
    assert resolve_model("base").adapter is None
    moe = resolve_model("pedgpt-0.5b-moe")
    assert moe.adapter == str(MOE) and moe.base_adapter == str(LORA)
    info = describe_model(None)
    assert info["backend"] == "llamacpp" and info["adapter_type"] == "lora"
    assert describe_model("pedgpt-0.5b-moe", device="cpu")["backend"] == "transformers"


@pytest.mark.model
def test_the_default_answers_differently_from_its_base(embedded_gguf):
    from pedgpt.engine import load_engine

    tuned = load_engine(None, n_threads=1)
    info = tuned.info()
    assert info["model"] == "PedGPT-0.5B" and info["adapter_mode"] == "merge"
    assert info["served_gguf"].endswith(".gguf") and info["served_gguf"] != info["path"]
    tuned_answer = tuned.generate(QUESTION, max_new_tokens=24, temperature=0.0)
    del tuned
    base_answer = load_engine("base", n_threads=1).generate(QUESTION, max_new_tokens=24, temperature=0.0)
    assert tuned_answer.strip() and tuned_answer != base_answer


@pytest.mark.model
def test_model_info_cli_names_model_and_adapter(embedded_gguf, capsys):
    from pedgpt.cli import main

    assert main(["model", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"] == "PedGPT-0.5B" and info["adapter"] == str(LORA)
    assert len(info["adapter_sha256"]) == 64 and info["available"] == ["pedgpt-0.5b", "pedgpt-0.5b-moe", "base"]
    assert info["adapter_mode"] == "merge"
    assert main(["model", "info", "--model", "base", "--json"]) == 0
    assert "adapter" not in json.loads(capsys.readouterr().out)


@pytest.mark.model
@pytest.mark.slow
def test_the_moe_variant_generates_through_transformers(embedded_gguf):
    from pedgpt.engine import load_engine

    engine = load_engine("pedgpt-0.5b-moe", device="cpu")
    info = engine.info()
    assert info["backend"] == "transformers" and info["base_adapter"] == str(LORA)
    assert info["model"] == "PedGPT-0.5B-MoE"
    assert engine.generate(QUESTION, max_new_tokens=8, temperature=0.0).strip()
