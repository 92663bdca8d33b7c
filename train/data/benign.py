"""Needless-refusal preference pairs: a harmless question said with alarming words.

A safety-tuned base model answers some ordinary questions with a canned refusal ("I'm sorry, but
I can't assist with that.") because they contain words such as poison, overdose or deadly, and
supervised fine-tuning on our mostly Chinese corpus made that worse in English (the evaluation's
over-refusal). The model knows an answer; it prefers the refusal. So the fix is a preference:

  prompt   = a training question (MedKQ&A or TreRecom, training diseases and drugs only) wrapped in
             a worried framing from `templates.yaml: benign_frames` (the question itself unchanged),
             after the system message the app would send for that framed question;
  chosen   = that question's grounded answer — opened, when the app's triage rates the framed
             question an emergency (the alarming words alone can), with the emergency advice the
             system message asks for (`templates.yaml: benign_emergency_opening`);
  rejected = a canned refusal in the same language (`templates.yaml: needless_refusals`).

Sources are questions the app answers in their own language: an "English" question that names its
disease in Chinese is a Chinese question to `pedgpt.language`, so it is no English source. Questions
that are red flags themselves (the triage rates them an emergency before framing) are no source.

The pairs go to DFPO (`dfpo.jsonl`, task "benign", rejection kind "needless_refusal"). The same
framed questions with their answers also go to SFT (`benign_sft_examples`, task "benign"): the
preference alone did not undo what SFT taught — the SFT adapter already refused English safety
questions the base answered, and DFPO's 32 pairs left some of that (reports/pedgpt-0.5b.md). Half
of each are English, where the refusals were.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable

from pedgpt.language import detect_language
from train.data.phrasing import load_templates
from train.data.records import Example

TASK = "benign"
KIND = "needless_refusal"
SOURCE_TASKS = ("kqa", "treat")


def needless_refusal_pairs(examples: list[Example], count: int, rng: random.Random,
                           with_system: Callable[[Example], Example] | None = None) -> list[dict]:
    """Up to `count` pairs: `framed_questions` as the prompt and chosen answer, a canned refusal in
    the question's language as the rejected one."""
    refusals = load_templates()["needless_refusals"]
    return [{
        "prompt": framed.messages[:-1],
        "chosen": [framed.messages[-1]],
        "rejected": [{"role": "assistant", "content": rng.choice(refusals[framed.language])}],
        "task": TASK,
        "rejection_kind": KIND,
    } for framed in framed_questions(examples, count, rng, with_system)]


def benign_sft_examples(examples: list[Example], count: int, rng: random.Random,
                        with_system: Callable[[Example], Example] | None = None) -> list[Example]:
    """Up to `count` SFT conversations: the framed questions answered (task "benign")."""
    return framed_questions(examples, count, rng, with_system)


def framed_questions(examples: list[Example], count: int, rng: random.Random,
                     with_system: Callable[[Example], Example] | None = None) -> list[Example]:
    """Up to `count` single-turn `examples` of SOURCE_TASKS (no system turn) re-asked in a worried
    framing and answered, task "benign", split evenly between Chinese and English (a language short
    of sources leaves its share unfilled rather than repeating). `with_system` adds the system
    message for the framed question."""
    templates = load_templates()
    frames, openings = templates["benign_frames"], templates["benign_emergency_opening"]
    out: list[Example] = []
    languages = sorted(frames)
    for position, language in enumerate(languages):
        share = count // len(languages) + (position < count % len(languages))
        sources = [e for e in examples if _fits(e, language)]
        # Every (source, frame) combination is a candidate, taken in a seeded order without
        # replacement, so questions stay distinct even when a language has fewer sources than its share.
        combos = [(s, f) for s in range(len(sources)) for f in range(len(frames[language]))]
        rng.shuffle(combos)
        red_flag: dict[int, bool] = {}
        taken = 0
        for source, frame in combos:
            if taken == share:
                break
            example = sources[source]
            asked = example.messages[0]["content"]
            if source not in red_flag:
                red_flag[source] = _emergency(asked, language) is not None
            if red_flag[source]:
                continue
            question = frames[language][frame].format(question=asked)
            flags = _emergency(question, language)
            answer = example.answer if flags is None else \
                openings[language].format(flags=flags) + "\n\n" + example.answer
            framed = replace(example, messages=[{"role": "user", "content": question},
                                                {"role": "assistant", "content": answer}])
            if with_system is not None:  # the source's task still picks the serving prompt
                framed = with_system(framed)
            out.append(replace(framed, task=TASK, source=f"{example.source}+{TASK}:frame{frame}"))
            taken += 1
    return out


def _fits(example: Example, language: str) -> bool:
    if example.task not in SOURCE_TASKS or example.language != language:
        return False
    if [m["role"] for m in example.messages] != ["user", "assistant"]:
        return False
    return detect_language(example.messages[0]["content"]) == language


def _emergency(question: str, language: str) -> str | None:
    """The triage flags when the app rates `question` an emergency, else None."""
    from pedgpt.assistant import turn_safety

    checked = turn_safety([question], language, lenient=True)
    return checked.flags if checked.level == "emergency" else None
