"""Migrations up/down from empty, schema = models, SQLite pragmas, append-only audit table."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from pedgpt.storage import AuditLog, Database
from pedgpt.storage.models import Base

TABLES = ["alembic_version", "audit_events", "consultations", "feedback", "messages", "users"]


def test_upgrade_downgrade_from_empty(db_url_empty):
    db = Database(db_url_empty)
    assert db.current_revision() is None
    db.migrate()
    assert db.current_revision() == "0001"
    assert db.table_names() == TABLES
    db.migrate()  # idempotent: a restart migrates again
    db.downgrade("base")
    assert db.current_revision() is None
    assert db.table_names() == ["alembic_version"]
    db.migrate()  # and up again after a full downgrade
    assert db.table_names() == TABLES
    db.dispose()


def test_models_match_migrations(db):
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_audit_log_is_append_only(db):
    audit = AuditLog(db)
    audit.record("logout", user_id=1, username="alice")
    for statement in ("UPDATE audit_events SET action = 'login'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"):
            with db.session() as session:
                session.execute(text(statement))
    assert [e["action"] for e in audit.events()] == ["logout"]


def test_sqlite_connection_settings(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.session(write=False) as session:
        pragma = lambda name: session.execute(text(f"PRAGMA {name}")).scalar()
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("secure_delete") == 1


def test_bad_url_is_one_line_error():
    from pedgpt.errors import PedGPTError

    with pytest.raises(PedGPTError, match="database URL"):
        Database("not a url at all")
    with pytest.raises(PedGPTError, match="driver"):
        Database("nosuchdb://x/y")


def test_default_url_is_sqlite_under_pedgpt_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path))
    monkeypatch.delenv("PEDGPT_DB_URL", raising=False)
    db = Database()
    db.migrate()
    assert db.dialect == "sqlite"
    assert (tmp_path / "pedgpt.db").is_file()


def test_failed_migration_leaves_no_half_schema(db_url_empty):
    """A migration that dies half-way (crash, disk full) rolls back completely: DDL is
    transactional on both backends, so the next start simply migrates again."""
    from sqlalchemy import event

    db = Database(db_url_empty)

    def explode(conn, cursor, statement, *args):
        if "CREATE TABLE audit_events" in statement:
            raise RuntimeError("simulated crash during migration")

    event.listen(db.engine, "before_cursor_execute", explode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        db.migrate()
    event.remove(db.engine, "before_cursor_execute", explode)
    assert [t for t in db.table_names() if t != "alembic_version"] == []
    assert db.current_revision() is None
    db.migrate()
    assert db.table_names() == TABLES
    db.dispose()
