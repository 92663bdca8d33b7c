"""Load test: N concurrent clinicians × M messages through the app's public Gradio API.

Each simulated clinician logs in with its own account (`gradio_client.Client(auth=...)`), sends
M questions to the consultation tab (`/consult_send`) and streams each answer
(`/consult_answer`). A full queue ("Queue is full! Please try again.") is back-pressure, not a
failure: the clinician waits and retries, as a person would. Afterwards the database must hold
every message and a complete answer to each. Reports p50/p95 time to first token (submit →
first streamed chunk, queue wait included).

    # self-contained: starts the app itself on 127.0.0.1 with its own database and accounts
    python -m bench.load --model /path/to/model --backend transformers --clients 8 --messages 5
    # against a running server (README command 1), with accounts made by `pedgpt users add`
    python -m bench.load --url http://127.0.0.1:7860/ --db sqlite:///$HOME/.local/share/pedgpt/pedgpt.db \
        --user dr_a:password-a --user dr_b:password-b --messages 3

Bounded: `--clients` ≤ 64, `--messages` ≤ 50, `--deadline` seconds for the whole run;
the server it starts listens on 127.0.0.1 only. Prints one JSON object with `--json`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "[{tag}] 宝宝2岁，发烧两天，体温38.5℃，精神尚可，需要注意什么？"
#: Seconds a clinician waits after a "busy" answer before trying again (times the attempt).
BUSY_BACKOFF_S = 0.5
STARTUP_TIMEOUT_S = 180
#: Longest wait for one answer; polling interval while it streams (s).
ANSWER_TIMEOUT_S = 120.0
POLL_S = 0.01
#: Per HTTP request (httpx's 5 s default is too short on a busy 2-core machine).
HTTP_TIMEOUT_S = 60.0


@dataclass
class LoadConfig:
    """One load run."""

    clients: int = 8
    """Clinicians working at the same time (one account and browser session each)."""
    messages: int = 5
    """Questions each clinician sends, one after the other."""
    max_new_tokens: int = 32
    """Answer length asked for (the page's slider)."""
    burst: int = 0
    """After the run, this many answers submitted at the same instant (0: none) to show the
    queue's back-pressure."""
    burst_tokens: int = 200
    """Answer length during the burst (long enough that the others must queue)."""
    deadline_s: float = 240.0
    """The whole run must end within this many seconds."""

    def __post_init__(self) -> None:
        if not 1 <= self.clients <= 64:
            raise ValueError("clients must be between 1 and 64")
        if not 1 <= self.messages <= 50:
            raise ValueError("messages must be between 1 and 50")
        if not 0 <= self.burst <= 64 or not 1 <= self.max_new_tokens <= 4096:
            raise ValueError("burst must be 0..64 and max_new_tokens 1..4096")
        if not 1 <= self.deadline_s <= 3600:
            raise ValueError("deadline_s must be between 1 and 3600")


# ---- the app under test, in its own process ---------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`python -m pedgpt serve` on 127.0.0.1 in a subprocess: start, wait, kill -9, restart.

    `home` is its PEDGPT_HOME (database `home/pedgpt.db` unless `env` names PEDGPT_DB_URL);
    `knowledge_index` (optional) is linked in so the knowledge index is not rebuilt."""

    def __init__(self, home: Path, model: str, backend: str = "transformers",
                 env: dict | None = None, knowledge_index: Path | None = None) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.db_url = (env or {}).get("PEDGPT_DB_URL") or f"sqlite:///{self.home / 'pedgpt.db'}"
        self.env = {**os.environ, "PEDGPT_HOME": str(self.home), "PEDGPT_DB_URL": self.db_url,
                    "PEDGPT_MODEL": str(model), "PEDGPT_BACKEND": backend, "PEDGPT_AUTH": "on",
                    "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                    "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.home / "server.log"
        self.process: subprocess.Popen | None = None
        if knowledge_index is not None:
            link = self.home / "knowledge" / Path(knowledge_index).name
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(knowledge_index)

    def add_users(self, users: dict[str, str], cheap_hash: bool = True) -> None:
        """Create accounts through the store (cheap argon2 parameters keep logins fast)."""
        from argon2 import PasswordHasher

        from pedgpt.storage import UserStore, open_database

        db = open_database(self.db_url)
        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if cheap_hash else None
        store = UserStore(db, hasher=hasher)
        for name, password in users.items():
            store.add(name, password)
        db.dispose()

    def start(self) -> "AppServer":
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pedgpt", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT, env=self.env,
                cwd=REPO, start_new_session=True)
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"app did not start in {STARTUP_TIMEOUT_S} s:\n{self.log_text()[-3000:]}")

    def kill9(self) -> None:
        """SIGKILL the whole process group: no clean-up code runs (a power cut, an OOM kill)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- one simulated clinician ------------------------------------------------------------------
@dataclass
class ClinicianResult:
    username: str
    sent: list[str] = field(default_factory=list)
    ttft_s: list[float] = field(default_factory=list)
    answer_s: list[float] = field(default_factory=list)
    busy: int = 0
    errors: list[str] = field(default_factory=list)


def connect(url: str, username: str, password: str):
    from gradio_client import Client

    return Client(url, auth=(username, password), verbose=False, download_files=False,
                  httpx_kwargs={"timeout": HTTP_TIMEOUT_S})


def _retry_busy(call, result: ClinicianResult, deadline: float):
    """Run `call()`; on "queue full" wait and retry (back-pressure), until the deadline."""
    from gradio_client.utils import QueueError

    attempt = 0
    while True:
        try:
            return call()
        except QueueError:
            result.busy += 1
            attempt += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(BUSY_BACKOFF_S * min(attempt, 6))


def _send(client, text: str) -> None:
    client.predict(text, "", "", "", "", "", "", "", False, "en", api_name="/consult_send")


def _stream_answer(client, max_new_tokens: int, timeout_s: float = ANSWER_TIMEOUT_S
                   ) -> tuple[float, float, list]:
    """(time to first chunk, total time, final chat) of one streamed answer.

    Polls the job instead of iterating it: gradio_client's iterator never ends when the
    submission itself was refused (queue full), while `result()` raises the QueueError."""
    started = time.monotonic()
    job = client.submit("en", max_new_tokens, 0.0, api_name="/consult_answer")
    first = None
    while not job.done():
        if first is None and job.outputs():
            first = time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            job.cancel()
            raise TimeoutError(f"no answer within {timeout_s:.0f} s")
        time.sleep(POLL_S)
    outputs = job.result()  # raises what the server raised (QueueError when full)
    total = time.monotonic() - started
    return (total if first is None else first), total, outputs


def clinician(url: str, username: str, password: str, index: int, cfg: LoadConfig,
              deadline: float) -> ClinicianResult:
    result = ClinicianResult(username)
    try:
        client = _retry_busy(lambda: connect(url, username, password), result, deadline)
        for number in range(cfg.messages):
            text = QUESTION.format(tag=f"c{index}-m{number}")
            _retry_busy(lambda: _send(client, text), result, deadline)
            result.sent.append(text)
            ttft, total, _ = _retry_busy(lambda: _stream_answer(client, cfg.max_new_tokens),
                                         result, deadline)
            result.ttft_s.append(ttft)
            result.answer_s.append(total)
    except Exception as exc:  # a request error is a finding, not a crash of the benchmark
        result.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    return result


# ---- the burst: back-pressure ----------------------------------------------------------------
def burst(url: str, accounts: list[tuple[str, str]], cfg: LoadConfig) -> dict:
    """`cfg.burst` answers submitted at the same instant from different sessions: with a small
    queue some must be refused with "queue full"; each refused one is retried until answered."""
    from gradio_client.utils import QueueError

    clients = [connect(url, *accounts[i % len(accounts)]) for i in range(cfg.burst)]
    for i, client in enumerate(clients):
        _send(client, QUESTION.format(tag=f"burst-{i}"))
    gate, refused, messages = threading.Barrier(len(clients)), [], []

    def fire(client) -> None:
        gate.wait()
        try:
            _stream_answer(client, cfg.burst_tokens)
        except QueueError as exc:
            refused.append(client)
            messages.append(str(exc))

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(fire, clients))
    retried = ClinicianResult("burst")
    deadline = time.monotonic() + cfg.deadline_s / 2
    for client in refused:  # they come back later, as a clinician would
        _retry_busy(lambda: _stream_answer(client, 8), retried, deadline)
    return {"submitted": len(clients), "refused_busy": len(refused),
            "busy_messages": sorted(set(messages)), "refused_then_answered": len(refused),
            "sent": [QUESTION.format(tag=f"burst-{i}") for i in range(len(clients))]}


