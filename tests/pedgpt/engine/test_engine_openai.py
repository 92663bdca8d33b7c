"""The openai backend against a small streaming OpenAI-compatible server on 127.0.0.1."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pedgpt.engine import load_engine
from pedgpt.errors import BackendError, InputError

ANSWER = ["宝宝", "体温", "38.8", "度", "，", "精神", "好", "可", "在家", "观察", "。"]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.status = 200
        self.delay_s = 0.0
        self.pieces = list(ANSWER)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")  # no kept-alive socket outliving shutdown()
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": "served-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append({"path": self.path, "body": body,
                                "auth": self.headers.get("Authorization")})
        if server.status != 200:
            self._json(server.status, {"error": {"message": "maximum context length is 8 tokens"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for piece in server.pieces:
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.write(b": keep-alive comment\n\n")
                self.wfile.flush()
                time.sleep(server.delay_s)
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 21, "completion_tokens": len(server.pieces)}}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled


@pytest.fixture
def server(monkeypatch):
    srv = FakeServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PEDGPT_OPENAI_BASE_URL", srv.url)  # "/v1" is added
    monkeypatch.setenv("PEDGPT_OPENAI_API_KEY", "sk-test")
    yield srv
    srv.shutdown()
    srv.server_close()


ASK = [{"role": "system", "content": "你是儿科医生。"}, {"role": "user", "content": "宝宝发烧38.8度怎么办？"}]


def test_streams_the_server_answer(server):
    engine = load_engine("qwen-7b", backend="openai")
    pieces = list(engine.stream(ASK, max_new_tokens=64, temperature=0.2, top_p=0.9))
    assert pieces == ANSWER
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "qwen-7b" and body["stream"] is True and body["messages"] == ASK
    assert body["max_tokens"] == 64 and body["temperature"] == 0.2 and body["top_p"] == 0.9
    stats = engine.last_stats
    assert stats.completion_tokens == len(ANSWER) and stats.prompt_tokens == 21
    assert stats.finish_reason == "stop"
    assert engine.info()["backend"] == "openai" and engine.info()["path"] == server.url + "/v1"


def test_model_name_defaults_to_the_served_one(server):
    engine = load_engine(None, backend="openai")
    assert engine.info()["model"] == "served-model"


def test_stop_strings_are_sent_and_applied(server):
    engine = load_engine("m", backend="openai")
    answer = engine.generate(ASK, stop=["精神"])
    assert answer == "宝宝体温38.8度，"
    assert server.requests[-1]["body"]["stop"] == ["精神"]


def test_cancel_mid_stream_then_usable_again(server):
    server.pieces = ["字"] * 200
    server.delay_s = 0.01
    engine = load_engine("m", backend="openai")
    stream = engine.stream(ASK)
    next(stream)
    engine.cancel()
    rest = list(stream)
    assert len(rest) < 50 and engine.last_stats.finish_reason == "cancelled"
    server.pieces, server.delay_s = list(ANSWER), 0.0
    assert engine.generate(ASK) == "".join(ANSWER)


def test_server_errors_are_clear(server):
    engine = load_engine("m", backend="openai")
    server.status = 400
    with pytest.raises(InputError, match="maximum context length"):
        engine.generate(ASK)
    server.status = 500
    with pytest.raises(BackendError, match="HTTP 500"):
        engine.generate(ASK)
    server.status = 401
    with pytest.raises(BackendError, match="API key"):
        engine.generate(ASK)
    assert engine.queue_depth() == 0


def test_unreachable_server(monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PEDGPT_OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    with pytest.raises(BackendError, match="cannot reach the model server"):
        load_engine(None, backend="openai")


def test_no_base_url(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="PEDGPT_OPENAI_BASE_URL"):
        load_engine("m", backend="openai")


def test_server_gone_after_start(server):
    engine = load_engine("m", backend="openai")
    server.shutdown()
    server.server_close()
    with pytest.raises(BackendError, match="cannot reach the model server"):
        engine.generate(ASK)
