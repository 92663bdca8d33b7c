"""Typed, validated configurations for every training stage and the pipeline.

A recipe is a YAML file under `train/recipes/`; `load_config(path, CPTConfig)` (or `SFTConfig`,
`DFPOConfig`, `MoEConfig`, `PipelineConfig`) reads it into these dataclasses, rejecting unknown
keys and out-of-range values with one clear `InputError` line. Values the PediatricsGPT paper does
not publish (the CPT mixing ratio, μ, learning rates) have documented defaults here.

    from train.config import load_config, SFTConfig
    cfg = load_config("train/recipes/my-sft.yaml", SFTConfig)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pedgpt.errors import InputError

#: Where `deepspeed: zero3` style short names are looked up.
DEEPSPEED_DIR = Path(__file__).resolve().parent / "deepspeed"
STAGES = ("cpt", "sft", "dfpo", "moe")
PRECISIONS = ("fp32", "bf16", "fp16")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


@dataclass
class TrainingConfig:
    """Optimisation settings shared by every stage (mapped onto transformers `TrainingArguments`)."""

    learning_rate: float = 2e-5
    """Peak learning rate of AdamW."""
    num_train_epochs: float = 1.0
    """Passes over the data (ignored when `max_steps` > 0)."""
    max_steps: int = -1
    """Optimizer steps to run; -1 = derive from `num_train_epochs`."""
    per_device_train_batch_size: int = 4
    """Sequences (DFPO: preference pairs) per device per micro-step."""
    gradient_accumulation_steps: int = 1
    """Micro-steps per optimizer step."""
    warmup_ratio: float = 0.03
    """Fraction of steps with linear warm-up."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    lr_scheduler_type: str = "cosine"
    """Any transformers scheduler name ("cosine", "linear", "constant", ...)."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    precision: str = "fp32"
    """"fp32", "bf16" (Ampere+ GPUs; also fast on AVX-512-BF16 CPUs) or "fp16"."""
    gradient_checkpointing: bool = False
    """Recompute activations in backward to save memory (non-reentrant)."""
    deepspeed: str | None = None
    """DeepSpeed JSON: a path, or a short name from train/deepspeed/ ("zero2", "zero3", "zero3_offload")."""
    logging_steps: int = 1
    """Log the training loss every N optimizer steps (feeds the loss curve)."""
    save_steps: int = 200
    """Write a resumable Trainer checkpoint every N steps."""
    save_total_limit: int = 2
    """Keep at most this many Trainer checkpoints."""
    seed: int = 42
    """Seed for model init, data order and dropout."""
    report_to: list[str] = field(default_factory=lambda: ["none"])
    """Experiment trackers ("tensorboard", "wandb", ...); "none" = local files only."""

    def __post_init__(self) -> None:
        _check(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        _check(self.max_steps == -1 or self.max_steps > 0, "max_steps must be -1 or > 0")
        _check(self.max_steps > 0 or self.num_train_epochs > 0, "num_train_epochs must be > 0")
        _check(self.per_device_train_batch_size >= 1, "per_device_train_batch_size must be >= 1")
        _check(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1")
        _check(0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)")
        _check(self.weight_decay >= 0 and self.max_grad_norm > 0, "weight_decay >= 0, max_grad_norm > 0")
        _check(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}")
        _check(self.logging_steps >= 1 and self.save_steps >= 1, "logging_steps, save_steps >= 1")
        if self.deepspeed:
            self.deepspeed = str(resolve_deepspeed(self.deepspeed))


def resolve_deepspeed(name: str) -> Path:
    """A DeepSpeed config path, or a short name of one of ours (`zero3` → train/deepspeed/zero3.json)."""
    candidates = [Path(name), DEEPSPEED_DIR / name, DEEPSPEED_DIR / f"{name}.json"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise InputError(f"DeepSpeed config {name!r} not found (looked in . and {DEEPSPEED_DIR})")


@dataclass
class LoraSettings:
    """A plain LoRA adapter (peft) for parameter-efficient stages on small machines."""

    r: int = 8
    """Rank."""
    alpha: int = 16
    """Scale numerator (scale = alpha / r)."""
    dropout: float = 0.0
    """Dropout on the adapter input."""
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Names of the linear layers that get an adapter."""

    def __post_init__(self) -> None:
        _check(self.r >= 1 and self.alpha > 0, "lora r must be >= 1 and alpha > 0")
        _check(0 <= self.dropout < 1, "lora dropout must be in [0, 1)")
        _check(bool(self.target_modules), "lora target_modules must not be empty")


