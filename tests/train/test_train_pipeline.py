"""The tiny recipe end to end, exactly as a user runs it: data build → CPT → SFT → DFPO → MoE-LoRA,
then the output served through `load_engine`. Runs in CI (marked slow: ~2–3 minutes on 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pedgpt.cli import main

RECIPE = Path(__file__).resolve().parents[2] / "train" / "recipes" / "tiny.yaml"
STAGES = ("cpt", "sft", "dfpo", "moe")


@pytest.mark.slow
def test_tiny_pipeline_trains_every_stage_and_serves(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "pipeline", "--config", str(RECIPE), "--output-dir", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    final = Path(result["output"])
    assert final == (out / "final").resolve()

    for name in ("cpt.jsonl", "sft.jsonl", "dfpo.jsonl", "moe.jsonl"):
        assert (out / "data" / name).stat().st_size > 0
    for stage in STAGES:
        metrics = json.loads((out / stage / "metrics.json").read_text())
        assert metrics["complete"] and metrics["global_step"] > 0
        assert metrics["probe_loss_after"] < metrics["probe_loss_before"], (stage, metrics)
        assert (out / stage / "README.md").is_file() and (out / stage / "loss_curve.png").is_file()
    for stage in ("cpt", "sft", "dfpo"):
        assert (out / stage / "model.safetensors").is_file()
    assert (out / "moe" / "moe_lora_adapter.safetensors").is_file()

    manifest = json.loads((final / "pedgpt_model.json").read_text())
    assert manifest["adapter_type"] == "moe-lora"
    assert Path(manifest["base"]) == (out / "dfpo").resolve() and Path(manifest["adapter"]) == (out / "moe").resolve()

    from pedgpt.engine import load_engine

    engine = load_engine(model=str(final), backend="transformers")
    assert engine.info()["backend"] == "transformers"
    text = engine.generate([{"role": "user", "content": "孩子发烧38.5度怎么办？"}], max_new_tokens=8)
    assert isinstance(text, str) and engine.last_stats.completion_tokens > 0

    # Re-running the same command skips every finished stage (resumable pipeline).
    assert main(["train", "pipeline", "--config", str(RECIPE), "--output-dir", str(out)]) == 0
    summary = json.loads((out / "pipeline.json").read_text())
    assert all(summary["stages"][s]["skipped"] for s in STAGES)
