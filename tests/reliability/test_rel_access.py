"""Access control through every public route: clinician B can never read, continue, export,
rename, archive or delete clinician A's consultation (UI endpoints with guessed ids, raw HTTP
without a session); failed logins lock the account; logout and disabling end a session;
passwords never reach a log.

Run: `pytest tests/reliability/test_rel_access.py -q` (~40 s with the shared app server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest
from rel_support import PASSWORDS

SECRET = "ALICE-SECRET-7f3a 孩子高热惊厥"
REPO = Path(__file__).resolve().parents[2]


def _store(app_server):
    from pedgpt.storage import AuditLog, ConsultationStore, Database, UserStore

    db = Database(app_server.db_url)
    return db, UserStore(db, policy=None), ConsultationStore(db), AuditLog(db)


def _snapshot(app_server, username: str) -> list:
    db, users, store, _ = _store(app_server)
    try:
        uid = users.by_name(username).id
        return [(c.id, c.title, c.archived, [(m.role, m.content, m.status)
                                            for m in store.messages(uid, c.id, audit=False)])
                for c in store.list(uid, include_archived=True)]
    finally:
        db.dispose()


def _try(client, *args, api_name: str) -> str:
    """The response (or the error) as text, for leak checks."""
    try:
        return json.dumps(client.predict(*args, api_name=api_name), ensure_ascii=False, default=str)
    except Exception as exc:  # refusals are fine; what matters is what they say
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="module")
def alice_case(login, app_server):
    alice = login("alice")
    alice.predict(SECRET, "1", "", "F", "10", "", "", "", False, "en", api_name="/consult_send")
    alice.predict("en", 8, 0.0, api_name="/consult_answer")
    return _snapshot(app_server, "alice")


def test_rel_access_bob_cannot_reach_alices_consultation(alice_case, login, app_server):
    (cid, _, _, messages), = alice_case
    bob = login("bob")
    seen = []
    for guess in (cid, cid - 1, cid + 1, str(cid), -cid, 0, 2**63, "1 OR 1=1", None, 1.5):
        seen.append(_try(bob, guess, "en", api_name="/open"))
    seen.append(_try(bob, "en", 8, 0.0, api_name="/consult_answer"))  # continue
    seen.append(_try(bob, "en", api_name="/consult_regenerate"))
    seen.append(_try(bob, "en", api_name="/consult_edit_last"))
    for fmt in ("markdown", "json", "pdf"):
        seen.append(_try(bob, "en", api_name=f"/export_{fmt}"))
    seen.append(_try(bob, "pwned title", "", False, "en", api_name="/rename"))
    seen.append(_try(bob, "", False, "en", api_name="/archive"))
    seen.append(_try(bob, "", False, "en", api_name="/delete"))
    seen.append(_try(bob, "其他", "hijacked", "en", api_name="/feedback"))
    seen.append(_try(bob, "ALICE", False, "en", api_name="/new"))  # search for her words
    seen.append(_try(bob, "", "", "", "", "", "", "ALICE-SECRET", False, "en",
                     api_name="/save_patient"))
    leaks = [s[:200] for s in seen if "ALICE-SECRET" in s or "高热惊厥" in s]
    assert leaks == [], leaks
    assert _snapshot(app_server, "alice") == alice_case  # nothing renamed, deleted, added
    db, users, _, audit = _store(app_server)
    try:
        bob_id = users.by_name("bob").id
        assert not [e for e in audit.events(user_id=bob_id) if e["target"] == f"consultation:{cid}"]
    finally:
        db.dispose()


def test_rel_access_no_session_no_data(app_server, alice_case):
    """Raw HTTP without a login: the API and the page's config refuse, and say nothing."""
    for path in ("gradio_api/info", "config", "gradio_api/queue/join"):
        request = urllib.request.Request(app_server.url + path)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read().decode("utf-8", "replace")
                assert "ALICE-SECRET" not in body
                assert "consult_send" not in body, f"{path} is open without login"
        except urllib.error.HTTPError as exc:
            assert exc.code in (401, 403, 404, 405, 422), (path, exc.code)
    job = httpx.post(app_server.url + "gradio_api/call/open", json={"data": [1, "en"]}, timeout=10)
    assert job.status_code in (401, 403), job.status_code


def test_rel_access_lockout_after_failed_logins(app_server):
    from gradio_client import Client

    url = app_server.url
    for attempt in range(3):  # PEDGPT_MAX_FAILED_LOGINS=3 on the test server
        with pytest.raises(Exception):
            Client(url, auth=("mallory", f"wrong-guess-{attempt}"), verbose=False)
    with pytest.raises(Exception):  # locked: even the right password is refused now
        Client(url, auth=("mallory", PASSWORDS["mallory"]), verbose=False)
    db, users, _, audit = _store(app_server)
    try:
        uid = users.by_name("mallory").id
        actions = [e["action"] for e in audit.events(user_id=uid)]
        assert actions.count("login_failed") == 3 and "login_locked" in actions
        assert "login" not in actions
    finally:
        db.dispose()


def test_rel_access_logout_and_disable_end_the_session(login, app_server):
    frank = login("frank")
    assert "Error" not in _try(frank, "", False, "en", api_name="/new")
    response = httpx.get(app_server.url + "logout", cookies=frank.cookies, timeout=10,
                         follow_redirects=False)
    assert response.status_code in (302, 307)
    after_logout = _try(frank, "", False, "en", api_name="/new")
    assert after_logout.startswith(("AppError", "HTTPStatusError", "ValueError", "QueueError",
                                    "Exception")), after_logout
    erin = login("erin")
    db, users, _, _ = _store(app_server)
    try:
        users.disable("erin")  # an administrator disables the account mid-session
    finally:
        db.dispose()
    refused = _try(erin, "还在吗", "", "", "", "", "", "", "", False, "en", api_name="/consult_send")
    assert "disabled" in refused.lower() or "停用" in refused, refused


def test_rel_access_passwords_never_logged(app_server, alice_case):
    """Run last in this module: the server log and the audit trail hold no password, not even
    one typed into the username box."""
    from gradio_client import Client

    typed_as_name = "oops-this-is-my-password-99"
    with pytest.raises(Exception):
        Client(app_server.url, auth=(typed_as_name, "whatever-password"), verbose=False)
    log = app_server.log_text()
    db, _, _, audit = _store(app_server)
    try:
        trail = json.dumps(audit.events(limit=10_000), ensure_ascii=False)
    finally:
        db.dispose()
    for secret in [*PASSWORDS.values(), typed_as_name, "whatever-password",
                   *(f"wrong-guess-{i}" for i in range(3))]:
        assert secret not in log, "a password reached the server log"
        assert secret not in trail, "a password reached the audit log"


def test_rel_access_auth_off_refuses_public_bind(tmp_path):
    env = dict(os.environ, PEDGPT_AUTH="off", PEDGPT_HOME=str(tmp_path),
               PEDGPT_MODEL=str(tmp_path / "no-model-needed-to-refuse"))
    done = subprocess.run([sys.executable, "-m", "pedgpt", "serve", "--host", "0.0.0.0",
                           "--port", "1"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "PEDGPT_AUTH" in done.stderr and "127.0.0.1" in done.stderr, done.stderr
