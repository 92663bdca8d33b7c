"""Privacy end to end through the command line: retention purge, deletion of one consultation
and of a whole account that leaves no trace in the SQLite files (database, -wal, -shm), export
of all of one user's data, and the append-only audit trail of it all.

Run: `pytest tests/reliability/test_rel_privacy.py -q` (a few seconds).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from pedgpt.cli import main as pedgpt


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A database with two clinicians; dr_a has an old and a recent consultation."""
    from pedgpt.storage import ConsultationStore, UserStore, open_database
    from pedgpt.storage.models import Consultation, utcnow

    db_file = tmp_path / "clinic.db"
    monkeypatch.setenv("PEDGPT_DB_URL", f"sqlite:///{db_file}")
    db = open_database()
    users = UserStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    a, b = users.add("dr_a", "password-of-a"), users.add("dr_b", "password-of-b")
    store = ConsultationStore(db)
    ids = {}
    for owner, key, text in ((a, "old", "OLDSECRET 三年前的咳嗽"), (a, "recent", "RECENTSECRET 昨天发烧"),
                             (a, "second", "SECONDSECRET 皮疹"), (b, "other", "BSECRET 腹泻")):
        cid = store.create(owner.id, "consult", title=key).id
        store.add_user_message(owner.id, cid, text)
        store.add_assistant_message(owner.id, cid, f"answer to {text}")
        ids[key] = cid
    with db.session() as session:  # dr_a's first consultation was last touched 400 days ago
        session.get(Consultation, ids["old"]).updated_at = utcnow() - timedelta(days=400)
    db.dispose()
    return db_file, ids


def _files_contain(db_file: Path, needle: str) -> bool:
    """Search the raw bytes of the database and its -wal/-shm files (what a disk thief sees)."""
    raw = needle.encode("utf-8")
    return any(p.exists() and raw in p.read_bytes()
               for p in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")))


def _cli(capsys, *argv: str) -> dict:
    assert pedgpt([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_rel_privacy_purge_delete_export_audit(clinic, capsys, tmp_path):
    db_file, ids = clinic
    assert _files_contain(db_file, "OLDSECRET")
    purged = _cli(capsys, "history", "purge", "--older-than", "365")
    assert purged["consultations"] == 1 and purged["messages"] == 2
    assert not _files_contain(db_file, "OLDSECRET"), "purged text still readable in the files"

    _cli(capsys, "history", "delete", "--user", "dr_a", "--id", str(ids["second"]))
    assert not _files_contain(db_file, "SECONDSECRET"), "deleted text still readable in the files"

    out = tmp_path / "export" / "dr_a.json"
    summary = _cli(capsys, "history", "export", "--user", "dr_a", "--out", str(out))
    assert summary["consultations"] == 1
    exported = out.read_text(encoding="utf-8")
    assert "RECENTSECRET" in exported and "BSECRET" not in exported
    assert "password" not in json.loads(exported)["user"] and "argon2" not in exported
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600

    assert pedgpt(["users", "delete", "dr_a", "--yes"]) == 0
    capsys.readouterr()
    assert not _files_contain(db_file, "RECENTSECRET"), "a deleted account's text is still readable"
    assert _files_contain(db_file, "BSECRET")  # the other clinician's data is untouched

    events = _cli(capsys, "history", "audit", "--limit", "1000")["events"]
    actions = {e["action"] for e in events}
    assert {"purge", "delete", "export", "user_delete", "user_add", "create"} <= actions
    assert "SECRET" not in json.dumps(events, ensure_ascii=False)  # no clinical text in the trail


def test_rel_privacy_audit_log_is_append_only(clinic):
    db_file, _ = clinic
    with sqlite3.connect(db_file) as conn:
        count = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        for statement in ("UPDATE audit_events SET username = 'nobody'", "DELETE FROM audit_events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit_events").fetchone()[0] == count


def test_rel_privacy_database_file_is_private(clinic):
    db_file, _ = clinic
    assert stat.S_IMODE(os.stat(db_file).st_mode) & 0o077 == 0
