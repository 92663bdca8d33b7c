"""llama.cpp backend (llama-cpp-python): GGUF models on CPU — the fast path on a 2-vCPU Space.

    from pedgpt.engine import load_engine
    engine = load_engine()          # the embedded GGUF → this backend
    print(engine.generate([{"role": "user", "content": "宝宝发烧怎么办？"}], max_new_tokens=64))

The prompt is rendered with the model's own chat template (GGUF metadata
`tokenizer.chat_template`), tokenized by llama.cpp with special tokens parsed, and decoded with
`Llama.generate`, the lowest-overhead streaming loop llama-cpp-python offers. llama.cpp keeps the
KV cache of the previous call, so a follow-up turn that shares the prompt prefix only evaluates
the new tokens.

A plain LoRA adapter trained by `train/` (the shipped PedGPT-0.5B) is merged once into the
quantized base (`pedgpt.engine.gguf_merge`, built on first use with a progress bar and a recorded
sha256) and that GGUF is served, at the base's decode speed. With `PEDGPT_LORA_MODE=runtime`, or
when the base stores an adapted tensor in a type the merge cannot handle, the adapter is instead
converted to llama.cpp's GGUF LoRA format (`pedgpt.engine.gguf_lora`) and applied at load over
the base (exact, but each adapted matrix costs two extra matmuls per token).
"""

from __future__ import annotations

import codecs
import ctypes
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from pedgpt.chat_template import Message
from pedgpt.engine.base import Engine, EngineStats, GenerationParams
from pedgpt.engine.loader import ModelRef, gguf_quantization, llamacpp_serves
from pedgpt.engine.templates import template_from_source
from pedgpt.errors import BackendError, ModelError

DEFAULT_CONTEXT = 4096


def default_threads() -> int:
    """PEDGPT_THREADS if set, else the cores this process may run on (a container's CPU set, not
    the host's core count). On a host shared with other busy processes use fewer threads than
    cores: `pedgpt bench` measured 2 threads on 2 busy cores at 1-2 tokens/s, 1 thread at ~25."""
    value = os.environ.get("PEDGPT_THREADS", "").strip()
    if value:
        if not value.isdigit() or not 1 <= int(value) <= 512:
            raise BackendError(f"PEDGPT_THREADS must be a whole number from 1 to 512, got {value!r}")
        return int(value)
    return max(1, len(os.sched_getaffinity(0)))


def open_llama(path: str | Path, context_length: int = DEFAULT_CONTEXT, n_threads: int | None = None,
               n_gpu_layers: int = 0, seed: int = 0, lora_path: str | Path | None = None):
    """A `llama_cpp.Llama` with our settings (also used by `pedgpt bench` for the raw baseline);
    `lora_path`: a GGUF LoRA applied over the base at scale 1."""
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    threads = n_threads or default_threads()
    try:
        # llama.cpp logs each adapted tensor's buffer choice to fd 2, even with verbose=False.
        with suppress_stdout_stderr(disable=lora_path is None):
            return Llama(model_path=str(path), n_ctx=int(context_length), n_threads=threads,
                         n_threads_batch=threads, n_gpu_layers=n_gpu_layers, seed=seed, verbose=False,
                         lora_path=str(lora_path) if lora_path else None)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"llama.cpp could not load {path}: the file is corrupt, truncated or of "
                         f"an unsupported architecture ({exc})") from None


