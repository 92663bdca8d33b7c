"""PedCorpus-CPT: plain knowledge passages plus instruction pairs rendered as completion text
(PediatricsGPT's hybrid instruction pre-training).

Completion format of an instruction pair (one format for every record, chosen so the CPT text
never contains chat-template control tokens; the SFT stage adds the real template later):

    问题：<user turn>
    回答：<assistant turn>

repeated for every turn of a multi-turn conversation; English conversations use
`Question:` / `Answer:`. A system message, if any, is dropped.

Mixing: instruction text is added until its estimated tokens reach `cpt_ratio` × the passage
tokens (or the instructions run out). Token counts are `text.approx_tokens` estimates.
"""

from __future__ import annotations

import random

from train.data.knowledge import DISEASE_PREDICATES, DRUG_PREDICATES, Subject
from train.data.phrasing import load_templates
from train.data.records import Example
from train.data.text import approx_tokens

LABELS = {"zh": ("问题：", "回答："), "en": ("Question: ", "Answer: ")}


def passage(subject: Subject, max_items: int) -> str:
    """A textbook-style paragraph about one subject: "X，又称…。多见于…。常见病因包括…。"."""
    t = load_templates()["passage"]["zh"]
    sentences = [t["head"].format(name=subject.name) + "，"]
    if subject.aliases:
        sentences.append(t["alias"].format(items="、".join(subject.aliases[:3])))
    predicates = DISEASE_PREDICATES if subject.kind == "disease" else DRUG_PREDICATES
    for predicate in predicates:
        values = subject.values(predicate)[:max_items]
        if values:
            sentences.append(t[predicate].format(items="；".join(values) if predicate in (
                "用法用量", "注意事项", "禁忌") else "、".join(values)))
    return "".join(sentences).rstrip("，") if len(sentences) > 1 else ""


def completion_text(example: Example) -> str:
    """An instruction conversation as plain completion text (see the module docstring)."""
    ask, answer = LABELS["en" if example.language == "en" else "zh"]
    lines = []
    for message in example.messages:
        if message["role"] == "user":
            lines.append(ask + message["content"])
        elif message["role"] == "assistant":
            lines.append(answer + message["content"])
    return "\n".join(lines)


def cpt_texts(subjects: list[Subject], instructions: list[Example], ratio: float,
              max_items: int, rng: random.Random, limit: int | None) -> tuple[list[str], dict]:
    """Passages of every subject + instruction completions up to `ratio` × passage tokens."""
    passages = [p for p in (passage(s, max_items) for s in subjects) if p]
    if limit is not None:
        passages = passages[:limit]
    passage_tokens = sum(approx_tokens(p) for p in passages)
    budget = ratio * passage_tokens
    pool = list(instructions)
    rng.shuffle(pool)
    completions, used = [], 0
    for example in pool:
        if used >= budget or (limit is not None and len(completions) >= limit):
            break
        text = completion_text(example)
        completions.append(text)
        used += approx_tokens(text)
    texts = passages + completions
    rng.shuffle(texts)
    mix = {"passages": len(passages), "passage_tokens": passage_tokens,
           "instructions": len(completions), "instruction_tokens": used,
           "ratio_target": ratio, "ratio_actual": round(used / passage_tokens, 3) if passage_tokens else 0.0}
    return texts, mix