# ---- checking the database afterwards -----------------------------------------------------------
def verify_database(db_url: str, expected: dict[str, list[str]]) -> dict:
    """Every expected message stored for its user, each followed by a complete, non-empty
    answer. Returns counts and the list of problems (empty when all is well)."""
    from pedgpt.storage import ConsultationStore, Database, UserStore

    db = Database(db_url)
    users, store = UserStore(db, policy=None), ConsultationStore(db)
    problems, stored_questions, complete = [], 0, 0
    try:
        for username, texts in expected.items():
            uid = users.by_name(username).id
            messages = [m for c in store.list(uid, include_archived=True)
                        for m in store.messages(uid, c.id, audit=False)]
            for text in texts:
                at = [i for i, m in enumerate(messages) if m.role == "user" and m.content == text]
                if not at:
                    problems.append(f"{username}: message {text[:30]!r} not stored")
                    continue
                stored_questions += 1
                after = messages[at[0] + 1] if at[0] + 1 < len(messages) else None
                if after is None or after.role != "assistant" or after.status != "complete" \
                        or not after.content.strip():
                    problems.append(f"{username}: no complete answer to {text[:30]!r}")
                else:
                    complete += 1
        integrity = db.integrity_check()
    finally:
        db.dispose()
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    return {"questions_stored": stored_questions, "answers_complete": complete,
            "integrity_check": integrity, "problems": problems}


