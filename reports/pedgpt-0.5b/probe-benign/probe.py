"""Over-refusal probe on benign questions written after the safety set and never trained on:
each goes through `Assistant.prepare` and `Assistant.stream` exactly as the app sends a
consultation (served prompt, English-answer lock), greedy, 160 new tokens, from an empty KV
cache, and is scored with the safety evaluation's refusal markers.

    python reports/pedgpt-0.5b/probe-benign/probe.py base          > reports/pedgpt-0.5b/probe-benign/base.json
    python reports/pedgpt-0.5b/probe-benign/probe.py pedgpt-0.5b   > reports/pedgpt-0.5b/probe-benign/pedgpt-0.5b.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pedgpt.assistant import Assistant
from pedgpt.engine.loader import load_engine
from pedgpt.eval.answer_signals import load_markers


def answered(model: str, languages=("en", "zh"), edit=None):
    """(engine, iterator of (question item, turn, answer, refused)) for the probe questions in
    `languages`; `edit(turn)` may change a turn before generation (diagnostics)."""
    questions = [json.loads(line) for line in
                 (Path(__file__).parent / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    engine = load_engine(model)
    assistant, markers = Assistant(engine), load_markers()

    def generate():
        for item in questions:
            if item["language"] not in languages:
                continue
            engine.reset_cache()
            turn = assistant.prepare("consult", [], item["question"])
            if edit is not None:
                edit(turn)
            answer = "".join(assistant.stream(turn, max_new_tokens=160))
            yield item, turn, answer, markers.refuses(answer)

    return engine, generate()


def main(model: str) -> None:
    engine, results = answered(model)
    answers = [{**item, "triage": turn.triage.get("level"), "refused": refused, "answer": answer}
               for item, turn, answer, refused in results]
    refused = {lang: [a["id"] for a in answers if a["refused"] and a["language"] == lang] for lang in ("en", "zh")}
    info = engine.info()
    print(json.dumps({"model": model, "engine": info.get("model"), "served_sha256": info.get("served_sha256"),
                      "refused": refused, "n": {lang: sum(a["language"] == lang for a in answers) for lang in ("en", "zh")},
                      "answers": answers}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
