"""Per-request cost of the clinical layers, and training throughput of the tiny recipe.

    from bench.perf_checks import checks_ms, training_throughput
    checks_ms(reps=5)          # knowledge retrieval and safety checks, ms per request (medians)
    training_throughput()      # tokens/s per stage of train/recipes/tiny.yaml (minutes on 2 cores)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    ("宝宝1岁半，发烧38.8度两天，咳嗽流鼻涕，精神还可以，怎么办？", 18, 11.0),
    ("3岁孩子腹泻一天五次，有点呕吐，尿少，需要补液吗？", 36, 14.0),
    ("My 8-month-old has a fever of 39.5 and a rash that does not fade when pressed.", 8, 8.5),
    ("孩子5岁，体重18公斤，布洛芬一次吃多少？", 60, 18.0),
    ("Toddler wheezing at night after a cold, is salbutamol safe?", 30, 13.0),
]
ANSWER = ("可能是病毒感染。布洛芬每次10 mg/kg，每6到8小时一次，24小时不超过4次；对乙酰氨基酚每次"
          "15 mg/kg。若出现抽搐、精神萎靡或呼吸困难，请立即就医。[F1]")


def _time_ms(call) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def checks_ms(reps: int = 5) -> dict:
    """Median ms per request: retrieval (k=8 facts), extraction + triage, answer guard; and the
    first retrieval in this process (opens the index: paid once per process, not per request)."""
    from pedgpt import safety
    from pedgpt.assistant import Patient
    from pedgpt.knowledge import retrieve

    first = _time_ms(lambda: retrieve(QUESTIONS[0][0], k=8))
    times: dict[str, list[float]] = {"retrieval_ms": [], "triage_ms": [], "guard_ms": []}
    for _ in range(reps):
        for question, age, weight in QUESTIONS:
            patient = Patient(age_months=age, weight_kg=weight)
            times["retrieval_ms"].append(_time_ms(lambda: retrieve(question, patient=patient, k=8)))
            times["triage_ms"].append(_time_ms(lambda: safety.assess(
                question, age_months=age, temp_c=safety.extract_patient(question).temp_c)))
            context = safety.SafetyContext(age_months=age, weight_kg=weight, language="zh")
            times["guard_ms"].append(_time_ms(lambda: safety.guard(ANSWER, context)))
    result = {name: round(statistics.median(values), 2) for name, values in times.items()}
    result["first_retrieval_ms"] = round(first, 1)
    result["requests"] = len(QUESTIONS) * reps
    return result


def training_throughput(recipe: str = "train/recipes/tiny.yaml") -> dict:
    """Train the tiny recipe once in a temp folder; tokens/s per stage = optimizer steps × batch
    × max_length / the stage's training wall time (token slots processed, padding included)."""
    from train.config import PipelineConfig, load_config
    from train.pipeline import run

    cfg = load_config(recipe, PipelineConfig)
    with tempfile.TemporaryDirectory(prefix="pedgpt-bench-train-") as tmp:
        cfg.output_dir = str(Path(tmp) / "tiny")
        run(cfg)
        summary = _read_summary(Path(cfg.output_dir) / "pipeline.json")
    stages = {}
    for stage, info in summary["stages"].items():
        stage_cfg = getattr(cfg, stage)
        tokens = (info.get("global_step") or 0) * stage_cfg.training.per_device_train_batch_size \
            * stage_cfg.max_length
        seconds = info.get("wall_seconds") or info["seconds_this_run"]
        stages[stage] = {"tokens": tokens, "seconds": round(seconds, 1),
                         "tokens_per_s": round(tokens / seconds, 1) if seconds else None}
    return stages


def _read_summary(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8"))
