"""The whole recipe in one command: data build → CPT → SFT → DFPO → MoE-LoRA.

Each stage starts from the previous stage's checkpoint. A stage whose folder already holds a
finished checkpoint is skipped and an interrupted one resumes from its newest Trainer checkpoint,
so re-running the same command continues where it stopped. The output folder ends up as:

    OUT/data/            cpt.jsonl sft.jsonl dfpo.jsonl moe.jsonl (+ the builder's stats)
    OUT/base/            the starting model (a fresh tiny model, or a copy reference)
    OUT/cpt/ sft/ dfpo/  full checkpoints, each with README.md, metrics.json, loss_curve.png
                         (LoRA stages: + adapter/, the stage's adapter alone)
    OUT/moe/             the MoE-LoRA adapter (+ pedgpt_model.json)
    OUT/lora/            LoRA stages only: their adapters stacked into one over OUT/base
    OUT/final/           pedgpt_model.json {"base", "adapter", "adapter_type": "moe-lora"}
    OUT/pipeline.json    per-stage folders, losses and times

    pedgpt train pipeline --config train/recipes/tiny.yaml
    pedgpt serve --model runs/tiny/final
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from pedgpt.errors import InputError
from train import common
from train.config import STAGES, PipelineConfig, load_config

log = logging.getLogger("pedgpt.train")
DATA_FILES = {stage: f"{stage}.jsonl" for stage in STAGES}


def prepare_data(cfg: PipelineConfig, out: Path) -> Path:
    """The folder with the four JSONL files: the prebuilt one, or built now (once) under OUT/data."""
    if cfg.data.prebuilt:
        folder = Path(cfg.data.prebuilt)
    else:
        folder = out / "data"
        if not all((folder / DATA_FILES[s]).is_file() for s in cfg.stages):
            from train.data import DataBuildConfig, build

            options = dict(cfg.data.options)
            options.setdefault("limit", cfg.data.limit or None)
            folder = Path(build(DataBuildConfig(out_dir=str(folder), seed=cfg.data.seed, **options)))
    missing = [DATA_FILES[s] for s in cfg.stages if not (folder / DATA_FILES[s]).is_file()]
    if missing:
        raise InputError(f"data folder {folder} lacks {', '.join(missing)}")
    return folder


def prepare_base(cfg: PipelineConfig, out: Path) -> Path:
    """The starting model folder: built once (tiny random Qwen2) or the given/embedded one."""
    tokenizer_ref = cfg.base.tokenizer
    if cfg.base.init is None:
        if cfg.base.path == "embedded":
            return common.embedded_transformers_dir()
        return Path(cfg.base.path)
    folder = out / "base"
    if not (folder / "config.json").is_file():
        tokenizer = common.load_tokenizer(tokenizer_ref)
        common.build_tiny_model(cfg.base.init, tokenizer, folder, seed=cfg.cpt.training.seed)
    return folder


def on_main_rank(marker: Path, make, timeout_s: float = 6 * 3600) -> Path:
    """Run `make()` on global rank 0 only; other ranks (torchrun/deepspeed, `output_dir` on a shared
    filesystem) wait for its marker file and read the result from it."""
    if int(os.environ.get("RANK", "0")) == 0:
        result = Path(make())
        marker.write_text(json.dumps(str(result)), encoding="utf-8")
        return result
    deadline = time.monotonic() + timeout_s
    while not marker.is_file():
        if time.monotonic() > deadline:
            raise InputError(f"rank {os.environ.get('RANK')}: gave up waiting for {marker}")
        time.sleep(2)
    return Path(json.loads(marker.read_text(encoding="utf-8")))


def run_stage(stage: str, stage_cfg) -> Path:
    """Dispatch to the stage module's `run(config)`."""
    from importlib import import_module

    return Path(import_module(f"train.{stage}").run(stage_cfg))


def run(cfg: PipelineConfig) -> Path:
    """Run every configured stage; returns the folder to serve (OUT/final, or the last checkpoint)."""
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = on_main_rank(out / ".data_ready", lambda: prepare_data(cfg, out))
    previous = on_main_rank(out / ".base_ready", lambda: prepare_base(cfg, out))
    summary: dict = {"data": str(data), "base": str(previous), "stages": {}}
    for stage in cfg.stages:
        stage_cfg = getattr(cfg, stage)
        stage_cfg.model, stage_cfg.data = str(previous), str(data / DATA_FILES[stage])
        stage_cfg.output_dir = str(out / stage)
        started = time.perf_counter()
        skipped = common.stage_complete(stage_cfg.output_dir)
        if skipped:
            log.info("stage %s already complete in %s; skipping", stage, stage_cfg.output_dir)
            folder = Path(stage_cfg.output_dir)
        else:
            print(f"pedgpt train: stage {stage} → {stage_cfg.output_dir}", file=sys.stderr, flush=True)
            folder = run_stage(stage, stage_cfg)
        summary["stages"][stage] = {**_stage_summary(folder, time.perf_counter() - started), "skipped": skipped}
        if stage != "moe":  # the adapter stage does not produce a new base
            previous = folder
    lora = _stack_lora(cfg, out)
    if lora:
        summary["lora"] = str(lora)
    final = _finish(cfg, out, previous)
    summary["final"] = str(final)
    (out / "pipeline.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return final


def _stage_summary(folder: Path, seconds: float) -> dict:
    metrics = json.loads((folder / common.METRICS_NAME).read_text(encoding="utf-8"))
    keys = ("first_loss", "last_loss", "probe_loss_before", "probe_loss_after", "global_step", "wall_seconds")
    return {"folder": str(folder), "seconds_this_run": round(seconds, 1), **{k: metrics.get(k) for k in keys}}


def _stack_lora(cfg: PipelineConfig, out: Path) -> Path | None:
    """OUT/lora: the LoRA stages' adapters stacked into one adapter over the starting model
    (`pedgpt serve --model OUT/lora`; on a GGUF base this runs on the llama.cpp fast path)."""
    from train.lora_compose import compose_adapters, stage_adapters

    adapters = stage_adapters(out)
    if not adapters or int(os.environ.get("RANK", "0")) != 0:
        return None
    base = cfg.base.path if cfg.base.init is None else str((out / "base").resolve())
    return compose_adapters(adapters, out / "lora", base=base)


def _finish(cfg: PipelineConfig, out: Path, base: Path) -> Path:
    """OUT/final with the serving manifest when an adapter was trained; else the last checkpoint."""
    if "moe" not in cfg.stages:
        return base
    from train.moe import write_manifest

    final = out / "final"
    write_manifest(final, base=base, adapter=out / "moe")
    (final / "README.md").write_text(
        "# PedGPT — pipeline output\n\nServe with `pedgpt serve --model <this folder>`: the base model is "
        f"`{base.resolve()}` (the DFPO checkpoint) plus the MoE-LoRA adapter `{(out / 'moe').resolve()}`.\n"
        "See each stage folder's README.md for data, config and metrics.\n", encoding="utf-8")
    return final


if __name__ == "__main__":
    print(run(load_config(sys.argv[1], PipelineConfig)))
