"""What every stage shares: data reading, tokenizer/model loading, TrainingArguments, checkpoints.

A stage module (`train/cpt.py`, ...) reads its data, builds a transformers/TRL trainer with
`trainer_arguments(...)`, trains with `train_resumable(...)` and closes with `finish_stage(...)`,
which saves the checkpoint next to a loss-curve PNG, `metrics.json` and a model card (README.md).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any, Iterable

import torch

from pedgpt.chat_template import ChatTemplate
from pedgpt.errors import BackendError, InputError, ModelError
from pedgpt.paths import cache_dir
from train.config import PRECISIONS, StageConfig, TinyModelConfig, to_dict

log = logging.getLogger("pedgpt.train")

METRICS_NAME = "metrics.json"
CURVE_NAME = "loss_curve.png"
CHECKPOINTS_SUBDIR = "checkpoints"
EMBEDDED_TOKENIZER = "qwen2.5-coder-0.5b-instruct"


# ---- data -----------------------------------------------------------------------------------------

def read_jsonl(path: str | Path, limit: int = 0, required: Iterable[str] = ()) -> list[dict]:
    """Records of a JSONL file (first `limit` when > 0); each must hold the `required` keys."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            missing = [key for key in required if key not in record]
            if missing:
                raise InputError(f"{path}:{number}: missing key(s) {', '.join(missing)}")
            records.append(record)
            if limit and len(records) >= limit:
                break
    if not records:
        raise InputError(f"{path}: no training records")
    return records


# ---- tokenizer, template, model -------------------------------------------------------------------

def load_tokenizer(path: str | Path):
    """A saved tokenizer, with a pad token (the EOS token when the model defines none)."""
    from transformers import AutoTokenizer

    if str(path) == "embedded":
        path = embedded_tokenizer_dir()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load a tokenizer from {path}: {str(exc).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def embedded_tokenizer_dir() -> Path:
    """The embedded model's tokenizer as a transformers folder, converted from the GGUF once and
    cached under PEDGPT_HOME/tokenizers/ (the conversion reads the 491 MB file, ~15 s)."""
    target = cache_dir("tokenizers") / EMBEDDED_TOKENIZER
    if (target / "tokenizer_config.json").is_file():
        return target
    from transformers import AutoTokenizer

    from pedgpt.engine.model_store import ensure_embedded_model

    gguf = Path(ensure_embedded_model())
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    tokenizer.save_pretrained(str(partial))
    partial.replace(target)  # atomic: a crash never leaves a half-written cache
    return target


def embedded_transformers_dir() -> Path:
    """The embedded GGUF de-quantised once into a transformers folder under PEDGPT_HOME/models-hf/
    (~35 s and ~2.5 GB in fp32 the first time), the starting point of the 0.5B recipe."""
    target = cache_dir("models-hf") / EMBEDDED_TOKENIZER
    if (target / "config.json").is_file():
        return target
    from pedgpt.engine.model_store import dequantized_copy, ensure_embedded_model

    staging = target.with_name(target.name + ".weights")
    dequantized_copy(Path(ensure_embedded_model()), staging)
    load_tokenizer(embedded_tokenizer_dir()).save_pretrained(str(staging))
    staging.replace(target)
    return target


def chat_template_for(tokenizer) -> ChatTemplate:
    """The model's own chat template, built exactly as the transformers serving backend builds it
    (`pedgpt.engine.templates.template_from_source`), so training and serving prompts are identical."""
    from pedgpt.engine.templates import template_from_source

    return template_from_source(getattr(tokenizer, "chat_template", None), tokenizer.bos_token or "",
                                tokenizer.eos_token or "")


def torch_dtype(name: str) -> torch.dtype:
    """"float32"/"bfloat16"/"float16" → torch dtype."""
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def load_causal_lm(path: str | Path, dtype: str = "float32", quantization=None):
    """A transformers causal LM from a folder or hub id."""
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype(dtype),
                                                    quantization_config=quantization)
    except OSError as exc:
        raise ModelError(f"cannot load a model from {path}: {str(exc).splitlines()[0]}") from None


def build_tiny_model(shape: TinyModelConfig, tokenizer, out_dir: str | Path, seed: int = 0) -> Path:
    """Write a randomly initialised Qwen2-architecture model (+ tokenizer) to `out_dir`."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=shape.hidden_size, intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers, num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads, max_position_embeddings=shape.max_position_embeddings,
        initializer_range=shape.initializer_range, tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    model = Qwen2ForCausalLM(config)
    out_dir = Path(out_dir)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return out_dir


def model_dtype(cfg: StageConfig) -> str:
    """Weights dtype to load: bf16 under DeepSpeed bf16 (it keeps fp32 master weights itself),
    else fp32 (mixed precision, if any, comes from autocast)."""
    return "bfloat16" if cfg.training.deepspeed and cfg.training.precision == "bf16" else "float32"


def stage_tokenizer(cfg: StageConfig):
    """The stage's tokenizer: `cfg.tokenizer` if given, else the one saved with the model."""
    return load_tokenizer(cfg.tokenizer or cfg.model)


