"""`build(config) -> Path`: the whole PedCorpus-style data build, written to `config.out_dir`.

    from train.data import DataBuildConfig, build
    folder = build(DataBuildConfig(out_dir="runs/data", seed=0, limit=None))

Command line: `pedgpt data build --out DIR [--seed S] [--limit N] [--config FILE.yaml]`.
Files: cpt.jsonl, sft.jsonl, dfpo.jsonl, moe.jsonl, eval/{kqa,diag,treat,safety}.jsonl,
stats.json, stats.md, lengths.png, manifest.json (see `train.data.records` for the shapes).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.data import dosing, safety as safety_data
from train.data.benign import needless_refusal_pairs
from train.data.config import DataBuildConfig
from train.data.cpt import cpt_texts
from train.data.dfpo import kind_counts, kind_interleaved, preference_pairs
from train.data.generate import bounded, knowledge_tasks
from train.data.instructions import authored_texts, general_examples, self_cognition_examples
from train.data.knowledge import KnowledgeSnapshot, load_subjects
from train.data.mix import weighted_interleave
from train.data.neighbours import Neighbours
from train.data.records import EVAL_TASKS, Example, dedupe, write_jsonl
from train.data.split import Split, leakage_report, split_subjects
from train.data.stats import answer_lengths, build_stats, write_stats
from train.data.system import fact_texts, with_system_prompt
from train.data.text import rng_for, sha256_file

#: Bump when the generated content changes for the same inputs and seed.
DATA_VERSION = "pedcorpus-lite/3"
TRAIN_TASK_ORDER = ("kqa", "diag", "treat", "safety", "self_cognition", "general")
MOE_TASKS = ("kqa", "diag", "treat", "safety")


@dataclass
class Corpus:
    """Everything generated, before writing."""

    train: dict[str, list[Example]]
    evaluation: dict[str, list[Example]]
    split: Split
    knowledge: KnowledgeSnapshot
    safety_source: dict[str, Any]
    removed_duplicates: dict[str, int]
    cpt_mix: dict[str, Any] = field(default_factory=dict)
    dfpo_only: list[Example] = field(default_factory=list)
    """Training examples that feed DFPO pairs but not SFT (refusals in every language)."""


def build(config: DataBuildConfig, *, index: Any = None) -> Path:
    """Build the corpus into `config.out_dir` and return that folder. `index`: a
    `pedgpt.knowledge` index to read instead of the default one (e.g. a fixture graph)."""
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = generate(config, index)
    files = assemble(config, corpus)
    for name, (kind, records) in files.items():
        write_jsonl(out / name, kind, records)
    report(config, corpus, files, out)
    return out


def generate(config: DataBuildConfig, index: Any = None) -> Corpus:
    knowledge = load_subjects(index)
    tables = safety_data.load_tables()
    split = split_subjects(knowledge.subjects, config.eval_fraction, config.eval_min_facts,
                           config.seed, extra_texts=authored_texts() + tables.texts(),
                           min_treat=config.eval_min_treat)
    neighbours = Neighbours(split.train)
    train = knowledge_tasks(_few(split.train, config, "train"), neighbours, config, "train")
    train["treat"] += dosing.dose_treat_examples(tables, config)
    train["safety"] = safety_data.safety_examples(tables, config, "train")
    train["self_cognition"] = self_cognition_examples(
        rng_for(config.seed, "self_cognition"), config.self_cognition_questions)
    train["general"] = general_examples()
    evaluation = knowledge_tasks(_few(split.held_out, config, "eval"), neighbours, config, "eval")
    evaluation["safety"] = safety_data.safety_examples(tables, config, "eval")
    removed = {}
    for side, groups in (("train", train), ("eval", evaluation)):
        for task, examples in groups.items():
            unique = dedupe(examples, key=Example.key)
            removed[f"{side}/{task}"] = len(examples) - len(unique)
            keep = "rule" if task == "safety" and side == "train" else None
            groups[task] = bounded(unique, config.limit, rng_for(config.seed, "limit", side, task), keep)
    dfpo_only = bounded(safety_data.refusals_in_every_style(tables, config), config.limit,
                        rng_for(config.seed, "limit", "dfpo only"))
    return Corpus(train, evaluation, split, knowledge, tables.source, removed, dfpo_only=dfpo_only)


def moe_records(train: list[Example], config: DataBuildConfig) -> list[dict]:
    """`moe_share` of each task's SFT records (at most `limit` per task), in a seeded order."""
    rng = rng_for(config.seed, "moe")
    out = []
    for task in MOE_TASKS:
        pool = [e.sft_record() for e in train if e.task == task]
        out.extend(rng.sample(pool, config.per_task(round(config.moe_share * len(pool)))))
    rng.shuffle(out)
    return out


def _few(subjects: list, config: DataBuildConfig, side: str) -> list:
    """With `limit`, only a seeded sample of subjects is phrased (enough to fill every task up
    to the limit), so small builds are fast; the split itself always covers every subject."""
    if config.limit is None:
        return subjects
    count = min(len(subjects), 2 * config.limit + 10)
    chosen = set(rng_for(config.seed, "few", side).sample(range(len(subjects)), count))
    return [s for i, s in enumerate(subjects) if i in chosen]


