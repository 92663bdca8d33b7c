"""OpenAI-compatible HTTP backend: vLLM, TGI, llama.cpp server, or any `/v1/chat/completions`.

    PEDGPT_OPENAI_BASE_URL=http://127.0.0.1:8000/v1 pedgpt ask "宝宝发烧" --backend openai --model Qwen/Qwen2.5-7B-Instruct

Base URL from `PEDGPT_OPENAI_BASE_URL` (or `OPENAI_BASE_URL`; "/v1" is added when missing), key
from `PEDGPT_OPENAI_API_KEY` (or `OPENAI_API_KEY`; optional for local servers). The model name is
the `model` argument; without one, the server's first listed model is used. Answers stream as
server-sent events; cancelling closes the connection, which makes the server stop generating.
The server applies the model's chat template, so messages are sent as they are. The
English-answer lock (`answer_language`, `pedgpt.engine.script_lock`) is not applied here: the
server's vocabulary is unknown to us and OpenAI-style `logit_bias` takes a few hundred ids at most.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from typing import Iterator

from pedgpt.chat_template import Message
from pedgpt.engine.base import Engine, EngineStats, GenerationParams
from pedgpt.errors import BackendError, InputError

DEFAULT_CONTEXT = 32768
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 300.0  # a long pause between tokens on a busy server is still not a hang
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def base_url_from_env(base_url: str | None = None) -> str:
    url = base_url or os.environ.get("PEDGPT_OPENAI_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    if not url:
        raise BackendError("the openai backend needs a server: set PEDGPT_OPENAI_BASE_URL, "
                           "e.g. http://127.0.0.1:8000/v1")
    url = url.strip().rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def api_key_from_env(api_key: str | None = None) -> str | None:
    return api_key or os.environ.get("PEDGPT_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")


def estimate_tokens(text: str) -> int:
    """Conservative token estimate without the server's tokenizer (one per CJK character, one
    per ~3 other characters); the server enforces the exact window and its refusal is reported."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 2) // 3


def describe_remote(model: str | None) -> dict:
    return {"model": model, "backend": "openai", "device": "remote", "dtype": "server-side",
            "path": base_url_from_env(), "size": None, "sha256": None}


class OpenAIEngine(Engine):
    """A model served over HTTP by an OpenAI-compatible server."""

    backend = "openai"

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, context_length: int = DEFAULT_CONTEXT,
                 timeout_s: float = READ_TIMEOUT_S, **unknown) -> None:
        if unknown:
            raise BackendError(f"openai backend: unknown option(s): {', '.join(sorted(unknown))}")
        import httpx

        super().__init__(context_length=context_length)
        self.base_url = base_url_from_env(base_url)
        key = api_key_from_env(api_key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers,
                                   timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S))
        served = self._served_models()  # also proves the server is reachable, at start-up
        if not model and not served:
            raise BackendError(f"the server at {self.base_url} lists no models; pass --model NAME")
        self.model_name = model or served[0]

    def _served_models(self) -> list[str]:
        data = self._request("GET", "/models").get("data") or []
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    def _request(self, method: str, path: str, **kwargs) -> dict:
        import httpx

        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the model server at {self.base_url}: {exc}") from None
        _raise_for_status(response, self.base_url)
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"the server at {self.base_url} did not answer with JSON") from None

    # ---- Engine API ---------------------------------------------------------------------------
    def info(self) -> dict:
        return {"model": self.model_name, "backend": self.backend, "device": "remote",
                "dtype": "server-side", "path": self.base_url, "sha256": None,
                "context_length": self.context_length}

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def close(self) -> None:
        self.client.close()

    # ---- generation ---------------------------------------------------------------------------
    def _generate(self, messages: list[Message], params: GenerationParams,
                  cancel: threading.Event) -> Iterator[str]:
        self.check_fits(self.prompt_tokens(messages), params)
        stats = self.last_stats = EngineStats(prompt_tokens=self.prompt_tokens(messages))
        started = time.perf_counter()
        stats.finish_reason = "stop"
        try:
            for event in self._events(self._payload(messages, params)):
                usage = event.get("usage") or {}
                stats.prompt_tokens = usage.get("prompt_tokens", stats.prompt_tokens)
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if choice.get("finish_reason"):
                        stats.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
                    if text:
                        stats.completion_tokens += 1  # one chunk ≈ one token (vLLM, llama.cpp)
                        stats.first_token_s = stats.first_token_s or time.perf_counter() - started
                        yield text
                stats.completion_tokens = usage.get("completion_tokens", stats.completion_tokens)
                if cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
        finally:
            stats.total_s = time.perf_counter() - started

    def _payload(self, messages: list[Message], params: GenerationParams) -> dict:
        payload = {"model": self.model_name, "messages": messages, "stream": True,
                   "max_tokens": params.max_new_tokens, "temperature": params.temperature,
                   "top_p": params.top_p, "seed": params.seed}
        if params.stop:
            payload["stop"] = list(params.stop)[:4]  # the OpenAI API takes at most four
        return payload

    def _events(self, payload: dict) -> Iterator[dict]:
        """Parsed `data:` events of the SSE stream, until `[DONE]` or the end of the stream."""
        import httpx

        try:
            with self.client.stream("POST", "/chat/completions", json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_status(response, self.base_url)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # comments, "event:" lines, keep-alives
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    yield _parse_event(data, self.base_url)
        except httpx.ConnectError as exc:
            raise BackendError(f"cannot reach the model server at {self.base_url}: {exc}") from None
        except httpx.HTTPError as exc:
            raise BackendError(f"the model server at {self.base_url} failed: {exc}") from None


def _parse_event(data: str, base_url: str) -> dict:
    try:
        event = json.loads(data)
    except ValueError:
        raise BackendError(f"the server at {base_url} sent a malformed stream event") from None
    if isinstance(event, dict) and event.get("error"):
        raise BackendError(f"the model server reported an error: {_error_text(event)}")
    return event if isinstance(event, dict) else {}


def _raise_for_status(response, base_url: str) -> None:
    if response.status_code < 400:
        return
    try:
        detail = _error_text(response.json())
    except ValueError:
        detail = response.text[:200]
    if response.status_code == 400:  # e.g. the prompt exceeds the server's context window
        raise InputError(f"the model server refused the request: {detail}")
    if response.status_code in (401, 403):
        raise BackendError(f"the model server at {base_url} refused the API key "
                           "(set PEDGPT_OPENAI_API_KEY)")
    raise BackendError(f"the model server at {base_url} answered HTTP {response.status_code}: {detail}")


def _error_text(body) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(error)[:300]
    return str(body)[:300]
