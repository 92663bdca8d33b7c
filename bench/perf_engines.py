"""Engine contenders on identical token ids: `load_engine()` default, raw llama-cpp-python (same
GGUF, same threads), plain transformers fp32 `generate` (what anchor demos run) and bf16.

    from bench.perf_engines import EngineBench
    bench = EngineBench.open(model=None, threads=None, with_transformers=True)
    bench.compare(bench.short_ids(), reps=3, max_new_tokens=64)   # {name: summary}, medians

Every sample starts from an empty KV cache, so time-to-first-token is the full prompt evaluation;
`prefix_reuse` then measures what the cache saves on a follow-up turn of one consultation.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from pedgpt.bench import (DecodeSample, alternate, engine_sample, raw_llama_tokens, summarize,
                          time_token_stream)
from pedgpt.engine.base import GenerationParams


class _StreamClock:
    """A transformers streamer that records the time of every generated token (the first `put`
    is the prompt and is skipped). Shape of `put` values: [1, n] then [1] per step."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._prompt_seen = False

    def put(self, value) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


def hf_sample(model, prompt_ids: list[int], max_new_tokens: int, eos_id: int | None) -> DecodeSample:
    """One greedy `generate` (the anchors' path), timed per token by a streamer."""
    import torch

    clock = _StreamClock()
    inputs = torch.tensor([prompt_ids])
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=max_new_tokens,
                       do_sample=False, repetition_penalty=GenerationParams.repetition_penalty,
                       eos_token_id=eos_id, pad_token_id=eos_id, streamer=clock)
    if not clock.times:
        return DecodeSample(0, 0.0, time.perf_counter() - started)
    return DecodeSample(len(clock.times), clock.times[0] - started, clock.times[-1] - started)