# ---- trainer arguments, resume ---------------------------------------------------------------------

def trainer_arguments(cfg: StageConfig, **overrides: Any) -> dict:
    """Keyword arguments for `TrainingArguments` / TRL configs from a stage config."""
    train = cfg.training
    if train.precision != "fp32" and not _precision_available(train.precision):
        raise BackendError(f"precision {train.precision} is not available on this machine; use fp32")
    kwargs = dict(
        output_dir=str(Path(cfg.output_dir) / CHECKPOINTS_SUBDIR),
        learning_rate=train.learning_rate, num_train_epochs=train.num_train_epochs, max_steps=train.max_steps,
        per_device_train_batch_size=train.per_device_train_batch_size,
        gradient_accumulation_steps=train.gradient_accumulation_steps, warmup_steps=train.warmup_ratio,
        weight_decay=train.weight_decay, lr_scheduler_type=train.lr_scheduler_type,
        max_grad_norm=train.max_grad_norm, bf16=train.precision == "bf16", fp16=train.precision == "fp16",
        activation_checkpointing=train.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if train.gradient_checkpointing else None,
        deepspeed=train.deepspeed, logging_steps=train.logging_steps, save_steps=train.save_steps,
        save_total_limit=train.save_total_limit, per_device_eval_batch_size=train.per_device_train_batch_size,
        eval_strategy="no", seed=train.seed, data_seed=train.seed,
        report_to=[r for r in train.report_to if r != "none"] or "none",
        save_strategy="steps", logging_strategy="steps", remove_unused_columns=False,
        dataloader_num_workers=0, disable_tqdm=False,
        # bf16 autocast on a CPU (AVX-512-BF16) is only accepted with use_cpu set explicitly.
        use_cpu=not torch.cuda.is_available())
    kwargs.update(overrides)
    return kwargs


def _precision_available(precision: str) -> bool:
    if precision not in PRECISIONS:
        return False
    if torch.cuda.is_available():
        return precision != "bf16" or torch.cuda.is_bf16_supported()
    return precision == "bf16"  # CPU autocast supports bf16, not fp16


def last_checkpoint(cfg: StageConfig) -> str | None:
    """The newest resumable Trainer checkpoint of this stage (None to start fresh)."""
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(cfg.output_dir) / CHECKPOINTS_SUBDIR
    if not cfg.resume or not folder.is_dir():
        return None
    return get_last_checkpoint(str(folder))


def train_resumable(trainer, cfg: StageConfig) -> dict:
    """`trainer.train()`, resuming from the newest checkpoint; returns the train metrics.

    The loss on a fixed probe (the first two batches of training examples, at most 8, eval mode) is measured
    before and after: unlike single logged steps, which see different batches, the two values
    are comparable, so `probe_loss_after < probe_loss_before` shows the stage learned.
    """
    resume = last_checkpoint(cfg)
    if resume:
        log.info("resuming from %s", resume)
    probe = _probe(trainer.train_dataset, min(8, 2 * cfg.training.per_device_train_batch_size))
    before = trainer.evaluate(eval_dataset=probe, metric_key_prefix="probe")["probe_loss"]
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    metrics = dict(result.metrics)
    metrics["wall_seconds"] = round(time.perf_counter() - started, 2)
    metrics["probe_loss_before"] = round(float(before), 5)
    metrics["probe_loss_after"] = round(float(trainer.evaluate(eval_dataset=probe, metric_key_prefix="probe")
                                              ["probe_loss"]), 5)
    metrics["resumed_from"] = resume
    metrics["global_step"] = trainer.state.global_step
    return metrics


def _probe(dataset, size: int):
    count = min(size, len(dataset))
    return dataset.select(range(count)) if hasattr(dataset, "select") else list(dataset)[:count]


# ---- finishing a stage -----------------------------------------------------------------------------

def loss_history(log_history: list[dict], key: str = "loss") -> list[tuple[int, float]]:
    """(step, value) pairs of a logged quantity from `trainer.state.log_history`."""
    return [(int(entry["step"]), float(entry[key])) for entry in log_history if key in entry and "step" in entry]


