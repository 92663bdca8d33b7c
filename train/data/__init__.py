"""PedCorpus-style data for the PediatricsGPT recipe, built from the CMeKG knowledge index
(`pedgpt.knowledge`) and the clinical-safety tables (`pedgpt.safety`).

    pedgpt data build --out runs/data [--seed 0] [--limit 50] [--config data.yaml]

    from train.data import DataBuildConfig, build
    folder = build(DataBuildConfig(out_dir="runs/data", seed=0))

Writes cpt.jsonl ({"text"}), sft.jsonl and moe.jsonl ({"messages", "task", "source"}),
dfpo.jsonl (TRL conversational preference pairs), held-out eval/{kqa,diag,treat,safety}.jsonl
(split by disease), stats.json / stats.md / lengths.png and manifest.json. Same inputs and seed →
byte-identical files.
"""

from train.data.build import DATA_VERSION, build
from train.data.config import DataBuildConfig

__all__ = ["DATA_VERSION", "DataBuildConfig", "build"]