def load_hf(engine, dtype_name: str):
    """The engine's GGUF as a dense transformers model in fp32 or bf16 — what anchor demos run.

    transformers 5 keeps GGUF weights packed unless asked to de-quantise; the dense copy is saved
    once under PEDGPT_HOME/models-hf/ (`save_pretrained`), so later runs skip the conversion."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    folder = dense_copy(engine)
    return AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype).eval()


def dense_copy(engine):
    """PEDGPT_HOME/models-hf/bench-<sha256[:16]>: the GGUF de-quantised to bf16, made once."""
    from pathlib import Path

    from pedgpt.engine.model_store import dequantized_copy
    from pedgpt.paths import cache_dir

    path = Path(engine.ref.location)
    key = (engine.ref.sha256 or path.stem)[:16]
    return dequantized_copy(path, cache_dir("models-hf") / f"bench-{key}")


@dataclass
class EngineBench:
    """The contenders, loaded once; `compare` alternates them on one prompt."""

    engine: object
    raw: object
    """Raw llama-cpp-python on the very file the engine serves (the merged GGUF, or the base plus
    the engine's runtime GGUF LoRA): the same model, so the ratio is the engine's own overhead."""
    hf: dict = field(default_factory=dict)
    """{"transformers_fp32": model, "transformers_bf16": model} (empty when skipped)."""
    raw_base: object = None
    """Raw llama-cpp-python on the bare base GGUF, when the engine serves an adapter on it: the
    served default against the model it was trained from (the adapter's own cost)."""
    hf_threads: int = 1
    """torch threads of the transformers contenders: the same count as llama.cpp's."""

    @classmethod
    def open(cls, model: str | None = None, threads: int | None = None,
             with_transformers: bool = True) -> "EngineBench":
        from pedgpt.engine import load_engine
        from pedgpt.engine.llamacpp_backend import open_llama

        options = {"n_threads": threads} if threads else {}
        engine = load_engine(model, backend="auto", **options)
        if engine.backend != "llamacpp":
            from pedgpt.errors import InputError

            raise InputError(f"pedgpt bench compares against llama.cpp: the model must be a GGUF "
                             f"(got backend {engine.backend})")
        raw = open_llama(engine.served_path, engine.context_length, engine.n_threads,
                         lora_path=engine.lora_path)
        raw_base = None
        if engine.serves_adapter:  # ref.location is the bare base the adapter was trained on
            raw_base = open_llama(engine.ref.location, engine.context_length, engine.n_threads)
        hf = {}
        if with_transformers:
            import torch

            # The same thread count as llama.cpp. (On this 2-core machine under load, 2 torch
            # threads decoded 2-8x slower than 1: pass --threads 1 there.) `thread_sweep`
            # re-measures both.
            torch.set_num_threads(engine.n_threads)
            hf = {f"transformers_{d}": load_hf(engine, d) for d in ("fp32", "bf16")}
        return cls(engine, raw, hf, raw_base, hf_threads=engine.n_threads)

    @property
    def eos_id(self) -> int:
        return self.raw._model.token_eos()

    def contenders(self, messages: list[dict], max_new_tokens: int, hf_tokens: int) -> dict:
        """{name: () -> DecodeSample}; each starts from an empty KV cache."""
        engine, raw = self.engine, self.raw
        ids = engine.encode_prompt(messages)

        def run_engine() -> DecodeSample:
            engine.reset_cache()
            return engine_sample(engine, messages, max_new_tokens)

        def run_raw() -> DecodeSample:
            raw.reset()
            return time_token_stream(raw_llama_tokens(raw, ids, max_new_tokens))

        runs = {"engine": run_engine, "raw_llama_cpp": run_raw}
        if self.raw_base is not None:
            def run_base() -> DecodeSample:
                self.raw_base.reset()
                return time_token_stream(raw_llama_tokens(self.raw_base, ids, max_new_tokens))

            runs["raw_llama_cpp_base"] = run_base
        for name, model in self.hf.items():
            runs[name] = (lambda m=model: hf_sample(m, ids, hf_tokens, self.eos_id))
        return runs

    def compare(self, messages: list[dict], reps: int, max_new_tokens: int, hf_tokens: int,
                warm_up: bool = True) -> dict:
        """Alternating medians for every contender on one prompt, plus the prompt length."""
        samples = alternate(self.contenders(messages, max_new_tokens, hf_tokens), reps, warm_up)
        result = {name: summarize(s) for name, s in samples.items()}
        result["prompt_tokens"] = len(self.engine.encode_prompt(messages))
        return result


def prefix_reuse(bench: EngineBench, reps: int, max_new_tokens: int) -> dict:
    """TTFT of a long consultation turn from a cold cache vs the follow-up turn right after it
    (llama.cpp keeps the KV cache: only tokens after the common prefix are evaluated)."""
    from bench.perf_prompts import follow_up_turn, long_turn
    from pedgpt.assistant import Assistant

    engine = bench.engine
    assistant = Assistant(engine)
    first_s, follow_s, reused, follow_tokens = [], [], [], 0
    for _ in range(reps):
        engine.reset_cache()
        first = long_turn(engine, max_new_tokens=max_new_tokens, assistant=assistant)
        answer = "".join(engine.stream(first.messages, max_new_tokens=max_new_tokens))
        first_s.append(engine.last_stats.first_token_s)
        cached = list(engine.llm._input_ids)  # what the KV cache holds now
        second = follow_up_turn(engine, first, answer, max_new_tokens, assistant)
        ids = engine.encode_prompt(second.messages)
        reused.append(common_prefix(cached, ids))
        follow_tokens = len(ids)
        engine.generate(second.messages, max_new_tokens=max_new_tokens)
        follow_s.append(engine.last_stats.first_token_s)
    first_med, follow_med = statistics.median(first_s), statistics.median(follow_s)
    return {"first_turn_ttft_s": round(first_med, 4), "follow_up_ttft_s": round(follow_med, 4),
            "first_turn_prompt_tokens": len(engine.encode_prompt(first.messages)),
            "follow_up_prompt_tokens": follow_tokens, "reused_prefix_tokens": min(reused),
            "ratio": round(follow_med / first_med, 3) if first_med else None,
            "first_turn_runs": [round(s, 3) for s in first_s],
            "follow_up_runs": [round(s, 3) for s in follow_s]}


def english_lock(bench: EngineBench, reps: int, max_new_tokens: int) -> dict:
    """Decode tok/s of the served default on an English question with the English-answer lock
    (the app's setting) and without it, alternating; `ratio` = locked / unlocked."""
    from bench.perf_prompts import english_turn

    engine = bench.engine
    messages = english_turn(engine, max_new_tokens).messages

    def run(language):
        engine.reset_cache()
        return engine_sample(engine, messages, max_new_tokens, answer_language=language)

    samples = alternate({"locked": lambda: run("en"), "unlocked": lambda: run(None)}, reps)
    result = {name: summarize(s) for name, s in samples.items()}
    locked, free = result["locked"]["decode_tps_median"], result["unlocked"]["decode_tps_median"]
    result["ratio"] = round(locked / free, 3) if free else None
    result["prompt_tokens"] = engine.prompt_tokens(messages)
    return result


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common leading run of two token id lists."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def thread_sweep(bench: EngineBench, messages: list[dict], counts: list[int], reps: int,
                 max_new_tokens: int, hf_tokens: int) -> dict:
    """Decode tok/s of llama.cpp and transformers bf16 at each thread count (alternating)."""
    import torch

    engine, raw = bench.engine, bench.raw
    ids = engine.encode_prompt(messages)
    model = bench.hf.get("transformers_bf16")
    runs = {}
    for n in counts:
        runs[f"llama_cpp_{n}t"] = lambda n=n: _with_threads(raw, n, engine.n_threads, ids, max_new_tokens)
        if model is not None:
            runs[f"transformers_bf16_{n}t"] = lambda n=n: _torch_threads(n, bench.hf_threads, model, ids,
                                                                        hf_tokens, bench.eos_id)
    samples = alternate(runs, reps, warm_up=False)
    torch.set_num_threads(bench.hf_threads)
    return {name: summarize(s) for name, s in samples.items()}


def _set_threads(raw, n: int) -> None:
    import llama_cpp

    llama_cpp.llama_set_n_threads(raw._ctx.ctx, n, n)


def _with_threads(raw, n: int, default: int, ids: list[int], max_new_tokens: int) -> DecodeSample:
    raw.reset()
    _set_threads(raw, n)
    try:
        return time_token_stream(raw_llama_tokens(raw, ids, max_new_tokens))
    finally:
        _set_threads(raw, default)


def _torch_threads(n: int, default: int, model, ids: list[int], tokens: int, eos: int) -> DecodeSample:
    import torch

    torch.set_num_threads(n)
    try:
        return hf_sample(model, ids, tokens, eos)
    finally:
        torch.set_num_threads(default)
