"""Test doubles for the evaluation tests: a scripted engine (the brief allows one for the runner
and the judge) and a small held-out data folder in the data builder's split format."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pedgpt.engine.base import Engine, EngineStats
from pedgpt.errors import InputError


class ScriptedEngine(Engine):
    """Test double: answers each question from a script (or echoes it) and counts calls."""

    backend = "scripted"

    def __init__(self, script=None, fail_on=()):
        super().__init__()
        self.script, self.fail_on, self.calls = script or {}, set(fail_on), []

    def info(self):
        return {"model": "scripted", "backend": self.backend, "device": "cpu", "dtype": "-"}

    def count_tokens(self, text):
        return len(text)

    def _generate(self, messages, params, cancel: threading.Event):
        question = messages[-1]["content"]
        self.calls.append(question)
        if question in self.fail_on:
            raise InputError("the text is too long for the model")
        answer = self.script.get(question, "回答：" + question)
        self.last_stats = EngineStats(completion_tokens=len(answer), finish_reason="stop")
        for start in range(0, len(answer), 3):
            yield answer[start:start + 3]


SPLITS = {
    "kqa": [("请简述手足口病的病因。", "手足口病由肠道病毒引起。"),
            ("What causes croup?", "Croup is usually caused by parainfluenza virus."),
            ("小儿腹泻怎么护理？", "注意补液，预防脱水。")],
    "diag": [("孩子发烧三天，咳嗽。", "需要查血常规。")],
    "treat": [("孩子缺铁性贫血怎么治疗？", "口服铁剂，补充富含铁的食物。")],
}


def write_splits(folder: Path) -> Path:
    """`folder/eval/{kqa,diag,treat}.jsonl` as `pedgpt data build` writes them."""
    (folder / "eval").mkdir(parents=True, exist_ok=True)
    for task, pairs in SPLITS.items():
        with (folder / "eval" / f"{task}.jsonl").open("w", encoding="utf-8") as handle:
            for n, (question, reference) in enumerate(pairs):
                messages = [{"role": "user", "content": question}]
                if task == "diag":
                    messages = [{"role": "user", "content": "医生你好"},
                                {"role": "assistant", "content": "请说说症状。"}] + messages
                handle.write(json.dumps({"id": f"{task}-{n}", "task": task, "messages": messages,
                                         "reference": reference, "disease": "d"},
                                        ensure_ascii=False) + "\n")
    return folder
