"""A minimal client of Gradio's queue protocol, speaking to the app the way its page does.

    client = QueueClient("http://127.0.0.1:7860", "doctor", "password")
    client.call("consult_send", text, "", "", "", "", "", "", "", False, "zh")
    for seconds, message in client.stream("consult_answer", "zh", 64, 0.0):
        ...          # seconds since the call, for every `process_generating` / `process_completed`

Why not only `gradio_client`: its consumer thread polls its message queue with `time.sleep(0.05)`
(gradio_client/utils.py), so every call it makes waits 0–50 ms per message it reads. Measured
here on a no-op endpoint: gradio_client ~105 ms per call, the page's protocol (POST
`queue/join`, read the `queue/data` event stream) ~20 ms. The bench reports the app's overhead
through this client (what a clinician's browser sees) and through gradio_client beside it.

Arguments are the endpoint's API inputs, as gradio_client takes them: `gr.State` inputs are
skipped (filled with None here; the server keeps their values per session), so the same session
hash must be used for every call of one page session — this client keeps one.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Iterator

import httpx

LOGIN, CONFIG, JOIN, DATA = "login", "config", "queue/join", "queue/data"


class QueueError(RuntimeError):
    """The server refused or failed the event (queue full, a `gr.Error`, a crash)."""


class QueueClient:
    """One browser session (one session hash, one login cookie) against a Gradio app."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout_s: float = 600.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/") + "/", timeout=timeout_s)
        if username is not None:
            response = self.http.post(LOGIN, data={"username": username, "password": password or ""})
            if not response.is_success:
                raise QueueError(f"login as {username!r} failed ({response.status_code})")
        config = self.http.get(CONFIG).raise_for_status().json()
        self.prefix = config.get("api_prefix", "/gradio_api").strip("/") + "/"
        self.types = {c["id"]: c.get("type") for c in config["components"]}
        self.endpoints = {d["api_name"]: (index, d["inputs"]) for index, d in enumerate(config["dependencies"])
                          if d.get("api_name")}
        self.session_hash = uuid.uuid4().hex[:11]

    def close(self) -> None:
        self.http.close()

    def _payload(self, api_name: str, args: tuple) -> dict:
        if api_name not in self.endpoints:
            raise QueueError(f"the app has no endpoint {api_name!r}")
        fn_index, inputs = self.endpoints[api_name]
        values, data = list(args), []
        for component in inputs:
            data.append(None if self.types.get(component) == "state" else values.pop(0))
        if values:
            raise QueueError(f"{api_name}: {len(values)} argument(s) too many")
        return {"data": data, "fn_index": fn_index, "session_hash": self.session_hash,
                "event_data": None, "trigger_id": None}

    def stream(self, api_name: str, *args) -> Iterator[tuple[float, dict]]:
        """(seconds since the call, message) for each output message until the event completes."""
        started = time.perf_counter()
        joined = self.http.post(self.prefix + JOIN, json=self._payload(api_name, args))
        if not joined.is_success:
            raise QueueError(f"{api_name}: the queue refused the event ({joined.status_code})")
        event_id = joined.json().get("event_id")
        with self.http.stream("GET", self.prefix + DATA, params={"session_hash": self.session_hash}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                kind = message.get("msg")
                if kind == "queue_full":
                    raise QueueError(f"{api_name}: queue full")
                if kind in ("process_generating", "process_completed"):
                    yield time.perf_counter() - started, message
                if kind == "process_completed":
                    if not message.get("success", True):
                        raise QueueError(f"{api_name}: {message.get('output', {}).get('error')}")
                    return
        raise QueueError(f"{api_name}: the event stream ended before the event completed")

    def call(self, api_name: str, *args) -> float:
        """Run the event to completion; returns its seconds."""
        seconds = 0.0
        for seconds, _ in self.stream(api_name, *args):
            pass
        return seconds
