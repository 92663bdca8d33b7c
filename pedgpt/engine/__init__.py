"""Inference engine: one interface (`Engine`), three backends, one loader.

    from pedgpt.engine import load_engine
    engine = load_engine(model=None, backend="auto")   # None → embedded default GGUF
    for piece in engine.stream([{"role": "user", "content": "…"}], max_new_tokens=128):
        print(piece, end="")
    engine.info()
"""

from pedgpt.engine.base import Engine, GenerationParams


def load_engine(model: str | None = None, backend: str = "auto", **options) -> Engine:
    """Resolve `model` and `backend` and return a ready engine (see `pedgpt.engine.loader`)."""
    from pedgpt.engine.loader import load_engine as _load

    return _load(model=model, backend=backend, **options)


__all__ = ["Engine", "GenerationParams", "load_engine"]