@dataclass
class StageConfig:
    """What every stage needs: where the model and data come from and where the checkpoint goes."""

    model: str = ""
    """Starting model: a transformers folder (the previous stage's checkpoint) or hub id."""
    data: str = ""
    """Training JSONL file written by `pedgpt data build`."""
    output_dir: str = ""
    """Checkpoint folder this stage writes (model, tokenizer, model card, loss curve)."""
    tokenizer: str = ""
    """Tokenizer folder; empty = the one saved with `model`."""
    max_length: int = 512
    """Longest training sequence in tokens (CPT: the packed block size)."""
    limit: int = 0
    """Use only the first N records of `data` (0 = all); for smoke runs."""
    resume: bool = True
    """Continue from the newest Trainer checkpoint in `output_dir` when one exists."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    """Optimisation settings."""
    lora: LoraSettings | None = None
    """Train a LoRA adapter instead of all weights. The stage saves the adapter (OUT/adapter) and
    the base with the adapter merged (what the next stage starts from)."""

    def __post_init__(self) -> None:
        _check(16 <= self.max_length <= 131072, f"max_length must be in [16, 131072], got {self.max_length}")
        _check(self.limit >= 0, "limit must be >= 0")

    def require_paths(self, stage: str) -> None:
        """Raise a clear error when a stage is run without its model, data or output folder."""
        for name in ("model", "data", "output_dir"):
            _check(bool(getattr(self, name)), f"{stage}: '{name}' is required")
        _check(Path(self.data).is_file(), f"{stage}: data file {self.data} does not exist")


@dataclass
class CPTConfig(StageConfig):
    """Stage 1, continued pre-training: packed plain text, loss on every token."""


@dataclass
class SFTConfig(StageConfig):
    """Stage 2, SFT (full-parameter, or LoRA): loss on the assistant tokens of every turn."""


@dataclass
class DFPOConfig(StageConfig):
    """Stage 3, DFPO: DPO (sigmoid) on preference pairs + μ × NLL of the chosen answer."""

    beta: float = 0.1
    """β of the DPO term (public code default 0.1)."""
    mu: float = 1.0
    """μ, weight of the chosen-answer NLL (not published; 1.0 as in RPO)."""
    ref_model: str = ""
    """Frozen reference; empty = a frozen copy of `model` (the SFT checkpoint) or, with `lora`, the
    adapter-disabled model."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self.beta > 0, f"beta must be > 0, got {self.beta}")
        _check(self.mu >= 0, f"mu must be >= 0, got {self.mu}")


@dataclass
class MoEConfig(StageConfig):
    """Stage 4, MoE-LoRA secondary SFT: one universal + `num_specific` routed LoRA experts."""

    r: int = 8
    """Rank of every expert (public code default 8)."""
    alpha: float = 16.0
    """Scale numerator, scale = alpha / r (public code: 2r)."""
    num_specific: int = 3
    """Specific (routed) experts; the paper found 3 best."""
    dropout: float = 0.0
    """Dropout on the adapter input."""
    target_modules: list[str] = field(default_factory=lambda: ["gate_proj", "up_proj", "down_proj"])
    """Linear layers that get experts (the paper: the FFN; attention stays frozen)."""
    aux_loss_weight: float = 0.0
    """Weight of the load-balancing loss (0 = off, as in the paper)."""
    qlora: bool = False
    """Load the base model in 4-bit NF4 (bitsandbytes; CUDA only)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self.r >= 1 and self.alpha > 0, "r must be >= 1 and alpha > 0")
        _check(self.num_specific >= 1, "num_specific must be >= 1")
        _check(0 <= self.dropout < 1, "dropout must be in [0, 1)")
        _check(self.aux_loss_weight >= 0, "aux_loss_weight must be >= 0")
        _check(self.lora is None, "moe: the experts are set by r/alpha/target_modules; 'lora' does not apply")
        _check(bool(self.target_modules), "target_modules must not be empty")


@dataclass
class TinyModelConfig:
    """A randomly initialised Qwen2-architecture model (for the CPU smoke pipeline and tests)."""

    num_hidden_layers: int = 2
    """Decoder layers."""
    hidden_size: int = 64
    """Model width."""
    intermediate_size: int = 128
    """FFN width."""
    num_attention_heads: int = 4
    """Query heads."""
    num_key_value_heads: int = 2
    """Key/value heads (grouped-query attention as in Qwen2)."""
    max_position_embeddings: int = 2048
    """Longest position."""
    initializer_range: float = 0.1
    """Std of the random init. Qwen2's 0.02 suits widths in the thousands; at width 64 it leaves
    every layer nearly silent (adapters then have almost no leverage), ~1/sqrt(width) does not."""

    def __post_init__(self) -> None:
        _check(self.num_hidden_layers >= 1 and self.hidden_size >= 8, "tiny model too small")
        _check(0 < self.initializer_range <= 1, "initializer_range must be in (0, 1]")
        _check(self.hidden_size % self.num_attention_heads == 0, "hidden_size % num_attention_heads != 0")
        _check(self.num_attention_heads % self.num_key_value_heads == 0, "heads % kv heads != 0")


@dataclass
class BaseModelConfig:
    """The model the pipeline starts from."""

    path: str = ""
    """A transformers folder or hub id; "embedded" = the embedded GGUF de-quantised once; empty with
    `init` = build a fresh tiny model."""
    init: TinyModelConfig | None = None
    """Build a random Qwen2 model of this shape instead of loading one."""
    tokenizer: str = "embedded"
    """Tokenizer folder, or "embedded" = the embedded model's tokenizer (cached under PEDGPT_HOME)."""
    dtype: str = "float32"
    """Weights dtype on load: "float32" or "bfloat16"."""

    def __post_init__(self) -> None:
        _check(bool(self.path) != (self.init is not None), "base: give exactly one of 'path' or 'init'")
        _check(self.dtype in ("float32", "bfloat16"), "base dtype must be float32 or bfloat16")


