"""`pedgpt eval judge`: pairwise win/tie/loss of run A vs run B, judged by any engine backend.

The judge (a local model, or an OpenAI-compatible endpoint through the `openai` backend) sees the
conversation and two answers, and weighs the paper's criteria — usefulness, correctness,
consistency, smoothness (prompts: `assets/eval/judge_prompts.yaml`). Every pair is judged in both
presentation orders to cancel position bias: A wins only if it wins in both orders, B likewise;
anything else (the orders disagree, a tie, an unreadable verdict) is a tie.

    pedgpt eval judge --a runs/base --b runs/sft --judge-model M --out runs/base-vs-sft

Verdicts are appended to `OUT/verdicts/<task>.jsonl` (resumable); `OUT/judge.md`,
`OUT/judge.json` and `OUT/charts/judge.png` summarise them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from pedgpt.engine.base import Engine
from pedgpt.errors import InputError, PedGPTError
from pedgpt.eval.runner import GenerationSettings
from pedgpt.eval.tasks import TASK_TITLES, parse_tasks
from pedgpt.eval.textfiles import append_jsonl, read_jsonl
from pedgpt.paths import asset

OUTCOMES = ("win", "tie", "loss")  # from A's point of view
_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.S)
_WINNER_FIELD = re.compile(r"winner\W{0,6}(1|2|tie|平局)", re.I)


@dataclass
class JudgeConfig:
    """One pairwise comparison."""

    a: Path
    """Run folder of model A."""
    b: Path
    """Run folder of model B."""
    out: Path
    tasks: tuple[str, ...] = ("kqa", "diag", "treat")
    limit: int | None = None
    """At most this many pairs per task."""
    judge_model: str | None = None
    judge_backend: str = "auto"
    generation: GenerationSettings = field(
        default_factory=lambda: GenerationSettings(max_new_tokens=96))

    def __post_init__(self) -> None:
        self.a, self.b, self.out = Path(self.a), Path(self.b), Path(self.out)
        for run in (self.a, self.b):
            if not (run / "predictions").is_dir():
                raise InputError(f"{run} has no predictions/; run `pedgpt eval run --out {run}`")
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, got {self.limit}")

    @classmethod
    def from_cli(cls, args) -> "JudgeConfig":
        return cls(a=args.a, b=args.b, out=args.out, tasks=parse_tasks(args.tasks),
                   limit=args.limit, judge_model=args.judge_model,
                   judge_backend=args.judge_backend or "auto")


@lru_cache(maxsize=1)
def judge_prompts() -> dict:
    import yaml

    data = yaml.safe_load(asset("eval", "judge_prompts.yaml").read_text(encoding="utf-8"))
    for language in ("zh", "en"):
        if not {"system", "user"} <= set(data.get(language, {})):
            raise InputError(f"judge_prompts.yaml: {language} needs system and user")
    return data


def judge_messages(conversation: Sequence[dict], answer_1: str, answer_2: str,
                   language: str) -> list[dict]:
    """The judge's chat messages for one presentation order."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    prompt = judge_prompts()["en" if language == "en" else "zh"]
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    user = env.from_string(prompt["user"]).render(
        conversation=list(conversation), answer_1=answer_1 or "（空）", answer_2=answer_2 or "（空）")
    return [{"role": "system", "content": prompt["system"].strip()},
            {"role": "user", "content": user}]


def parse_verdict(text: str) -> str | None:
    """"1", "2" or "tie" from the judge's reply; None when it cannot be read."""
    for candidate in _JSON_OBJECT.findall(text):
        try:
            winner = str(json.loads(candidate).get("winner", "")).strip().lower()
        except (ValueError, AttributeError):
            continue
        if winner in ("1", "2", "tie"):
            return winner
        if winner in ("平局", "平", "draw", "equal"):
            return "tie"
    match = _WINNER_FIELD.search(text)
    if match:
        value = match.group(1).lower()
        return "tie" if value in ("tie", "平局") else value
    return None


def combine(first: str | None, second: str | None) -> str:
    """Outcome for A from the verdicts of order (A, B) and order (B, A)."""
    a_first = {"1": "A", "2": "B"}.get(first or "", "tie")
    a_second = {"1": "B", "2": "A"}.get(second or "", "tie")
    if a_first == a_second == "A":
        return "win"
    if a_first == a_second == "B":
        return "loss"
    return "tie"


def judge_pair(engine: Engine, conversation: Sequence[dict], answer_a: str, answer_b: str,
               language: str, settings: GenerationSettings) -> dict:
    """Judge one pair in both orders; returns the verdict record."""
    replies, errors = [], []
    for first, second in ((answer_a, answer_b), (answer_b, answer_a)):
        messages = judge_messages(conversation, first, second, language)
        try:
            replies.append(engine.generate(messages, max_new_tokens=settings.max_new_tokens,
                                           temperature=settings.temperature,
                                           top_p=settings.top_p, seed=settings.seed))
        except PedGPTError as exc:  # e.g. the pair does not fit the judge's context: a tie
            replies.append("")
            errors.append(str(exc))
    verdicts = [parse_verdict(reply) for reply in replies]
    record = {"order_ab": verdicts[0], "order_ba": verdicts[1],
              "outcome": combine(*verdicts), "consistent": _consistent(*verdicts),
              "replies": replies}
    if errors:
        record["errors"] = errors
    return record


