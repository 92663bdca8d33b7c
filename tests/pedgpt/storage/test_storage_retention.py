"""Retention: purge by age, per-user export and deletion, deleted text gone from the file."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from pedgpt.errors import InputError
from pedgpt.storage import (AuditLog, ConsultationStore, NotFound, RetentionPolicy, delete_user,
                            export_user_data, open_database, purge_older_than)
from pedgpt.storage.models import Consultation, utcnow


def _age(db, cid: int, days: float) -> None:
    with db.session() as session:
        session.execute(update(Consultation).where(Consultation.id == cid)
                        .values(updated_at=utcnow() - timedelta(days=days)))


def test_purge_older_than(db, store, alice, bob):
    old = store.create(alice.id, title="old")
    store.add_user_message(alice.id, old.id, "旧的问诊")
    recent = store.create(bob.id, title="recent")
    _age(db, old.id, 400)
    _age(db, recent.id, 10)
    counts = purge_older_than(db, 365)
    assert (counts["consultations"], counts["messages"]) == (1, 1)
    with pytest.raises(NotFound):
        store.get(alice.id, old.id)
    assert store.get(bob.id, recent.id).title == "recent"
    assert AuditLog(db).events(action="purge")[0]["details"]["consultations"] == 1
    with pytest.raises(InputError):
        purge_older_than(db, -1)


def test_deleted_text_is_gone_from_the_sqlite_file(tmp_path, alice, store, db):
    if db.dialect != "sqlite":
        pytest.skip("file-level check is SQLite-only")
    marker = "UNIQUEMARKER患儿隐私" * 50
    c = store.create(alice.id)
    store.add_user_message(alice.id, c.id, marker)
    db.dispose()  # checkpoint the WAL into the main file
    path = db.engine.url.database
    assert marker.encode() in open(path, "rb").read()
    store.delete(alice.id, c.id)
    db.dispose()
    for suffix in ("", "-wal"):
        try:
            content = open(path + suffix, "rb").read()
        except FileNotFoundError:
            continue
        assert "UNIQUEMARKER".encode() not in content, suffix


def test_export_user_data_has_everything_but_the_password(db, store, users, alice, bob):
    c = store.create(alice.id, title="A")
    mid = store.add_assistant_message(alice.id, c.id, "答复")
    store.add_feedback(alice.id, mid, "up")
    store.create(bob.id, title="B's")
    data = export_user_data(db, "alice")
    text = json.dumps(data, ensure_ascii=False)
    assert data["user"]["username"] == "alice" and "password" not in text
    assert [x["consultation"]["title"] for x in data["consultations"]] == ["A"]
    assert data["consultations"][0]["messages"][0]["feedback"]["rating"] == "up"
    assert "B's" not in text
    assert any(e["action"] == "create" for e in data["audit_events"])


def test_delete_user_removes_all_their_rows(db, store, users, alice, bob):
    c = store.create(alice.id)
    mid = store.add_assistant_message(alice.id, c.id, "x")
    store.add_feedback(alice.id, mid, "up")
    kept = store.create(bob.id)
    counts = delete_user(db, "alice")
    assert counts == {"consultations": 1, "messages": 1, "feedback": 1}
    with pytest.raises(NotFound):
        users.by_name("alice")
    with db.session(write=False) as session:
        conn = session.connection()
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar() == 0
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM feedback").scalar() == 0
    assert store.get(bob.id, kept.id).id == kept.id
    assert AuditLog(db).events(action="user_delete")[0]["username"] == "alice"


def test_automatic_retention_at_start_up(db, store, alice, monkeypatch):
    c = store.create(alice.id)
    _age(db, c.id, 31)
    monkeypatch.setenv("PEDGPT_RETENTION_DAYS", "30")
    reopened = open_database(db.url)
    with pytest.raises(NotFound):
        ConsultationStore(reopened).get(alice.id, c.id)
    reopened.dispose()
    monkeypatch.setenv("PEDGPT_RETENTION_DAYS", "-3")
    with pytest.raises(InputError):
        RetentionPolicy.from_env()


def test_database_and_exports_are_owner_only(tmp_path, monkeypatch):
    import stat

    from pedgpt.storage import Database, UserStore

    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path))
    db = Database(f"sqlite:///{tmp_path / 'private.db'}")
    db.migrate()
    user = UserStore(db).add("carol", "carol-password")
    store = ConsultationStore(db)
    c = store.create(user.id, title="x")
    store.add_user_message(user.id, c.id, "内容")
    path = store.write_export(user.id, c.id, "json", tmp_path / "exports")
    for f in (tmp_path / "private.db", tmp_path / "private.db-wal", path):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