# ---- the whole run ----------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_load(url: str, accounts: list[tuple[str, str]], cfg: LoadConfig,
             db_url: str | None = None) -> dict:
    """Run the clinicians (and the burst), then check the database; one JSON-ready report."""
    started = time.monotonic()
    deadline = started + cfg.deadline_s
    with ThreadPoolExecutor(cfg.clients) as pool:
        futures = [pool.submit(clinician, url, *accounts[i % len(accounts)], i, cfg, deadline)
                   for i in range(cfg.clients)]
        results = [f.result() for f in futures]
    report = _summary(results, cfg, time.monotonic() - started)
    expected: dict[str, list[str]] = {}
    for r in results:
        expected.setdefault(r.username, []).extend(r.sent)
    if cfg.burst:
        report["burst"] = burst(url, accounts, cfg)
        for i, text in enumerate(report["burst"].pop("sent")):
            expected.setdefault(accounts[i % len(accounts)][0], []).append(text)
    if db_url:
        report["database"] = verify_database(db_url, expected)
    report["wall_s"] = round(time.monotonic() - started, 2)
    return report


def _summary(results: list[ClinicianResult], cfg: LoadConfig, wall_s: float) -> dict:
    ttft = [t for r in results for t in r.ttft_s]
    answer = [t for r in results for t in r.answer_s]
    rounded = {q: percentile(ttft, q) for q in (50, 95)}
    return {
        "clients": cfg.clients, "messages_per_client": cfg.messages,
        "messages_sent": sum(len(r.sent) for r in results),
        "answers_streamed": len(answer),
        "errors": [f"{r.username}: {e}" for r in results for e in r.errors],
        "busy_retries": sum(r.busy for r in results),
        "ttft_p50_s": rounded[50] and round(rounded[50], 3),
        "ttft_p95_s": rounded[95] and round(rounded[95], 3),
        "answer_mean_s": round(statistics.fmean(answer), 3) if answer else None,
        "load_wall_s": round(wall_s, 2),
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running app (default: start one on 127.0.0.1)")
    p.add_argument("--db", help="its database URL, to check what was stored")
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                   help="accounts to use with --url (repeat; reused round-robin)")
    p.add_argument("--model", help="model for the app this script starts (PEDGPT_MODEL)")
    p.add_argument("--backend", default="transformers", help="its backend (default transformers)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--messages", type=int, default=5)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--burst", type=int, default=8, help="simultaneous answers at the end (0: none)")
    p.add_argument("--queue-size", type=int, default=3, help="queue of the app this script starts")
    p.add_argument("--deadline", type=float, default=240.0, help="seconds for the whole run")
    p.add_argument("--knowledge-index", type=Path,
                   help="an existing knowledge index file to link in (default: built on start)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p.parse_args(argv)


def _self_started(args, cfg: LoadConfig) -> dict:
    if not args.model:
        raise SystemExit("give --model (for the app this script starts) or --url")
    with tempfile.TemporaryDirectory(prefix="pedgpt-load-") as home:
        server = AppServer(Path(home), args.model, args.backend,
                           env={"PEDGPT_QUEUE_SIZE": str(args.queue_size),
                                "PEDGPT_REQUESTS_PER_MINUTE": "600"},
                           knowledge_index=args.knowledge_index)
        accounts = [(f"clinician{i}", f"load-password-{i}") for i in range(cfg.clients)]
        server.add_users(dict(accounts))
        with server:
            return run_load(server.url, accounts, cfg, server.db_url)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    cfg = LoadConfig(args.clients, args.messages, args.max_new_tokens, args.burst,
                     deadline_s=args.deadline)
    if args.url:
        accounts = [tuple(u.split(":", 1)) for u in args.user if ":" in u]
        if not accounts:
            raise SystemExit("--url needs at least one --user NAME:PASSWORD")
        report = run_load(args.url, accounts, cfg, args.db)
    else:
        report = _self_started(args, cfg)
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))
    failed = report["errors"] or (report.get("database") or {}).get("problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
