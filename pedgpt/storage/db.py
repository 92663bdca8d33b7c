"""The database connection: engine, sessions, migrations, VACUUM.

    from pedgpt.storage import Database
    db = Database()            # PEDGPT_DB_URL, default SQLite file under PEDGPT_HOME
    db.migrate()               # alembic upgrade head, programmatically

SQLite connections get WAL journaling (readers never block the writer, a killed process leaves a
consistent file), foreign keys (so deleting a consultation really deletes its messages),
`secure_delete` (deleted rows are overwritten, not left in free pages) and a busy timeout. Any
other SQLAlchemy URL (PostgreSQL via psycopg2) works the same way.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from pedgpt.errors import BackendError, InputError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: How long a SQLite writer waits for another writer before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Arbitrary constant key of the PostgreSQL advisory lock that serialises concurrent migrations
#: (several app replicas starting at once against one database).
PG_MIGRATION_LOCK_KEY = 7_254_771
#: Connection pool: kept open / extra under load.
POOL_SIZE = 10
POOL_OVERFLOW = 40


class Database:
    """One database: a SQLAlchemy engine plus a session factory (thread-safe to share)."""

    def __init__(self, url: str | None = None, echo: bool = False) -> None:
        if url is None:
            from pedgpt.config import Settings

            url = Settings.from_env().db_url
        self.url = url
        self.engine = _create_engine(url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception.

        `write=False` for read-only work: on SQLite it starts a deferred transaction that never
        waits for writers (WAL); write sessions take the write lock up front.
        """
        with self._sessions() as session:
            with session.begin():
                session.connection(execution_options={"pedgpt_write": write})
                yield session

    def migrate(self, revision: str = "head") -> None:
        """`alembic upgrade <revision>` on this database (idempotent; run at start-up)."""
        self._alembic("upgrade", revision)

    def downgrade(self, revision: str = "base") -> None:
        """`alembic downgrade <revision>` (`base` drops every PedGPT table)."""
        self._alembic("downgrade", revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def integrity_check(self) -> str:
        """"ok" if SQLite's `PRAGMA integrity_check` finds no corruption (after a crash), else its
        report. Other backends guarantee this themselves (WAL replay): always "ok"."""
        if self.dialect != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
        return "ok" if rows == ["ok"] else "; ".join(map(str, rows))

    def vacuum(self) -> None:
        """Give deleted rows' pages back (SQLite VACUUM; PostgreSQL VACUUM on our tables)."""
        if self.dialect == "sqlite":
            raw = self.engine.raw_connection()
            try:  # VACUUM cannot run inside a transaction: use the bare DB-API connection
                raw.driver_connection.execute("VACUUM")
                # The -wal file still holds the old pages (deleted text included) until a
                # checkpoint; TRUNCATE copies them back and empties it (best effort: a reader
                # of another process may hold it open, then the next checkpoint does it).
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        elif self.dialect == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("messages", "feedback", "consultations", "users"):
                    conn.execute(text(f"VACUUM {table}"))

    def dispose(self) -> None:
        self.engine.dispose()

    def _alembic(self, direction: str, revision: str) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_MIGRATION_LOCK_KEY})
                conn.commit()
            try:
                config.attributes["connection"] = conn
                getattr(command, direction)(config, revision)
                conn.commit()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_MIGRATION_LOCK_KEY})
                    conn.commit()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def _create_engine(url: str, echo: bool) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"not a database URL: {url!r} (e.g. sqlite:///path/pedgpt.db)") from None
    # Gradio serves requests from a thread pool (40 by default): room for that many sessions.
    kwargs: dict = {"echo": echo, "pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs = {"echo": echo, "connect_args": kwargs["connect_args"],
                      "poolclass": StaticPool}  # one shared in-memory database
        else:
            _private_file(Path(parsed.database).expanduser())
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise BackendError(f"database driver for {parsed.drivername!r} is not installed: {exc}") from None
    if is_sqlite:
        _sqlite_events(engine)
    return engine


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite does (0644 under
    the usual umask); SQLite gives its -wal and -shm files the same permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that DDL
        # (migrations) is transactional too: a crash mid-migration rolls back cleanly.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "secure_delete=ON",
                       f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # IMMEDIATE takes the write lock up front: two writers wait (busy_timeout) instead of
        # failing with "database is locked" when both try to upgrade a read lock.
        write = conn.get_execution_options().get("pedgpt_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