def _consistent(first: str | None, second: str | None) -> bool:
    """Both orders name the same answer (or both a tie)."""
    swap = {"1": "2", "2": "1", "tie": "tie"}
    return first is not None and second is not None and swap[first] == second


def paired_records(config: JudgeConfig, task: str) -> list[tuple[dict, dict]]:
    """(A record, B record) for the ids both runs answered, in A's order."""
    a_records = read_jsonl(config.a / "predictions" / f"{task}.jsonl", tolerate_torn_tail=True)
    b_by_id = {r.get("id"): r for r in
               read_jsonl(config.b / "predictions" / f"{task}.jsonl", tolerate_torn_tail=True)}
    pairs = [(a, b_by_id[a["id"]]) for a in a_records if a.get("id") in b_by_id]
    return pairs[:config.limit] if config.limit else pairs


def run_judge(config: JudgeConfig, engine: Engine | None = None) -> dict:
    """Judge every pair not judged yet, then summarise; returns the summary."""
    from tqdm import tqdm

    if engine is None:
        from pedgpt.engine import load_engine

        engine = load_engine(config.judge_model, backend=config.judge_backend)
    for task in config.tasks:
        path = config.out / "verdicts" / f"{task}.jsonl"
        done = {r.get("id") for r in read_jsonl(path, tolerate_torn_tail=True)}
        pending = [(a, b) for a, b in paired_records(config, task) if a["id"] not in done]
        for a, b in tqdm(pending, desc=f"judging {task}", unit="pair", disable=None):
            conversation = a.get("messages") or [{"role": "user", "content": a.get("question", "")}]
            verdict = judge_pair(engine, conversation, a.get("prediction", ""),
                                 b.get("prediction", ""), a.get("language", "zh"),
                                 config.generation)
            append_jsonl(path, {"id": a["id"], "task": task, **verdict})
    return summarise(config, _judge_name(engine))


def summarise(config: JudgeConfig, judge_name: str) -> dict:
    """Counts and rates per task; writes judge.json, judge.md and charts/judge.png."""
    tasks = {}
    for task in config.tasks:
        wanted = {a["id"] for a, _ in paired_records(config, task)}
        rows = [r for r in read_jsonl(config.out / "verdicts" / f"{task}.jsonl",
                                      tolerate_torn_tail=True) if r.get("id") in wanted]
        counts = {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}
        n = len(rows)
        tasks[task] = {**counts, "n": n,
                       **{f"{o}_rate": round(100 * counts[o] / n, 2) if n else 0.0
                          for o in OUTCOMES},
                       "position_consistency": round(100 * sum(r["consistent"] for r in rows) / n, 2)
                       if n else 0.0}
    summary = {"a": str(config.a), "b": str(config.b), "judge": judge_name,
               "generation": config.generation.to_dict(), "tasks": tasks}
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "judge.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                           encoding="utf-8")
    summary["report"] = str(_write_judge_report(config, summary))
    return summary


def _write_judge_report(config: JudgeConfig, summary: dict) -> Path:
    from pedgpt.eval.charts import grouped_bars

    lines = [f"# Pairwise judgement — A `{config.a}` vs B `{config.b}`", "",
             f"Judge: `{summary['judge']}`; criteria: usefulness, correctness, consistency, "
             "smoothness; each pair judged in both orders, a tie unless both orders agree.", "",
             "| Task | n | A wins (%) | ties (%) | B wins (%) | orders agree (%) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for task, row in summary["tasks"].items():
        lines.append(f"| {TASK_TITLES[task]} | {row['n']} | {row['win_rate']:.1f} | "
                     f"{row['tie_rate']:.1f} | {row['loss_rate']:.1f} | "
                     f"{row['position_consistency']:.1f} |")
    lines += ["", "For reference, the paper reports PediatricsGPT-13B vs HuatuoGPT-II win rates "
              "of 76 / 66 / 66 % (MedKQ&A / EviDiag / TreRecom) with GPT-4 as judge "
              "(reported in the paper).", ""]
    labels = [TASK_TITLES[t] for t in summary["tasks"]]
    chart = grouped_bars(config.out / "charts" / "judge.png", "Pairwise judgement (%)", labels,
                         {name: [row[f"{o}_rate"] for row in summary["tasks"].values()]
                          for name, o in (("A wins", "win"), ("tie", "tie"), ("B wins", "loss"))},
                         ylabel="%")
    lines.append(f"![judge]({chart.relative_to(config.out).as_posix()})")
    path = config.out / "judge.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _judge_name(engine: Engine) -> str:
    try:
        return str(engine.info().get("model", engine.backend))
    except Exception:  # descriptive only
        return engine.backend
