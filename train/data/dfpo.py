"""PedCorpus-DFPO: preference pairs in TRL's conversational format.

chosen = the complete, empathetic, safe answer the SFT data carries; rejected = one of the weaker
answers each generator wrote alongside it (`Example.rejections`):
  terse            the bare facts in one line, no empathy, no advice;
  no_safety        the same facts without the safety net ("see a doctor when…");
  neighbour_facts  a confident answer with the facts of a neighbouring disease (or drug);
  wrong_dose       a dose computed for the wrong age/weight;
  wrong_drug       a contraindicated drug recommended anyway;
  unsafe_compliance  a red flag answered with "watch at home", or a contraindicated drug allowed.
Kinds are drawn uniformly among an example's candidates, so every kind is well represented.
A seventh kind, needless_refusal (a harmless question in alarming words answered with a canned
refusal), comes from `train.data.benign`, not from the generators' candidates.

`kind_interleaved` orders the file so that every prefix holds each (kind, language) in equal
numbers, or in the proportions of `DataBuildConfig.dfpo_kind_weights`. CPU recipes train on a
prefix (`limit`), and a plain shuffle leaves the rare safety kinds (a few dozen contraindication
and dose pairs among thousands of knowledge pairs) and English (a tenth of the data, half of the
safety evaluation) almost absent from it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping

from pedgpt.language import detect_language
from train.data.mix import is_positive_weight, weighted_interleave
from train.data.records import Example

REJECTION_KINDS = ("terse", "no_safety", "neighbour_facts", "wrong_dose", "wrong_drug", "unsafe_compliance",
                   "needless_refusal")


def preference_pairs(examples: list[Example], per_task: int, rng: random.Random) -> list[dict]:
    """Up to `per_task` pairs per task from examples that carry rejected candidates."""
    by_task: dict[str, list[Example]] = {}
    for example in examples:
        if example.rejections:
            by_task.setdefault(example.task, []).append(example)
    pairs = []
    for task in sorted(by_task):
        pool = by_task[task]
        for example in rng.sample(pool, min(per_task, len(pool))):
            pair = _pair(example, rng)
            if pair is not None:
                pairs.append(pair)
    return pairs


def _pair(example: Example, rng: random.Random) -> dict | None:
    chosen = example.answer
    candidates = [(kind, text) for kind, text in example.rejections if text.strip() and text != chosen]
    if not candidates:
        return None
    kinds = sorted({kind for kind, _ in candidates})
    kind = rng.choice(kinds)
    text = rng.choice([t for k, t in candidates if k == kind])
    return {
        "prompt": example.messages[:-1],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": text}],
        "task": example.task,
        "rejection_kind": kind,
    }


def kind_interleaved(pairs: list[dict], rng: random.Random,
                     weights: Mapping[str, float] | None = None) -> list[dict]:
    """`pairs` round-robin over (rejection kind, language of the question) groups (groups in a
    seeded order, each group shuffled); a group that runs out drops out of the rotation.
    `weights` ("kind" or "kind/language" → weight, default 1; "kind/language" wins) lets a group
    take more or fewer places in every prefix."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for pair in pairs:
        key = (pair["rejection_kind"], detect_language(pair["prompt"][-1]["content"]))
        groups.setdefault(key, []).append(pair)
    rotation = sorted(groups)
    rng.shuffle(rotation)
    for key in rotation:
        rng.shuffle(groups[key])
    # weight 1 each (the default): one pair of every group per round, in the rotation's order
    weights = weights or {}
    shares = {key: float(weights.get(f"{key[0]}/{key[1]}", weights.get(key[0], 1.0))) for key in rotation}
    keyed = [(key, pair) for key in rotation for pair in groups[key]]
    return [pair for _, pair in weighted_interleave(keyed, lambda kp: kp[0], shares)]


def check_kind_weights(weights: object) -> dict[str, float]:
    """`weights` validated for `kind_interleaved`: keys "kind" or "kind/language" (zh, en) with a
    known rejection kind, values positive numbers; raises ValueError naming the bad entry."""
    if not isinstance(weights, Mapping):
        raise ValueError(f"expected a mapping of rejection kinds to weights, got {weights!r}")
    checked = {}
    for key, weight in weights.items():
        kind, slash, language = str(key).partition("/")
        if kind not in REJECTION_KINDS or (slash and language not in ("zh", "en")):
            raise ValueError(f"{key!r} is not 'kind' or 'kind/language' with a kind in "
                             f"{', '.join(REJECTION_KINDS)} and a language in zh, en")
        if not is_positive_weight(weight):
            raise ValueError(f"the weight of {key!r} must be a positive number, got {weight!r}")
        checked[str(key)] = float(weight)
    return checked


def kind_counts(pairs: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(p["rejection_kind"] for p in pairs).items()))