def loss_summary(points: list[tuple[int, float]]) -> dict:
    """First/last loss, each averaged over up to 3 logged points (single steps are noisy)."""
    if not points:
        return {}
    window = max(1, min(3, len(points) // 3))
    first = sum(v for _, v in points[:window]) / window
    last = sum(v for _, v in points[-window:]) / window
    return {"first_loss": round(first, 5), "last_loss": round(last, 5), "logged_steps": len(points)}


def plot_loss(points: list[tuple[int, float]], path: Path, title: str) -> Path | None:
    """Save the training-loss curve as a PNG."""
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    axis.plot([s for s, _ in points], [v for _, v in points], marker="." if len(points) < 60 else None)
    axis.set(xlabel="optimizer step", ylabel="training loss", title=title)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def finish_stage(trainer, cfg: StageConfig, stage: str, metrics: dict, save_model: bool = True,
                 extra: dict | None = None) -> Path:
    """Save the final model + tokenizer, loss curve, metrics.json and model card; return the folder.
    A LoRA stage saves its adapter and the merged weights (`save_lora_stage`)."""
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if save_model and cfg.lora is not None:
        save_lora_stage(trainer, cfg)
    elif save_model:
        trainer.save_model(str(out))
    if trainer.processing_class is not None and trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out))
    if not trainer.is_world_process_zero():
        trainer.accelerator.wait_for_everyone()  # the next stage loads this folder: wait for rank 0
        return out
    points = loss_history(trainer.state.log_history)
    plot_loss(points, out / CURVE_NAME, f"PedGPT {stage.upper()} — training loss")
    record = {"stage": stage, "complete": True, **metrics, **loss_summary(points), **(extra or {}),
              "loss_curve": [[s, v] for s, v in points]}
    (out / METRICS_NAME).write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    write_model_card(out, stage, cfg, record)
    trainer.accelerator.wait_for_everyone()
    return out


ADAPTER_SUBDIR = "adapter"


def peft_config(cfg: StageConfig):
    """peft `LoraConfig` from the stage's `lora` settings (None for a full-parameter stage)."""
    if cfg.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM")


def with_lora(model, cfg: StageConfig):
    """`model` wrapped in a trainable LoRA adapter when the stage has `lora` settings."""
    config = peft_config(cfg)
    if config is None:
        return model
    from peft import get_peft_model

    return get_peft_model(model, config)


def save_lora_stage(trainer, cfg: StageConfig) -> None:
    """A LoRA stage's outputs: the adapter alone (OUT/adapter, what `train.lora_compose` stacks)
    and the base with it merged (OUT, what the next stage loads)."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if not trainer.is_world_process_zero():
        return
    out = Path(cfg.output_dir)
    model.save_pretrained(str(out / ADAPTER_SUBDIR))
    model.merge_and_unload().save_pretrained(str(out))


def stage_complete(directory: str | Path) -> bool:
    """True when a stage finished writing its checkpoint here (used to skip it on re-runs)."""
    path = Path(directory) / METRICS_NAME
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("complete"))
    except (OSError, ValueError):
        return False


def write_model_card(directory: Path, stage: str, cfg: StageConfig, record: dict) -> Path:
    """README.md next to the checkpoint: stage, data, config and metrics."""
    import yaml

    summary = {k: record[k] for k in ("first_loss", "last_loss", "probe_loss_before", "probe_loss_after",
                                      "train_runtime", "global_step", "wall_seconds") if k in record}
    data = Path(cfg.data)
    card = [
        "---", "library_name: transformers", f"base_model: {cfg.model}",
        f"tags: [pedgpt, pediatrics, {stage}]", "license: mit", "---", "",
        f"# PedGPT — {STAGE_TITLES.get(stage, stage)} checkpoint", "",
        "Produced by `pedgpt train` (the PediatricsGPT recipe). For research and clinician testing "
        "only; answers need a clinician's judgment.", "",
        "## Data", "", f"- file: `{data}` ({_count_lines(data)} records; limit {cfg.limit or 'none'})", "",
        "## Metrics", "", *[f"- {k}: {v}" for k, v in summary.items()], "",
        f"![training loss]({CURVE_NAME})", "",
        "## Config", "", "```yaml", yaml.safe_dump(to_dict(cfg), allow_unicode=True, sort_keys=False).rstrip(),
        "```", "",
    ]
    path = directory / "README.md"
    path.write_text("\n".join(card), encoding="utf-8")
    return path


STAGE_TITLES = {
    "cpt": "continued pre-training (hybrid instruction)", "sft": "full-parameter SFT",
    "dfpo": "DFPO (direct following preference optimisation)", "moe": "MoE-LoRA secondary SFT",
}


def _count_lines(path: Path) -> int:
    try:
        with open(path, encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0
