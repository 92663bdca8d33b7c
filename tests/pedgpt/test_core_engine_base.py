"""Machinery every backend shares: stop strings, FIFO serving, cancellation, validation."""

import threading
import time

import pytest

from pedgpt.engine.base import Engine, EngineStats, FifoLock, GenerationParams, StopFilter
from pedgpt.errors import InputError


class ScriptedEngine(Engine):
    """Test double for the base class only: yields a fixed script of pieces, slowly."""

    backend = "scripted"

    def __init__(self, pieces, delay=0.0):
        super().__init__(context_length=64)
        self.pieces, self.delay, self.started = pieces, delay, []

    def info(self):
        return {"model": "scripted", "backend": self.backend}

    def count_tokens(self, text):
        return len(text.split())

    def _generate(self, messages, params, cancel):
        self.check_fits(self.prompt_tokens(messages), params)
        self.started.append(messages[-1]["content"])
        for piece in self.pieces:
            if cancel.is_set():
                return
            time.sleep(self.delay)
            yield piece
        self.last_stats = EngineStats(finish_reason="stop")


def test_stop_filter_holds_back_partial_stop_strings():
    f = StopFilter(["<|im_end|>"])
    out = f.feed("你好<|im") + f.feed("_en") + f.feed("d|>tail")
    assert out == "你好" and f.stopped and f.flush() == ""


def test_stop_filter_releases_false_alarm():
    f = StopFilter(["STOP"])
    assert f.feed("ST") == ""
    assert f.feed("AY") == "STAY"


def test_stream_applies_stop_strings():
    engine = ScriptedEngine(["a", "b", "ST", "OP", "c"])
    assert engine.generate([{"role": "user", "content": "q"}], stop=["STOP"]) == "ab"


def test_empty_question_rejected_before_generation():
    engine = ScriptedEngine(["a"])
    with pytest.raises(InputError):
        engine.stream([{"role": "user", "content": "   "}])
    assert engine.started == []


def test_too_long_prompt_is_a_clear_input_error():
    engine = ScriptedEngine(["a"])
    with pytest.raises(InputError, match="too long"):
        engine.generate([{"role": "user", "content": "word " * 200}])


@pytest.mark.parametrize("kwargs", [{"max_new_tokens": 0}, {"temperature": -1}, {"top_p": 0}])
def test_bad_generation_params(kwargs):
    with pytest.raises(InputError):
        GenerationParams(**kwargs)


def test_cancel_stops_stream_and_engine_is_usable_again():
    engine = ScriptedEngine(["x"] * 50, delay=0.01)
    got = []
    for piece in engine.stream([{"role": "user", "content": "q"}]):
        got.append(piece)
        if len(got) == 3:
            engine.cancel()
    assert len(got) == 3
    assert engine.last_stats.finish_reason == "cancelled"
    assert engine.generate([{"role": "user", "content": "again"}]) == "x" * 50


def test_concurrent_calls_never_interleave_and_are_served_in_order():
    engine = ScriptedEngine(["1", "2", "3", "4"], delay=0.02)
    results, order = {}, []

    def call(name):
        results[name] = engine.generate([{"role": "user", "content": name}])

    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=call, args=(name,))
        thread.start()
        threads.append(thread)
        time.sleep(0.01)  # fix the arrival order
    for thread in threads:
        thread.join(5)
    assert results == {"first": "1234", "second": "1234", "third": "1234"}
    assert engine.started == ["first", "second", "third"]


def test_fifo_lock_counts_waiters():
    lock = FifoLock()
    assert lock.waiting() == 0
    lock.acquire()
    assert lock.waiting() == 1
    lock.release()
    assert lock.waiting() == 0
