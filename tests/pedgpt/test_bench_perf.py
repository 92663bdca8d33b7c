"""`pedgpt bench` measurement functions on tiny engines: result shapes, ratio arithmetic, target
verdicts, report rendering, and the follow-up prompt layout that lets llama.cpp reuse its cache.
No timing assertions."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import perf, perf_app, perf_engines, perf_prompts, report  # noqa: E402
from pedgpt.assistant import Assistant, Patient  # noqa: E402
from pedgpt.bench import DecodeSample  # noqa: E402
from pedgpt.engine.base import Engine, EngineStats  # noqa: E402
from pedgpt.errors import InputError  # noqa: E402


class CharEngine(Engine):
    """Counts tokens as characters; answers with a fixed text."""

    backend = "chars"

    def __init__(self, context_length: int = 20000):
        super().__init__(context_length=context_length)

    def info(self):
        return {"model": "chars", "backend": self.backend}

    def count_tokens(self, text):
        return len(text)

    def _generate(self, messages, params, cancel):
        self.last_stats = EngineStats(finish_reason="stop")
        yield "好的。"


def sample_result(**overrides) -> dict:
    block = {"engine": {"decode_tps_median": 50.0, "first_token_s_median": 2.0},
             "raw_llama_cpp": {"decode_tps_median": 52.0, "first_token_s_median": 1.9},
             "raw_llama_cpp_base": {"decode_tps_median": 56.0, "first_token_s_median": 1.8},
             "transformers_fp32": {"decode_tps_median": 8.0, "first_token_s_median": 9.0},
             "transformers_bf16": {"decode_tps_median": 17.0, "first_token_s_median": 5.0},
             "prompt_tokens": 1500}
    result = {"date": "2026-11-25 15:00 UTC", "reps": 3, "threads": 2, "model": "m",
              "short": dict(block, prompt_tokens=40), "long": block,
              "prefix_reuse": {"ratio": 0.3, "first_turn_ttft_s": 10.0, "follow_up_ttft_s": 3.0},
              "app": {"end_to_end": {"overhead_first_token_ms": 200.0}, "cold_start_s": 6.0,
                      "peak_rss_mb": 900.0},
              "machine": {"cpu": "x", "cores": 2, "load_start": 5.0, "load_end": 1.0, "high_load": True}}
    result.update(overrides)
    result["ratios"] = report.ratios(result)
    result["targets"] = report.targets(result)
    return result


def test_ratio_arithmetic_and_missing_values():
    assert report.ratio(50, 52) == pytest.approx(0.962)
    assert report.ratio(None, 3) is None and report.ratio(3, 0) is None
    ratios = sample_result()["ratios"]
    assert ratios["decode_vs_fp32"] == pytest.approx(6.25)
    assert ratios["ttft_long_vs_raw"] == pytest.approx(1.053)
    assert ratios["decode_vs_raw_base"] == pytest.approx(0.893)  # the adapter's own cost


def test_targets_pass_fail_and_not_measured():
    verdicts = {row["id"]: row["pass"] for row in sample_result()["targets"]}
    assert verdicts["decode_vs_raw"] is True and verdicts["decode_vs_fp32"] is True
    assert verdicts["app_overhead"] is False and verdicts["follow_up"] is True
    assert verdicts["cold_start"] is True and verdicts["peak_rss"] is True
    assert verdicts["decode_vs_base"] is False  # 0.893 < 0.9
    missing = {row["id"]: row["pass"] for row in sample_result(app={})["targets"]}
    assert missing["cold_start"] is None and missing["peak_rss"] is None


def test_render_table_lists_contenders_targets_and_load_warning():
    text = report.render_table(sample_result())
    assert "| transformers_fp32 | 8 |" in text and "| raw_llama_cpp_base | 56 |" in text
    assert "FAIL" in text and "PASS" in text and "WARNING" in text
    assert "load average at start 5.0, at end 1.0" in text


def test_chart_is_a_png(tmp_path):
    path = report.write_chart(sample_result(), tmp_path / "bench.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_follow_up_turn_keeps_the_previous_prompt_as_prefix():
    """The consultation-fixed system message and the history render identically on the next
    turn; the per-turn triage/facts sit just before the new question."""
    engine = CharEngine()
    assistant = Assistant(engine, use_knowledge=False)
    history = [{"role": "user", "content": "宝宝2岁，发烧一天"}, {"role": "assistant", "content": "多喝水。"}]
    first = assistant.prepare("consult", history, "还咳嗽怎么办？", Patient(age_months=24, weight_kg=12))
    second = perf_prompts.follow_up_turn(engine, first, "可以雾化。", assistant=assistant)
    kept = 1 + len(history)
    assert second.messages[:kept] == first.messages[:kept]
    assert second.messages[kept:kept + 2] == [first.messages[-1], {"role": "assistant", "content": "可以雾化。"}]
    assert second.messages[-2]["role"] == "system" and second.messages[-1]["role"] == "user"
    assert "体重：12 kg" in second.messages[0]["content"]


def test_follow_up_context_message_carries_triage():
    assistant = Assistant(CharEngine(), use_knowledge=False)
    history = [{"role": "user", "content": "宝宝6周"}, {"role": "assistant", "content": "好的"}]
    turn = assistant.prepare("consult", history, "6周的宝宝发烧38.5度")
    assert turn.triage["level"] == "emergency"
    assert "120" in turn.messages[-2]["content"] and "120" not in turn.messages[0]["content"]


def test_first_turn_is_one_system_message_as_in_training():
    turn = Assistant(CharEngine(), use_knowledge=False).prepare("consult", [], "6周的宝宝发烧38.5度")
    assert [m["role"] for m in turn.messages] == ["system", "user"]
    assert "120" in turn.messages[0]["content"]


def test_long_turn_reaches_its_target_length():
    engine = CharEngine()
    assistant = Assistant(engine, use_knowledge=False)
    turn = perf_prompts.long_turn(engine, target_tokens=1500, assistant=assistant)
    tokens = engine.prompt_tokens(turn.messages)
    assert 1000 <= tokens <= 1500 and len(turn.messages) >= 5


def test_common_prefix():
    assert perf_engines.common_prefix([1, 2, 3, 4], [1, 2, 5]) == 2
    assert perf_engines.common_prefix([], [1]) == 0


def test_hf_sample_times_every_generated_token(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    sample = perf_engines.hf_sample(model, [1, 2, 3, 4], max_new_tokens=5, eos_id=None)
    assert isinstance(sample, DecodeSample) and sample.tokens == 5
    assert 0 < sample.first_token_s <= sample.total_s


def test_peak_rss_of_this_process():
    assert perf_app.peak_rss_mb(os.getpid()) > 10
    assert perf_app.peak_rss_mb(2 ** 22 + 12345) is None


def test_machine_description_and_high_load_flag():
    described = perf.machine((1000.0, 0, 0))
    assert described["cores"] >= 1 and described["high_load"] is True
    assert set(described) >= {"cpu", "memory_gb", "load_start", "load_end"}


@pytest.mark.parametrize("kwargs", [{"reps": 0}, {"reps": 51}, {"max_new_tokens": 1}, {"threads": 0}])
def test_bench_options_validated(kwargs):
    with pytest.raises(InputError):
        perf.BenchOptions(**kwargs)


def test_pedgpt_threads_overrides_the_core_count(monkeypatch):
    from pedgpt.engine.llamacpp_backend import default_threads
    from pedgpt.errors import BackendError

    monkeypatch.setenv("PEDGPT_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("PEDGPT_THREADS", "zero")
    with pytest.raises(BackendError):
        default_threads()
    monkeypatch.delenv("PEDGPT_THREADS")
    assert default_threads() == len(os.sched_getaffinity(0))


class LanguageEngine(CharEngine):
    """Keeps the answer language of every call."""

    def __init__(self):
        super().__init__()
        self.languages = []

    def reset_cache(self):
        pass

    def _generate(self, messages, params, cancel):
        self.languages.append(params.answer_language)
        self.last_stats = EngineStats(completion_tokens=3, finish_reason="stop")
        yield from ("Fever", " care", " advice")


def test_english_lock_alternates_locked_and_free_runs_and_reports_the_ratio():
    engine = LanguageEngine()
    bench = perf_engines.EngineBench(engine=engine, raw=None)
    result = perf_engines.english_lock(bench, reps=2, max_new_tokens=8)
    assert engine.languages.count("en") == engine.languages.count(None) == 3  # warm-up + 2 reps
    assert set(result) >= {"locked", "unlocked", "ratio", "prompt_tokens"}
    assert result["locked"]["tokens"] == [3, 3]
    turn = perf_prompts.english_turn(engine, assistant=Assistant(engine, use_knowledge=False))
    assert turn.language == "en" and turn.messages[0]["role"] == "system"
    verdicts = {t["id"]: t for t in report.targets(sample_result(english_lock={"ratio": 0.9}))}
    assert verdicts["english_lock"]["pass"] is False
