"""Storage fixtures: every `db` test runs on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started once per session with initdb + pg_ctl (Debian's
/usr/lib/postgresql/*/bin) in a temporary folder, on 127.0.0.1 and a free port, as the
unprivileged `postgres` user when the tests run as root, and stopped at the end. Each test gets the
one migrated database emptied; migration tests get a new empty database. Without pg_ctl those tests skip, saying why.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from pedgpt.storage import ConsultationStore, Database, UserStore
from pedgpt.storage.users import LoginPolicy

TEMPLATE_DB = "pedgpt_template"
_counter = itertools.count()


def _pg_bin() -> Path | None:
    explicit = os.environ.get("PEDGPT_PG_BIN")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runner() -> tuple[list[str], str | None]:
    """Command prefix that runs PostgreSQL unprivileged (it refuses to run as root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and no unprivileged 'postgres' user to run PostgreSQL")
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"], "postgres"
    return ["sudo", "-u", "postgres"], "postgres"


@pytest.fixture(scope="session")
def postgres_url():
    """URL prefix (`postgresql+psycopg2://postgres@127.0.0.1:PORT/`) of a throwaway server."""
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (pg_ctl) not found: apt-get install postgresql")
    prefix, owner = _runner()
    root = Path(tempfile.mkdtemp(prefix="pedgpt-pg-"))
    if owner:
        shutil.chown(root, owner)
    data, port = root / "data", _free_port()
    run = lambda *args: subprocess.run([*prefix, *map(str, args)], check=True, capture_output=True, timeout=120)
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-500:]}")
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/"
    try:
        _create_template(url)
        yield url
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _admin(url: str, *statements: str) -> None:
    admin = Database(url + "postgres")
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    admin.dispose()


def _create_template(url: str) -> None:
    _admin(url, f"CREATE DATABASE {TEMPLATE_DB}")
    template = Database(url + TEMPLATE_DB)
    template.migrate()
    template.dispose()


def new_postgres_db(url: str) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    _admin(url, f"CREATE DATABASE {name} TEMPLATE template0")
    return url + name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url_empty(request, tmp_path, monkeypatch):
    """URL of an EMPTY database (no tables) on each backend."""
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pedgpt.db'}"
    return new_postgres_db(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path, monkeypatch):
    """A migrated database on each backend."""
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'pedgpt.db'}")
        database.migrate()
    else:
        # One migrated database, emptied before each test: far cheaper than a database per test
        # (CREATE DATABASE copies ~8 MB; TRUNCATE is instant and bypasses the audit triggers).
        database = Database(request.getfixturevalue("postgres_url") + TEMPLATE_DB)
        with database.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE users, consultations, messages, feedback, audit_events "
                                 "RESTART IDENTITY CASCADE")
    yield database
    database.dispose()


@pytest.fixture
def users(db):
    """A UserStore with the cheapest argon2 parameters (the real ones cost ~0.1 s per hash)."""
    return UserStore(db, hasher=PasswordHasher.from_parameters(profiles.CHEAPEST),
                     policy=LoginPolicy(max_failed_logins=3, lockout_minutes=10))


@pytest.fixture
def store(db):
    return ConsultationStore(db)


@pytest.fixture
def alice(users):
    return users.add("alice", "alice-password", display_name="王医生")


@pytest.fixture
def bob(users):
    return users.add("bob", "bob-password-1")