class LlamaCppEngine(Engine):
    """One GGUF model in-process through llama-cpp-python."""

    backend = "llamacpp"

    def __init__(self, ref: ModelRef, device: str = "cpu", context_length: int = DEFAULT_CONTEXT,
                 n_threads: int | None = None, **unknown) -> None:
        if unknown:
            raise BackendError(f"llamacpp backend: unknown option(s): {', '.join(sorted(unknown))}")
        self.ref = ref
        self.device = device
        self.n_threads = int(n_threads or default_threads())
        # served_path: the GGUF llama.cpp loads (the merged file, or the base); lora_path: a runtime
        # GGUF LoRA over it, if any; adapter_mode: "merge" | "runtime" | None (no adapter).
        self.served_path, self.lora_path, self.adapter_mode = self._lora(ref)
        self.served_sha256 = self._served_sha256()
        self.llm = open_llama(self.served_path, context_length, self.n_threads,
                              n_gpu_layers=-1 if device == "cuda" else 0, lora_path=self.lora_path)
        import llama_cpp

        self._vocab = self.llm._model.vocab  # the C vocab handle, for EOG checks / pieces
        self._vocab_is_eog = llama_cpp.llama_vocab_is_eog
        self._pieces: dict[int, bytes] = {}
        self._lock_processors: dict[str | None, object] = {}
        super().__init__(self._template(), context_length=self.llm.n_ctx())

    @property
    def serves_adapter(self) -> bool:
        return self.adapter_mode is not None

    def _served_sha256(self) -> str | None:
        """The loaded file's sha256: the merged file's is recorded beside it at build time (a
        stat, not a re-hash; read once here, not on every `info()` call)."""
        if self.adapter_mode != "merge":
            return self.ref.sha256
        from pedgpt.engine.model_store import file_sha256

        return file_sha256(self.served_path, progress=False)

    @staticmethod
    def _lora(ref: ModelRef) -> tuple[Path, Path | None, str | None]:
        """(GGUF to load, runtime GGUF LoRA or None, adapter mode) for `ref`."""
        if not ref.adapter:
            return Path(ref.location), None, None
        if not llamacpp_serves(ref):
            raise BackendError("the llamacpp backend applies plain LoRA adapters only; "
                               "use --backend transformers for MoE-LoRA")
        import logging

        from pedgpt.engine.gguf_lora import gguf_lora_for
        from pedgpt.engine.gguf_merge import UnsupportedMergeType, lora_mode, merged_gguf_for

        if lora_mode() == "merge":
            try:
                return merged_gguf_for(ref.location, ref.adapter, base_sha256=ref.sha256), None, "merge"
            except UnsupportedMergeType as exc:
                logging.getLogger(__name__).warning(
                    "%s; applying the adapter as a runtime GGUF LoRA instead (slower decode)", exc)
        return Path(ref.location), gguf_lora_for(ref.adapter), "runtime"

    def _template(self):
        model = self.llm._model
        meta = self.llm.metadata
        # As transformers' apply_chat_template: the template decides whether to emit bos_token.
        bos = model.token_get_text(model.token_bos()) if model.token_bos() >= 0 else ""
        eos = model.token_get_text(model.token_eos()) if model.token_eos() >= 0 else ""
        eot = model.token_eot()
        extra = (model.token_get_text(eot),) if eot >= 0 else ()
        return template_from_source(meta.get("tokenizer.chat_template"), bos, eos, extra)

    # ---- Engine API ---------------------------------------------------------------------------
    def info(self) -> dict:
        """`path`/`size`/`sha256`: the base model; `served_gguf`/`served_sha256`: the file loaded."""
        return {
            "model": self.ref.name, "backend": self.backend, "device": self.device,
            "dtype": self._dtype(), "path": self.ref.location,
            "size": Path(self.ref.location).stat().st_size, "sha256": self.ref.sha256,
            "embedded": self.ref.embedded, "threads": self.n_threads,
            "context_length": self.context_length,
            "adapter": self.ref.adapter, "adapter_type": self.ref.adapter_type,
            "adapter_mode": self.adapter_mode,
            "adapter_gguf": str(self.lora_path) if self.lora_path else None,
            "served_gguf": str(self.served_path), "served_sha256": self.served_sha256,
        }

    def _dtype(self) -> str:
        """The GGUF file type; a merged adapter's tensors are Q8_0 whatever the base's type."""
        base = gguf_quantization(Path(self.ref.location), self.llm.metadata)
        return f"{base}, adapter merged (Q8_0 or finer)" if self.adapter_mode == "merge" else base

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def encode(self, text: str) -> list[int]:
        """Token ids of already-rendered text (special tokens such as <|im_start|> parsed).

        No BOS is added: templates that need one render `bos_token` themselves, exactly as the
        training collator sees it."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def encode_prompt(self, messages: list[Message]) -> list[int]:
        """The ids fed to the model for this conversation (prompt + generation header)."""
        return self.encode(self.template.render(messages, add_generation_prompt=True))

    # ---- generation ---------------------------------------------------------------------------
    def _generate(self, messages: list[Message], params: GenerationParams,
                  cancel: threading.Event) -> Iterator[str]:
        prompt = self.encode_prompt(messages)
        self.check_fits(len(prompt), params)
        budget = min(params.max_new_tokens, self.context_length - len(prompt))
        stats = self.last_stats = EngineStats(prompt_tokens=len(prompt))
        started = time.perf_counter()
        self.llm.set_seed(params.seed)
        tokens = self.llm.generate(prompt, temp=float(params.temperature), top_p=params.top_p,
                                   top_k=0, min_p=0.0, repeat_penalty=params.repetition_penalty, reset=True,
                                   logits_processor=self._script_lock(params.answer_language))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        is_eog, piece = self._is_eog, self._piece  # locals: this loop runs once per token
        stats.finish_reason = "stop"  # end of turn, or the caller stopped at a stop string
        try:
            for token in tokens:
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - started
                if is_eog(token):
                    break
                stats.completion_tokens += 1
                text = decoder.decode(piece(token))
                if text:
                    yield text
                if cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
                if stats.completion_tokens >= budget:
                    stats.finish_reason = "length"
                    break
            tail = decoder.decode(b"", final=True)
            if tail and stats.finish_reason != "cancelled":
                yield tail
        finally:
            tokens.close()
            stats.total_s = time.perf_counter() - started
            stats.extra = {"threads": self.n_threads}

    def _script_lock(self, language: str | None):
        """A logits processor that rules out the ids `forbidden_ids(language)` names, or None.
        llama-cpp-python runs it first in the sampler chain, on logits in vocabulary order
        (shape [n_vocab]); setting -inf costs ~30 µs per token for ~28k ids."""
        if language not in self._lock_processors:  # built once per language, not per request
            self._lock_processors[language] = self._build_script_lock(self.forbidden_ids(language))
        return self._lock_processors[language]

    @staticmethod
    def _build_script_lock(forbidden: tuple[int, ...]):
        if not forbidden:
            return None
        import numpy as np
        from llama_cpp import LogitsProcessorList

        ids = np.asarray(forbidden, dtype=np.intp)

        def rule_out(_input_ids, scores):
            scores[ids] = -np.inf
            return scores

        return LogitsProcessorList([rule_out])

    def token_pieces(self):
        # Not through the `_piece` cache: that holds only ids actually generated.
        return (_token_bytes(self._vocab, token) for token in range(self.llm.n_vocab()))

    def _is_eog(self, token: int) -> bool:
        return bool(self._vocab_is_eog(self._vocab, token))

    def _piece(self, token: int) -> bytes:
        """UTF-8 bytes of one token (special tokens render empty); cached per token id."""
        cached = self._pieces.get(token)
        if cached is None:
            cached = self._pieces[token] = _token_bytes(self._vocab, token)
        return cached

    def reset_cache(self) -> None:
        """Forget the KV cache (the next call re-evaluates its whole prompt)."""
        self.llm.reset()


def _token_bytes(vocab, token: int) -> bytes:
    import llama_cpp

    size = 64
    while True:
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(token), buffer, size, 0, False)
        if n < 0:  # buffer too small: -n is the size needed
            size = -n
            continue
        return buffer.raw[:n]