@dataclass
class DataSection:
    """How the pipeline gets its data."""

    prebuilt: str = ""
    """A folder already holding cpt/sft/dfpo/moe .jsonl; empty = build with `train.data.build`."""
    seed: int = 0
    """Builder seed."""
    limit: int = 0
    """Builder limit (records per source; 0 = everything)."""
    options: dict = field(default_factory=dict)
    """Further `DataBuildConfig` fields, passed through."""

    def __post_init__(self) -> None:
        _check(self.limit >= 0, "data limit must be >= 0")


@dataclass
class PipelineConfig:
    """Data build → CPT → SFT → DFPO → MoE-LoRA, each stage from the previous checkpoint."""

    output_dir: str = ""
    """Folder for data/, one sub-folder per stage and final/ (what `pedgpt serve --model` takes)."""
    base: BaseModelConfig = field(default_factory=BaseModelConfig)
    """Starting model."""
    data: DataSection = field(default_factory=DataSection)
    """Data source."""
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    """Stages to run, in recipe order."""
    cpt: CPTConfig = field(default_factory=CPTConfig)
    """Stage settings; model/data/output_dir are filled in by the pipeline."""
    sft: SFTConfig = field(default_factory=SFTConfig)
    dfpo: DFPOConfig = field(default_factory=DFPOConfig)
    moe: MoEConfig = field(default_factory=MoEConfig)

    def __post_init__(self) -> None:
        _check(bool(self.output_dir), "pipeline: 'output_dir' is required")
        _check(bool(self.stages), "pipeline: 'stages' must not be empty")
        for stage in self.stages:
            _check(stage in STAGES, f"unknown stage {stage!r}; choose from {', '.join(STAGES)}")
        order = [STAGES.index(s) for s in self.stages]
        _check(order == sorted(set(order)), "stages must be unique and in order cpt, sft, dfpo, moe")


# ---- YAML → dataclasses ------------------------------------------------------------------------

def load_config(path: str | Path, cls: type) -> Any:
    """Read a YAML recipe into `cls`; relative paths in it stay relative to the working directory."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return from_dict(cls, data, where=path.name)


def from_dict(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from a plain dict, recursively; unknown keys and bad types raise."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    values = {key: _coerce(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise InputError(f"{where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value or {}, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint in (int, float):
        return _number(hint, value, where)
    if hint is str:
        return str(value)
    if origin is list:
        items = value if isinstance(value, list) else [value]
        return [_coerce(args[0], item, where) for item in items] if args else items
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise InputError(f"{where}: expected a mapping")
        return dict(value)
    return value


def _number(kind: type, value: Any, where: str) -> int | float:
    # YAML 1.1 reads "2e-5" (no dot) as a string, so numbers may arrive as text.
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number:
        raise InputError(f"{where}: expected a number, got {value!r}")
    if kind is int:
        if number != int(number):
            raise InputError(f"{where}: expected a whole number, got {value!r}")
        return int(number)
    return number


def to_dict(config: Any) -> dict:
    """A config as plain data (for model cards and `--json`)."""
    return dataclasses.asdict(config)
