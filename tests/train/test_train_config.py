"""YAML recipes → typed configs: every shipped recipe loads; bad input fails with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pedgpt.cli import main
from pedgpt.errors import InputError
from train.config import (
    DEEPSPEED_DIR, CPTConfig, DFPOConfig, MoEConfig, PipelineConfig, SFTConfig, TrainingConfig, load_config,
    resolve_deepspeed,
)

RECIPES = Path(__file__).resolve().parents[2] / "train" / "recipes"


@pytest.mark.parametrize("name", ["tiny.yaml", "qwen0.5b-cpu-lora.yaml", "7b-zero3.yaml", "13b-zero3.yaml"])
def test_shipped_recipes_load(name):
    cfg = load_config(RECIPES / name, PipelineConfig)
    assert cfg.stages == ["cpt", "sft", "dfpo", "moe"]
    assert cfg.dfpo.beta > 0 and cfg.moe.num_specific >= 1


def test_single_stage_recipe_loads():
    cfg = load_config(RECIPES / "stage-sft.yaml", SFTConfig)
    assert cfg.model == "runs/tiny/cpt" and cfg.training.max_steps == 20


def test_gpu_recipes_use_zero3_bf16_and_checkpointing():
    for name in ("7b-zero3.yaml", "13b-zero3.yaml"):
        cfg = load_config(RECIPES / name, PipelineConfig)
        for stage in (cfg.cpt, cfg.sft, cfg.dfpo):
            assert Path(stage.training.deepspeed) == (DEEPSPEED_DIR / "zero3.json").resolve()
            assert stage.training.precision == "bf16" and stage.training.gradient_checkpointing


def test_deepspeed_configs_are_valid_json_with_auto_batch():
    for name in ("zero2", "zero3", "zero3_offload"):
        config = json.loads(resolve_deepspeed(name).read_text())
        assert config["train_micro_batch_size_per_gpu"] == "auto"
        assert config["zero_optimization"]["stage"] == (2 if name == "zero2" else 3)
    offload = json.loads(resolve_deepspeed("zero3_offload").read_text())["zero_optimization"]
    assert offload["offload_optimizer"]["device"] == "cpu" and offload["offload_param"]["device"] == "cpu"


def test_yaml_numbers_given_as_text_are_read(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: m\ndata: d\noutput_dir: o\nbeta: 0.2\nmu: 5e-1\ntraining: {learning_rate: 2e-5}\n")
    cfg = load_config(recipe, DFPOConfig)
    assert cfg.mu == 0.5 and cfg.training.learning_rate == 2e-5 and cfg.beta == 0.2


@pytest.mark.parametrize("text, message", [
    ("bogus: 1\n", "unknown key"),
    ("training: {learning_rate: -1}\n", "learning_rate"),
    ("training: {per_device_train_batch_size: two}\n", "expected a number"),
    ("num_specific: 0\n", "num_specific"),
    ("qlora: maybe\n", "true/false"),
    ("max_length: 2.5\n", "whole number"),
    ("training: {deepspeed: zero9}\n", "DeepSpeed config"),
])
def test_bad_values_raise_one_clear_input_error(tmp_path, text, message):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(recipe, MoEConfig)


def test_pipeline_validation(tmp_path):
    recipe = tmp_path / "p.yaml"
    recipe.write_text("output_dir: o\nbase: {init: {}}\nstages: [sft, cpt]\n")
    with pytest.raises(InputError, match="in order"):
        load_config(recipe, PipelineConfig)
    recipe.write_text("output_dir: o\nbase: {path: x, init: {}}\n")
    with pytest.raises(InputError, match="exactly one"):
        load_config(recipe, PipelineConfig)


def test_stage_without_paths_is_refused():
    with pytest.raises(InputError, match="'model' is required"):
        SFTConfig().require_paths("sft")
    with pytest.raises(InputError, match="does not exist"):
        CPTConfig(model="m", data="/nonexistent.jsonl", output_dir="o").require_paths("cpt")


def test_training_precision_is_validated():
    with pytest.raises(InputError):
        TrainingConfig(precision="fp8")


def test_cli_train_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "sft", "--config", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pedgpt: error:") and "does not exist" in err and "\n" not in err
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: m\noutput_dir: o\n")
    assert main(["train", "sft", "--config", str(recipe)]) == 2
    assert "'data' is required" in capsys.readouterr().err


def test_cli_train_runs_a_stage_and_prints_json(train_model_dir, corpus_dir, tmp_path, capsys):
    recipe = tmp_path / "sft.yaml"
    recipe.write_text(f"model: {train_model_dir}\ndata: {corpus_dir / 'sft.jsonl'}\noutput_dir: {tmp_path / 'x'}\n"
                      "max_length: 64\ntraining: {max_steps: 2, learning_rate: 1e-3, per_device_train_batch_size: 2}\n")
    assert main(["train", "sft", "--config", str(recipe), "--output-dir", str(tmp_path / "y"), "--json"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1  # exactly one JSON object, training logs go to stderr
    result = json.loads(out)
    assert result["stage"] == "sft" and result["output"] == str((tmp_path / "y").resolve())
    assert result["global_step"] == 2


def test_deepspeed_auto_values_come_from_the_recipe(tmp_path):
    """TrainingArguments built from a ZeRO-3 recipe fill DeepSpeed's "auto" fields (in a
    subprocess: a live DeepSpeed config is process-global state in transformers)."""
    import subprocess
    import sys

    script = (
        "from transformers import TrainingArguments\n"
        "from train.common import trainer_arguments\n"
        "from train.config import SFTConfig, TrainingConfig\n"
        f"cfg = SFTConfig(output_dir={str(tmp_path)!r}, training=TrainingConfig(deepspeed='zero3',\n"
        "    per_device_train_batch_size=3, gradient_accumulation_steps=5, max_grad_norm=0.5))\n"
        "c = TrainingArguments(**trainer_arguments(cfg)).hf_deepspeed_config.config\n"
        "print(c['zero_optimization']['stage'], c['train_micro_batch_size_per_gpu'],\n"
        "      c['gradient_accumulation_steps'], c['gradient_clipping'])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-4:] == ["3", "3", "5", "0.5"]


@pytest.mark.parametrize("name", ["pedgpt-0.5b-cpu.yaml", "experiments/pedgpt-0.5b-cpu-sft-mix.yaml",
                                  "experiments/pedgpt-0.5b-cpu-bare.yaml"])
def test_pedgpt_recipes_load_and_their_data_options_are_valid(name, tmp_path):
    from train.data.config import DataBuildConfig

    cfg = load_config(RECIPES / name, PipelineConfig)
    assert cfg.stages[:3] == ["cpt", "sft", "dfpo"] and cfg.base.path == "embedded"
    data = DataBuildConfig(out_dir=tmp_path, seed=cfg.data.seed, **cfg.data.options)
    if cfg.data.options:  # safety is a tenth of the SFT slice
        assert data.sft_task_mix["safety"] == pytest.approx(0.1) and data.dose_request_share == 0.5
    # what ships is trained on the system message the app sends
    assert (data.system_prompt == "task") == (name == "pedgpt-0.5b-cpu.yaml")
    # what ships puts more English needless-refusal pairs at the head of DFPO's data (issue 10)
    assert (data.dfpo_kind_weights.get("needless_refusal/en", 1.0) > 1.0) == (name == "pedgpt-0.5b-cpu.yaml")
