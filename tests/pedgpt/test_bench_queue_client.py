"""The bench's page-protocol client against a real Gradio server: state kept per session,
streamed chunks timed, errors and refusals raised, login enforced."""

from __future__ import annotations

import socket

import gradio as gr
import pytest

from bench.queue_client import QueueClient, QueueError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    def remember(text, state):
        if text == "boom":
            raise gr.Error("no boom here")
        return (state or []) + [text], f"stored {len(state or []) + 1}"

    def count(state, upto):
        for n in range(int(upto)):
            yield f"{n}:{','.join(state or [])}"

    with gr.Blocks() as demo:
        state, box, out = gr.State([]), gr.Textbox(), gr.Textbox()
        upto = gr.Number()
        gr.Button().click(remember, [box, state], [state, out], api_name="remember")
        gr.Button().click(count, [state, upto], out, api_name="count")
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        auth=("doc", "pw"))
    yield f"http://127.0.0.1:{port}"
    demo.close()


def test_state_is_kept_per_session_and_chunks_stream(server):
    client = QueueClient(server, "doc", "pw")
    try:
        assert client.call("remember", "a") > 0
        client.call("remember", "b")
        chunks = list(client.stream("count", 3))
        assert [m["msg"] for _, m in chunks][-1] == "process_completed"
        generating = [m for _, m in chunks if m["msg"] == "process_generating"]
        assert len(generating) >= 3
        times = [t for t, _ in chunks]
        assert times == sorted(times) and times[0] > 0
    finally:
        client.close()
    other = QueueClient(server, "doc", "pw")  # a new page session starts with empty state
    try:
        assert len([m for _, m in other.stream("count", 2) if m["msg"] == "process_generating"]) >= 2
        assert other.session_hash != client.session_hash
    finally:
        other.close()


def test_errors_and_bad_calls_raise(server):
    client = QueueClient(server, "doc", "pw")
    try:
        with pytest.raises(QueueError, match="no boom here"):
            client.call("remember", "boom")
        with pytest.raises(QueueError, match="no endpoint"):
            client.call("nope", 1)
        with pytest.raises(QueueError, match="too many"):
            client.call("remember", "a", "b")
    finally:
        client.close()
    with pytest.raises(QueueError, match="login"):
        QueueClient(server, "doc", "wrong")
