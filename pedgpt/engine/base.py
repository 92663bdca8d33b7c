"""The engine interface every backend implements, plus what all backends share.

`Engine.stream(messages, ...)` validates the request, waits its turn (one in-process model
serves one generation at a time, callers are served first-come first-served), then yields text
pieces from the backend's `_generate`, holding back any text that could be the start of a stop
string. `Engine.cancel()` (the UI's stop button) ends the running generation at the next token;
closing the generator does the same. Either way the engine is immediately usable again.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from pedgpt.chat_template import DEFAULT_TEMPLATE, ChatTemplate, Message, validate_messages
from pedgpt.errors import InputError


@dataclass
class GenerationParams:
    """Sampling settings for one generation (recorded with every stored answer)."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    """0 → greedy decoding."""
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0
    repetition_penalty: float = 1.1
    """Penalty on recently generated tokens; 1.0 = off. Small models loop without it
    (measured on the 0.5B default: greedy Chinese answers repeat a sentence at 1.0, not at 1.1)."""
    answer_language: str | None = None
    """The question's language: "en" forbids tokens that write Chinese characters
    (`pedgpt.engine.script_lock`); "zh" or None: no constraint."""

    def __post_init__(self) -> None:
        if not 1 <= int(self.max_new_tokens) <= 32768:
            raise InputError(f"max_new_tokens must be between 1 and 32768, got {self.max_new_tokens}")
        if not 0.0 <= float(self.temperature) <= 5.0:
            raise InputError(f"temperature must be between 0 and 5, got {self.temperature}")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise InputError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 1.0 <= float(self.repetition_penalty) <= 2.0:
            raise InputError(f"repetition_penalty must be between 1 and 2, got {self.repetition_penalty}")
        if self.answer_language not in (None, "zh", "en"):
            raise InputError(f"answer_language must be 'zh', 'en' or None, got {self.answer_language!r}")
        self.max_new_tokens = int(self.max_new_tokens)
        self.stop = tuple(s for s in (self.stop or ()) if s)

    def to_dict(self) -> dict:
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
                "top_p": self.top_p, "stop": list(self.stop), "seed": self.seed,
                "repetition_penalty": self.repetition_penalty,
                "answer_language": self.answer_language}


class FifoLock:
    """A lock that hands itself to waiters in arrival order (threading.Lock is not fair)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def acquire(self) -> int:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._cond.wait_for(lambda: self._serving == ticket)
            return ticket

    def release(self) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    def waiting(self) -> int:
        """Callers holding or waiting for the lock."""
        with self._cond:
            return self._next_ticket - self._serving


class StopFilter:
    """Streams text while withholding any tail that could begin a stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(stops)
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add a piece; return the text that is now safe to emit."""
        if self.stopped:
            return ""
        self.buffer += piece
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.buffer, self.stopped = self.buffer[:cut], "", True
            return out
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.buffer.endswith(s[:k])),
                   default=0)
        out = self.buffer[: len(self.buffer) - hold]
        self.buffer = self.buffer[len(out):]
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out


@dataclass
class EngineStats:
    """Token counts and timings of the last finished generation (for storage and benchmarks)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0
    finish_reason: str = ""  # "stop" | "length" | "cancelled"
    extra: dict = field(default_factory=dict)


class Engine(ABC):
    """One loaded model behind one backend."""

    backend: str = "base"

    def __init__(self, template: ChatTemplate | None = None, context_length: int = 4096) -> None:
        self.template = template or DEFAULT_TEMPLATE
        self.context_length = int(context_length)
        self._lock = FifoLock()
        self._cancel_current: threading.Event | None = None
        self.last_stats = EngineStats()
        self._forbidden: dict[str, tuple[int, ...]] = {}

    # ---- public API -------------------------------------------------------------------------
    def stream(
        self,
        messages: Sequence[Message],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
        seed: int = 0,
        repetition_penalty: float = GenerationParams.repetition_penalty,
        answer_language: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer in pieces. Validation errors raise before the first piece.
        `answer_language="en"` keeps Chinese characters out of the answer (see GenerationParams)."""
        params = GenerationParams(max_new_tokens, temperature, top_p, tuple(stop or ()), seed,
                                  repetition_penalty, answer_language)
        messages = validate_messages(messages)
        if not any(m["role"] == "user" and m["content"].strip() for m in messages):
            raise InputError("the question is empty")
        return self._locked_stream(messages, params, cancel or threading.Event())

    def generate(self, messages: Sequence[Message], **kwargs) -> str:
        """The whole answer as one string."""
        return "".join(self.stream(messages, **kwargs))

    def cancel(self) -> None:
        """Stop the generation that is running now (if any) at its next token."""
        event = self._cancel_current
        if event is not None:
            event.set()

    def queue_depth(self) -> int:
        """Generations running or waiting on this engine."""
        return self._lock.waiting()

    @abstractmethod
    def info(self) -> dict:
        """{"model", "backend", "device", "dtype", "path", ...}"""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of tokens the model would see for `text`."""

    def prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the rendered prompt for these messages (to fit the context window)."""
        return self.count_tokens(self.template.render(messages, add_generation_prompt=True))

    def forbidden_ids(self, language: str | None) -> tuple[int, ...]:
        """Vocabulary ids an answer in `language` must not sample (computed once per language)."""
        from pedgpt.engine.script_lock import LOCKED_LANGUAGES, forbidden_ids

        if language not in LOCKED_LANGUAGES:
            return ()
        if language not in self._forbidden:
            self._forbidden[language] = forbidden_ids(language, self.token_pieces())
        return self._forbidden[language]

    def token_pieces(self) -> Iterable[bytes]:
        """The bytes of every vocabulary id, in id order. Backends without a local vocabulary
        (the OpenAI-compatible server) list none, so no id is ruled out there."""
        return ()

    # ---- backend hook -----------------------------------------------------------------------
    @abstractmethod
    def _generate(
        self, messages: list[Message], params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield raw text pieces; must check `cancel.is_set()` between tokens and set
        `self.last_stats`. Raise InputError before yielding if the prompt does not fit."""

    # ---- shared machinery -------------------------------------------------------------------
    def _locked_stream(
        self, messages: list[Message], params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        self._lock.acquire()
        self._cancel_current = cancel
        stop_filter = StopFilter(params.stop)
        pieces = self._generate(messages, params, cancel)
        try:
            for piece in pieces:
                text = stop_filter.feed(piece)
                if text:
                    yield text
                if stop_filter.stopped or cancel.is_set():
                    break
            tail = stop_filter.flush()
            if tail and not cancel.is_set():
                yield tail
            if cancel.is_set():
                self.last_stats.finish_reason = "cancelled"
        finally:
            pieces.close()
            self._cancel_current = None
            self._lock.release()

    def check_fits(self, prompt_tokens: int, params: GenerationParams) -> None:
        """Raise a clear InputError when the prompt leaves no room to answer."""
        if prompt_tokens >= self.context_length:
            raise InputError(
                f"the text is too long for the model: {prompt_tokens} tokens, the context window "
                f"holds {self.context_length}; shorten the question or start a new consultation")
