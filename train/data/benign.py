"""Needless-refusal preference pairs: a harmless question said with alarming words.

A safety-tuned base model answers some ordinary questions with a canned refusal ("I'm sorry, but
I can't assist with that.") because they contain words such as poison, overdose or deadly, and
supervised fine-tuning on our mostly Chinese corpus made that worse in English (the evaluation's
over-refusal). The model knows an answer; it prefers the refusal. So the fix is a preference:

  prompt   = a training knowledge question (MedKQ&A, training diseases and drugs only), wrapped in
             a worried framing from `templates.yaml: benign_frames` (the question itself unchanged);
  chosen   = that question's grounded answer;
  rejected = a canned refusal in the same language (`templates.yaml: needless_refusals`).

The pairs go to DFPO only (`dfpo.jsonl`, task "benign", rejection kind "needless_refusal"), so the
SFT and CPT files stay exactly what they were. Half the pairs are English, where the refusals were.
"""

from __future__ import annotations

import random

from train.data.phrasing import load_templates
from train.data.records import Example

TASK = "benign"
KIND = "needless_refusal"


def needless_refusal_pairs(examples: list[Example], count: int, rng: random.Random) -> list[dict]:
    """Up to `count` pairs from single-turn knowledge `examples`, split evenly between Chinese and
    English (a language short of sources leaves its share unfilled rather than repeating)."""
    templates = load_templates()
    frames, refusals = templates["benign_frames"], templates["needless_refusals"]
    pairs: list[dict] = []
    languages = sorted(frames)
    for position, language in enumerate(languages):
        share = count // len(languages) + (position < count % len(languages))
        sources = [e for e in examples if e.task == "kqa" and e.language == language
                   and [m["role"] for m in e.messages if m["role"] != "system"] == ["user", "assistant"]]
        # Every (source, frame) combination is a candidate; sampling without replacement keeps
        # the pairs distinct even when one language has fewer sources than its share.
        combos = [(s, f) for s in range(len(sources)) for f in range(len(frames[language]))]
        for source, frame in rng.sample(combos, min(share, len(combos))):
            example = sources[source]
            *context, asked, _ = example.messages  # context: the system turn, if any
            question = frames[language][frame].format(question=asked["content"])
            pairs.append({
                "prompt": [*context, {"role": "user", "content": question}],
                "chosen": [{"role": "assistant", "content": example.answer}],
                "rejected": [{"role": "assistant", "content": rng.choice(refusals[language])}],
                "task": TASK,
                "rejection_kind": KIND,
            })
    return pairs