def assemble(config: DataBuildConfig, corpus: Corpus) -> dict[str, tuple[str, list[dict]]]:
    """Output file name → (record kind, records), in a seeded order."""
    facts = fact_texts(corpus.knowledge.subjects) if config.system_prompt == "task" else None
    train = [_system(e, facts) for task in TRAIN_TASK_ORDER for e in corpus.train.get(task, [])]
    sft = [e.sft_record() for e in train]
    rng_for(config.seed, "sft order").shuffle(sft)
    if config.sft_task_mix:
        sft = weighted_interleave(sft, lambda record: record["task"], config.sft_task_mix)
    moe = moe_records(train, config)
    dfpo = preference_pairs([e for e in train if e.task in MOE_TASKS],
                            config.per_task(config.dfpo_per_task), rng_for(config.seed, "dfpo"))
    # the refusals in every language share the safety task's budget (what `limit` promises)
    safety_left = config.per_task(config.dfpo_per_task) - sum(p["task"] == "safety" for p in dfpo)
    dfpo += preference_pairs([_system(e, facts) for e in corpus.dfpo_only], max(0, safety_left),
                             rng_for(config.seed, "dfpo refusals"))
    dfpo += needless_refusal_pairs(train, config.per_task(config.dfpo_benign_pairs),
                                   rng_for(config.seed, "dfpo benign"))
    dfpo = kind_interleaved(dfpo, rng_for(config.seed, "dfpo order"), config.dfpo_kind_weights)
    texts, corpus.cpt_mix = cpt_texts(corpus.split.train, train, config.cpt_ratio, config.max_list_items,
                                      rng_for(config.seed, "cpt"), config.limit)
    files: dict[str, tuple[str, list[dict]]] = {
        "cpt.jsonl": ("cpt", [{"text": t} for t in dedupe(texts)]),
        "sft.jsonl": ("sft", sft),
        "dfpo.jsonl": ("dfpo", dedupe(dfpo)),
        "moe.jsonl": ("moe", moe),
    }
    for task in EVAL_TASKS:
        examples = [_system(e, facts) for e in corpus.evaluation.get(task, [])]
        files[f"eval/{task}.jsonl"] = ("eval", [eval_record(e, i) for i, e in enumerate(examples)])
    return files


def _system(example: Example, facts: dict[str, str] | None) -> Example:
    return example if facts is None else with_system_prompt(example, facts)


def eval_record(example: Example, number: int) -> dict[str, Any]:
    """A held-out item: the conversation up to the last user turn, and the reference answer."""
    return {
        "id": f"{example.task}-{number:05d}",
        "task": example.task,
        "messages": example.messages[:-1],
        "reference": example.answer,
        "disease": example.subject,
    }


def report(config: DataBuildConfig, corpus: Corpus, files: dict[str, tuple[str, list[dict]]],
           out: Path) -> None:
    """stats.json / stats.md / lengths.png and manifest.json."""
    # moe.jsonl is a subset of sft.jsonl; every other training file is searched in full.
    training_texts = ["\n".join(json.dumps(r, ensure_ascii=False) for r in records)
                      for name, (_, records) in files.items()
                      if not name.startswith("eval/") and name != "moe.jsonl"]
    train_examples = [e for examples in corpus.train.values() for e in examples]
    leakage = leakage_report(corpus.split, train_examples, training_texts)
    records = {name: recs for name, (_, recs) in files.items()}
    extra = {
        "leakage": leakage,
        "held_out": sorted(s.name for s in corpus.split.held_out),
        "dfpo_rejection_kinds": kind_counts(records["dfpo.jsonl"]),
        "cpt_mix": corpus.cpt_mix,
        "languages": dict(sorted(Counter(e.language for e in train_examples).items())),
        "styles": dict(sorted(Counter(e.style for e in train_examples).items())),
        "deduplicated": corpus.removed_duplicates,
    }
    stats = build_stats(records, extra)
    write_stats(out, stats, answer_lengths(records["sft.jsonl"]))
    manifest = {
        "data_version": DATA_VERSION,
        "seed": config.seed,
        "config": {k: v for k, v in config.to_dict().items() if k not in ("out_dir", "progress")},
        "sources": {"knowledge": _stable(corpus.knowledge.source), "safety": corpus.safety_source,
                    "assets": _asset_hashes()},
        "counts": {name: len(recs) for name, recs in records.items()},
        "leakage_ok": leakage["ok"],
        "files": {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
                  for name in sorted([*records, "stats.json", "stats.md"])},
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _stable(source: dict[str, Any]) -> dict[str, Any]:
    """Source description without machine-specific values (paths, build times), so the manifest
    of two builds on different machines is identical."""
    drop = {"path", "built_at", "build_seconds", "index_bytes"}
    out = {k: v for k, v in source.items() if k != "stats"}
    if isinstance(source.get("stats"), dict):
        out["stats"] = {k: v for k, v in source["stats"].items() if k not in drop}
    return out


def _asset_hashes() -> dict[str, str]:
    from pedgpt.paths import asset

    folder = asset("data")
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.yaml"))}
