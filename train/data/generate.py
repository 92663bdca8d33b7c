"""Turn subjects into examples, task by task (training side and held-out evaluation side).

Each task gets its own seeded generator, so changing one task's settings does not reshuffle the
others. tqdm shows progress over subjects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tqdm import tqdm

from train.data.config import DataBuildConfig
from train.data.diag import diag_examples
from train.data.knowledge import Subject
from train.data.kqa import kqa_examples
from train.data.neighbours import Neighbours
from train.data.phrasing import Phraser
from train.data.records import Example
from train.data.text import rng_for
from train.data.treat import treat_examples

#: Vignettes and treatment questions per training disease (EviDiag, TreRecom).
DIAG_PER_DISEASE = 3
TREAT_PER_DISEASE = 2


@dataclass
class Generators:
    """One seeded phraser per task."""

    kqa: Phraser
    diag: Phraser
    treat: Phraser

    @classmethod
    def for_config(cls, config: DataBuildConfig, side: str) -> "Generators":
        def make(task: str) -> Phraser:
            return Phraser(rng_for(config.seed, side, task), config.en_share, config.clinician_share)

        return cls(make("kqa"), make("diag"), make("treat"))


def knowledge_tasks(subjects: list[Subject], neighbours: Neighbours, config: DataBuildConfig,
                    side: str) -> dict[str, list[Example]]:
    """MedKQ&A, EviDiag and TreRecom examples for `subjects`.

    side="train": every phrasing; side="eval": one phrasing per question, one vignette and one
    treatment question per disease (the held-out references)."""
    gen = Generators.for_config(config, side)
    train = side == "train"
    phrasings = config.phrasings_per_question if train else 1
    out: dict[str, list[Example]] = {"kqa": [], "diag": [], "treat": []}
    for subject in tqdm(subjects, desc=f"{side} examples", unit="subject", disable=not config.progress):
        near = neighbours.of(subject, k=3)
        out["kqa"].extend(kqa_examples(subject, gen.kqa, phrasings, config.max_list_items,
                                       neighbours if train else None))
        out["diag"].extend(diag_examples(subject, gen.diag, DIAG_PER_DISEASE if train else 1,
                                         config.multi_turn_share, near))
        out["treat"].extend(treat_examples(subject, gen.treat, TREAT_PER_DISEASE if train else 1,
                                           config.max_list_items, near[0] if near else None))
    return out


def bounded(examples: list[Example], limit: int | None, rng: random.Random,
            keep_one_per: str | None = None) -> list[Example]:
    """At most `limit` examples (seeded sample, original order kept). With `keep_one_per`, one
    example of every distinct `meta[keep_one_per]` value is kept even beyond the limit."""
    if limit is None or len(examples) <= limit:
        return list(examples)
    chosen: set[int] = set()
    if keep_one_per:
        first: dict[str, int] = {}
        for index, example in enumerate(examples):
            first.setdefault(str(example.meta.get(keep_one_per)), index)
        chosen.update(first.values())
    rest = [i for i in range(len(examples)) if i not in chosen]
    chosen.update(rng.sample(rest, max(0, min(len(rest), limit - len(chosen)))))
    return [examples[i] for i in sorted(chosen)]
