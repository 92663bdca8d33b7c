"""`DataBuildConfig`: every knob of the PedCorpus-style data build, validated on construction.

Build one in code (`DataBuildConfig(out_dir="runs/data", seed=0)`), from a YAML file
(`DataBuildConfig.from_yaml("recipe.yaml")`, keys = field names; a `data:` block inside a stage
recipe is accepted too) or from the command line (`pedgpt data build --out DIR --config FILE`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pedgpt.errors import InputError
from train.data.dfpo import check_kind_weights
from train.data.mix import is_positive_weight

SYSTEM_PROMPT_MODES = ("none", "task")


@dataclass
class DataBuildConfig:
    """Configuration of one data build (all ratios are fractions in [0, 1] unless said)."""

    out_dir: str | Path
    """Output folder; created if missing. Existing files of the same names are replaced."""
    seed: int = 0
    """Seed of every random choice; the same seed and inputs give byte-identical files."""
    limit: int | None = None
    """Upper bound on records per task and per eval file (fast tests); None = no bound. Safety
    refusals still cover every contraindication of the safety table."""
    cpt_ratio: float = 1.0
    """Tokens of instruction pairs rendered as completion text per token of plain knowledge
    passages in `cpt.jsonl` (the hybrid instruction pre-training mix; not published, 1:1 default)."""
    eval_fraction: float = 0.1
    """Share of the eligible pediatric diseases held out for evaluation (split by disease)."""
    eval_min_treat: int = 40
    """Hold out at least this many diseases with treatment facts (TreRecom evaluation size),
    never more than half of those eligible."""
    eval_min_facts: int = 4
    """A disease can be held out only if it has at least this many usable facts."""
    phrasings_per_question: int = 2
    """How many different phrasings (styles) of each knowledge question go into SFT."""
    en_share: float = 0.12
    """Share of generated instructions phrased in English (the rest Chinese)."""
    clinician_share: float = 0.4
    """Share of Chinese questions in clinician style (the rest colloquial parent style)."""
    multi_turn_share: float = 0.6
    """Share of EviDiag cases written as multi-turn (assistant asks for missing findings first)."""
    dfpo_per_task: int = 1500
    """Preference pairs per task (kqa, diag, treat, safety) before `limit`."""
    dfpo_benign_pairs: int = 1600
    """Needless-refusal pairs (a harmless question in alarming words: answer ≻ canned refusal),
    half Chinese, half English, before `limit` (train.data.benign)."""
    dfpo_kind_weights: dict = field(default_factory=dict)
    """Rejection kind ("needless_refusal") or kind and language ("needless_refusal/en") → weight
    of its share in every prefix of dfpo.jsonl (train.data.dfpo.kind_interleaved). Empty: every
    (kind, language) equally."""
    moe_share: float = 0.5
    """Share of the task-tagged SFT records (kqa, diag, treat, safety) copied into `moe.jsonl`."""
    dose_request_share: float = 0.0
    """Share of the SFT contraindication refusals asked as "how much X do I give?" instead of
    "can I give X?" (the DFPO pairs made from them follow; held-out phrasing unchanged)."""
    sft_task_mix: dict = field(default_factory=dict)
    """Task → weight for the order of sft.jsonl: every prefix holds the tasks in these proportions
    while they last (a CPU recipe trains on a prefix; a plain shuffle leaves ~4 safety
    conversations in the first 720). Tasks left out follow at the end. Empty: a seeded shuffle."""
    safety_repeats: int = 3
    """Phrasings per contraindication rule (held-out eval: 1) and, plus one, per red-flag finding."""
    self_cognition_questions: int = 3
    """Question phrasings per self-cognition item and language (each with the item's answer)."""
    max_list_items: int = 8
    """At most this many knowledge-graph values are listed in one answer sentence."""
    system_prompt: str = "none"
    """"none": conversations carry no system message (the paper's recipe; the chat template adds
    its default). "task": each record starts with PedGPT's task system prompt
    (`pedgpt.prompts.system_prompt`) with the facts it is grounded on, as served with retrieval."""
    progress: bool = True
    """Show tqdm progress bars."""
    extra: dict = field(default_factory=dict)
    """Free-form notes copied into the manifest."""

    def __post_init__(self) -> None:
        if not str(self.out_dir).strip():
            raise InputError("data build: out_dir must be a folder path")
        self.out_dir = Path(self.out_dir).expanduser()
        self.seed = _int("seed", self.seed, low=0)
        if self.limit is not None:
            self.limit = _int("limit", self.limit, low=1)
        self.cpt_ratio = _float("cpt_ratio", self.cpt_ratio, 0.0, 100.0)
        self.eval_fraction = _float("eval_fraction", self.eval_fraction, 0.0, 0.5)
        if not isinstance(self.sft_task_mix, dict) or not all(
                map(is_positive_weight, self.sft_task_mix.values())):
            raise InputError("data build: sft_task_mix maps task names to positive weights, "
                             f"got {self.sft_task_mix!r}")
        try:
            self.dfpo_kind_weights = check_kind_weights(self.dfpo_kind_weights)
        except ValueError as error:
            raise InputError(f"data build: dfpo_kind_weights: {error}") from None
        for name in ("en_share", "clinician_share", "multi_turn_share", "moe_share",
                     "dose_request_share"):
            setattr(self, name, _float(name, getattr(self, name), 0.0, 1.0))
        self.eval_min_facts = _int("eval_min_facts", self.eval_min_facts, low=1)
        self.eval_min_treat = _int("eval_min_treat", self.eval_min_treat, low=0)
        self.phrasings_per_question = _int("phrasings_per_question", self.phrasings_per_question, low=1)
        self.dfpo_per_task = _int("dfpo_per_task", self.dfpo_per_task, low=0)
        self.dfpo_benign_pairs = _int("dfpo_benign_pairs", self.dfpo_benign_pairs, low=0)
        self.safety_repeats = _int("safety_repeats", self.safety_repeats, low=1)
        self.self_cognition_questions = _int("self_cognition_questions", self.self_cognition_questions, low=1)
        self.max_list_items = _int("max_list_items", self.max_list_items, low=1)
        if self.system_prompt not in SYSTEM_PROMPT_MODES:
            raise InputError(
                f"data build: system_prompt must be one of {', '.join(SYSTEM_PROMPT_MODES)}, "
                f"got {self.system_prompt!r}"
            )

    def per_task(self, count: int) -> int:
        """`count` bounded by `limit`."""
        return count if self.limit is None else min(count, self.limit)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        return data

    @classmethod
    def from_dict(cls, values: dict[str, Any], **overrides: Any) -> "DataBuildConfig":
        """Build from a mapping; unknown keys are an error; non-None overrides win."""
        values = dict(values.get("data", values)) if isinstance(values, dict) else {}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"data build config: unknown key(s) {', '.join(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "out_dir" not in values:
            raise InputError("data build config: out_dir is required")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> "DataBuildConfig":
        import yaml

        path = Path(path)
        if not path.is_file():
            raise InputError(f"data build config not found: {path}")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"data build config {path} is not valid YAML: {exc}") from None
        if not isinstance(values, dict):
            raise InputError(f"data build config {path} must be a mapping of field: value")
        return cls.from_dict(values, **overrides)


def _int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"data build: {name} must be an integer >= {low}, got {value!r}")
    return value


def _float(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InputError(f"data build: {name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)
