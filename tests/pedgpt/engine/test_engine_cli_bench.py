"""`pedgpt model` / `pedgpt bench` commands and the bench measurement functions."""

import json
import subprocess
import sys

import pytest

from pedgpt.bench import DecodeSample, alternate, summarize, time_token_stream
from pedgpt.engine.model_store import EMBEDDED


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pedgpt", *args], capture_output=True, text=True,
                          env=env)


def test_decode_sample_rates():
    sample = DecodeSample(tokens=11, first_token_s=0.5, total_s=1.5)
    assert sample.decode_tps == pytest.approx(10.0)
    assert DecodeSample(1, 0.2, 0.2).decode_tps == 0.0


def test_time_token_stream_counts_every_item():
    sample = time_token_stream(iter(range(7)))
    assert sample.tokens == 7 and 0 <= sample.first_token_s <= sample.total_s


def test_alternate_runs_contenders_in_turn_after_a_warm_up():
    calls = []

    def contender(name):
        def run():
            calls.append(name)
            return DecodeSample(5, 0.1, 0.5)
        return run

    samples = alternate({"a": contender("a"), "b": contender("b")}, reps=3)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]
    assert {k: len(v) for k, v in samples.items()} == {"a": 3, "b": 3}
    assert summarize(samples["a"])["decode_tps_median"] == pytest.approx(10.0)


def test_model_info_for_a_transformers_folder(tiny_model_dir):
    result = run_cli("model", "info", "--model", str(tiny_model_dir), "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["backend"] == "transformers" and info["dtype"] == "bf16" and info["path"] == str(tiny_model_dir)


@pytest.mark.parametrize("args, message", [
    (["model", "info", "--model", "/no/such/model.gguf"], "no such model file"),
    (["model", "info", "--device", "cuda"], "CUDA was asked for"),
    (["bench", "--reps", "0"], "--reps"),
])
def test_cli_errors_are_one_line(args, message, embedded_gguf):
    # embedded_gguf: the model is already assembled, so a first-ever assembly's progress bar
    # (stderr, by design) is not mistaken for extra error lines in a fresh checkout
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


@pytest.mark.model
def test_model_fetch_and_info_on_the_embedded_model(embedded_gguf):
    fetched = json.loads(run_cli("model", "fetch", "--json").stdout)
    assert fetched == {"model": EMBEDDED.name, "path": str(embedded_gguf), "size": EMBEDDED.size,
                       "sha256": EMBEDDED.sha256, "verified": True}
    info = json.loads(run_cli("model", "info", "--json").stdout)
    assert info["backend"] == "llamacpp" and info["dtype"] == "Q4_K_M" and info["sha256"] == EMBEDDED.sha256


@pytest.mark.model
def test_bench_json_reports_both_contenders(embedded_gguf):
    result = run_cli("bench", "--decode-only", "--reps", "1", "--max-new-tokens", "8", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"]["decode_tps_median"] > 0 and report["raw_llama_cpp"]["decode_tps_median"] > 0
    assert report["ratio"] > 0 and report["threads"] >= 1 and report["reps"] == 1
