"""Performance measurements, as small functions (`pedgpt bench` prints them).

    pedgpt bench --decode-only      # decode tokens/s: load_engine() vs raw llama-cpp-python
    pedgpt bench --decode-only --json --reps 7

The full report (`pedgpt bench`) lives in the checkout's `bench/perf.py` and reuses these.

`decode_comparison` runs the engine and a raw `llama_cpp.Llama` on the same GGUF (and the same
LoRA adapter, when the engine applies one) with the same thread count and context, greedy, same
prompt, alternating the contenders rep by rep (so drift in machine load hits both alike), and
reports medians and their ratio. Decode speed counts the tokens after the first one over the time
after the first one, so prompt evaluation is excluded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from pedgpt.engine.base import GenerationParams
from pedgpt.errors import InputError

BENCH_QUESTION = "请详细介绍一下儿童发热的家庭护理方法和需要就医的情况。"


@dataclass
class DecodeSample:
    """One timed generation."""

    tokens: int
    """Generated tokens (end-of-turn token not counted)."""
    first_token_s: float
    """Seconds from the call to the first token (prompt evaluation)."""
    total_s: float
    """Seconds from the call to the last token."""

    @property
    def decode_tps(self) -> float:
        """Tokens per second after the first token."""
        span = self.total_s - self.first_token_s
        return (self.tokens - 1) / span if self.tokens > 1 and span > 0 else 0.0


def time_token_stream(tokens: Iterable) -> DecodeSample:
    """Time any iterable that yields once per generated token."""
    started = time.perf_counter()
    first = last = started
    count = 0
    for _ in tokens:
        last = time.perf_counter()
        if count == 0:
            first = last
        count += 1
    return DecodeSample(count, first - started, last - started)


def engine_sample(engine, messages: list[dict], max_new_tokens: int, **generation) -> DecodeSample:
    """One greedy generation through the public engine API, timed at its first and last piece
    (as the raw contender), with the token count from the engine's stats. `generation`: more
    `Engine.stream` settings (e.g. answer_language)."""
    timed = time_token_stream(engine.stream(messages, max_new_tokens=max_new_tokens, temperature=0.0,
                                            **generation))
    return DecodeSample(engine.last_stats.completion_tokens, timed.first_token_s, timed.total_s)


def raw_llama_tokens(llm, prompt_ids: list[int], max_new_tokens: int):
    """Greedy tokens straight from `Llama.generate`, ending at an end-of-generation token."""
    import llama_cpp

    vocab = llm._model.vocab
    for count, token in enumerate(llm.generate(prompt_ids, temp=0.0, top_k=0, min_p=0.0,
                                               top_p=1.0, repeat_penalty=GenerationParams.repetition_penalty,
                                               reset=True)):
        if llama_cpp.llama_vocab_is_eog(vocab, token) or count >= max_new_tokens:
            return
        yield token


def alternate(contenders: dict[str, Callable[[], DecodeSample]], reps: int,
              warm_up: bool = True) -> dict[str, list[DecodeSample]]:
    """Run each contender once per rep, in turn, the order reversed every other rep (after one
    untimed warm-up each unless `warm_up` is False)."""
    for run in (contenders.values() if warm_up else ()):
        run()
    samples: dict[str, list[DecodeSample]] = {name: [] for name in contenders}
    for rep in range(reps):
        order = list(contenders) if rep % 2 == 0 else list(reversed(contenders))
        for name in order:
            samples[name].append(contenders[name]())
    return samples


def summarize(samples: list[DecodeSample]) -> dict:
    rates = [s.decode_tps for s in samples]
    return {"decode_tps_median": round(statistics.median(rates), 2),
            "decode_tps": [round(r, 2) for r in rates],
            "first_token_s_median": round(statistics.median(s.first_token_s for s in samples), 4),
            "tokens": [s.tokens for s in samples]}


def decode_comparison(model: str | None = None, reps: int = 5, max_new_tokens: int = 128,
                      question: str = BENCH_QUESTION, threads: int | None = None) -> dict:
    """Decode tokens/s of `load_engine(model)` beside raw llama-cpp-python on the same GGUF.

    `threads` overrides the engine's default (the cores this process may use) for both."""
    from pedgpt.engine import load_engine
    from pedgpt.engine.llamacpp_backend import open_llama

    engine = load_engine(model, backend="llamacpp", **({"n_threads": threads} if threads else {}))
    messages = [{"role": "user", "content": question}]
    raw = open_llama(engine.served_path, engine.context_length, engine.n_threads,
                     lora_path=engine.lora_path)  # the same model: the file the engine serves
    prompt_ids = engine.encode_prompt(messages)
    samples = alternate({
        "engine": lambda: engine_sample(engine, messages, max_new_tokens),
        "raw_llama_cpp": lambda: time_token_stream(raw_llama_tokens(raw, prompt_ids, max_new_tokens)),
    }, reps)
    result = {name: summarize(s) for name, s in samples.items()}
    raw_median = result["raw_llama_cpp"]["decode_tps_median"]
    return {"model": engine.info()["model"], "path": engine.ref.location,
            "threads": engine.n_threads, "context_length": engine.context_length,
            "max_new_tokens": max_new_tokens, "reps": reps, "prompt_tokens": len(prompt_ids),
            **result,
            "ratio": round(result["engine"]["decode_tps_median"] / raw_median, 3) if raw_median else None}


def check_reps(reps: int, threads: int | None = None) -> int:
    if not 1 <= reps <= 100:
        raise InputError(f"--reps must be between 1 and 100, got {reps}")
    if threads is not None and not 1 <= threads <= 512:
        raise InputError(f"--threads must be between 1 and 512, got {threads}")
    return reps

