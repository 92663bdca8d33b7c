"""The app from the outside: cold start, end-to-end streaming through `gradio_client`, peak RSS.

    from bench.perf_app import app_measurements
    app_measurements(bench, reps=3, max_new_tokens=64)

The app runs as `python -m pedgpt serve` on 127.0.0.1 in a subprocess (`bench.load.AppServer`)
with its own PEDGPT_HOME and database. End-to-end: each rep opens a new consultation (a fresh
client session), sends a question (`consult_send`) and streams the answer (`consult_answer`),
once through the page's own queue protocol (`bench.queue_client`, what a browser does) and once
through `gradio_client`; the same question also goes through `Assistant.prepare` + the bench's
own engine. The three alternate rep by rep; the difference of the medians is the app's overhead
(safety, retrieval, storage, queue, HTTP). gradio_client adds its own message polling (see
`bench.queue_client`), reported beside the page figure, not hidden in it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from pedgpt.bench import DecodeSample, time_token_stream

QUESTION = "宝宝2岁，发烧两天，体温38.5℃，精神尚可，有点咳嗽，需要注意什么？（第{tag}次）"
USER, PASSWORD = "bench_doctor", "bench-password-123"


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a running process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def knowledge_index_path() -> Path | None:
    from pedgpt.paths import cache_dir

    found = sorted(cache_dir("knowledge").glob("*.sqlite"))
    return found[0] if found else None


def start_timed(home: Path, model: str | None, env: dict | None = None, threads: int | None = None):
    """(server, seconds from process start to the page served); `threads`: the server engine's
    PEDGPT_THREADS (the same as the bench's own engine, or the comparison is unfair)."""
    env = {**(env or {}), **({"PEDGPT_THREADS": str(threads)} if threads else {})}
    from bench.load import AppServer

    server = AppServer(home, model or "", backend="llamacpp" if model else "auto",
                       env={"PEDGPT_AUTH": "on", **(env or {})}, knowledge_index=knowledge_index_path())
    if not model:
        server.env.pop("PEDGPT_MODEL", None)
    if not (home / "pedgpt.db").exists():
        server.add_users({USER: PASSWORD})
    started = time.perf_counter()
    server.start()
    return server, time.perf_counter() - started


def app_sample(url: str, tag: int, max_new_tokens: int) -> DecodeSample:
    """One question in a new consultation: time to the first streamed chunk and to the last."""
    from bench.load import _send, _stream_answer, connect

    client = connect(url, USER, PASSWORD)
    try:
        started = time.perf_counter()
        _send(client, QUESTION.format(tag=tag))
        first, total, _ = _stream_answer(client, max_new_tokens)
        send_s = time.perf_counter() - started - total
        return DecodeSample(0, send_s + first, send_s + total)  # tokens: not visible here
    finally:
        client.close()


def page_sample(url: str, tag: int, max_new_tokens: int) -> DecodeSample:
    """The same through the page's queue protocol: send, then the first and last streamed chunk."""
    from bench.queue_client import QueueClient

    client = QueueClient(url, USER, PASSWORD)
    try:
        started = time.perf_counter()
        client.call("consult_send", QUESTION.format(tag=tag), "", "", "", "", "", "", "", False, "en")
        sent = time.perf_counter() - started
        times = [seconds for seconds, _ in client.stream("consult_answer", "en", max_new_tokens, 0.0)]
        return DecodeSample(0, sent + times[0], sent + times[-1])
    finally:
        client.close()


def engine_alone(engine, tag: int, max_new_tokens: int) -> DecodeSample:
    """The engine alone on the very prompt the app builds for this question (prepared untimed,
    so retrieval and safety count as app overhead)."""
    from pedgpt.assistant import Assistant

    turn = Assistant(engine).prepare("consult", [], QUESTION.format(tag=tag), None, max_new_tokens)
    timed = time_token_stream(engine.stream(turn.messages, max_new_tokens=max_new_tokens))
    return DecodeSample(engine.last_stats.completion_tokens, timed.first_token_s, timed.total_s)


def end_to_end(url: str, engine, reps: int, max_new_tokens: int) -> dict:
    contenders = {"app": page_sample, "app_gradio_client": app_sample,
                  "engine": lambda u, t, m: engine_alone(engine, t, m)}
    samples: dict[str, list[DecodeSample]] = {name: [] for name in contenders}
    for run in contenders.values():  # warm-up, untimed: first requests load lazily
        run(url, -1, max_new_tokens)
    for rep in range(reps):
        order = list(contenders) if rep % 2 == 0 else list(reversed(contenders))
        for name in order:
            samples[name].append(contenders[name](url, 1000 * rep + len(samples[name]), max_new_tokens))
    first = {k: statistics.median(s.first_token_s for s in v) for k, v in samples.items()}
    last = {k: statistics.median(s.total_s for s in v) for k, v in samples.items()}
    result = {"app_first_token_s": round(first["app"], 4), "engine_first_token_s": round(first["engine"], 4),
              "app_last_token_s": round(last["app"], 4), "engine_last_token_s": round(last["engine"], 4),
              "overhead_first_token_ms": round(1000 * (first["app"] - first["engine"]), 1),
              "overhead_last_token_ms": round(1000 * (last["app"] - last["engine"]), 1),
              "gradio_client_first_token_s": round(first["app_gradio_client"], 4),
              "gradio_client_overhead_first_token_ms": round(
                  1000 * (first["app_gradio_client"] - first["engine"]), 1)}
    result.update({f"{name}_runs_first_s": [round(s.first_token_s, 3) for s in v] for name, v in samples.items()})
    return result


def app_measurements(engine, reps: int, max_new_tokens: int, first_ever: bool = True) -> dict:
    """Cold starts (assembled model; first-ever with assembly), end-to-end overhead, peak RSS."""
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="pedgpt-bench-app-") as tmp:
        home = Path(tmp) / "home"
        starts = []
        # The app serves what the bench's engine runs: the adapter folder (base GGUF + LoRA) or the GGUF.
        served = engine.ref.adapter or engine.ref.location
        server, seconds = start_timed(home, served, threads=engine.n_threads)
        starts.append(seconds)
        try:
            result["end_to_end"] = end_to_end(server.url, engine, reps, max_new_tokens)
            result["peak_rss_mb"] = peak_rss_mb(server.process.pid)
        finally:
            server.stop()
        for _ in range(2):
            server, seconds = start_timed(home, served, threads=engine.n_threads)
            server.stop()
            starts.append(seconds)
        result["cold_start_s"] = round(statistics.median(starts), 2)
        result["cold_start_runs_s"] = [round(s, 2) for s in starts]
        if first_ever:
            result["first_ever_start_s"] = round(first_ever_start(Path(tmp) / "fresh"), 2)
    return result


def first_ever_start(home: Path) -> float:
    """A fresh PEDGPT_HOME with no model cache: the embedded GGUF is assembled from its pip
    packages and verified before the page is served (the knowledge index is linked in)."""
    server, seconds = start_timed(home, None)
    server.stop()
    return seconds
