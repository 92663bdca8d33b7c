"""`pedgpt users …` and `pedgpt history …` end to end on a SQLite file (one process, real CLI)."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from pedgpt.cli import main
from pedgpt.storage import ConsultationStore, Database, UserStore
from pedgpt.storage.models import Consultation, utcnow

SECRET = "s3cret-Password!"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path))
    monkeypatch.setenv("PEDGPT_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_users_lifecycle(cli, tmp_path):
    code, out, err = cli("users", "add", "dr_li", "--display-name", "李医生", "--password-stdin",
                         stdin=SECRET + "\n")
    assert code == 0 and "dr_li" in out and SECRET not in out + err
    code, out, _ = cli("users", "list", "--json")
    (user,) = json.loads(out)["users"]
    assert (user["username"], user["display_name"], user["disabled"]) == ("dr_li", "李医生", False)
    assert "password" not in out
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    assert UserStore(db).authenticate("dr_li", SECRET).username == "dr_li"
    assert cli("users", "passwd", "dr_li", "--password-stdin", stdin="another-pass-99\n")[0] == 0
    assert UserStore(db).authenticate("dr_li", "another-pass-99").username == "dr_li"
    assert cli("users", "disable", "dr_li")[0] == 0
    assert json.loads(cli("users", "list", "--json")[1])["users"][0]["disabled"] is True


@pytest.mark.parametrize("argv, stdin, message", [
    (("users", "add", "x1"), "", "use --password-stdin"),           # no terminal, no flag
    (("users", "add", "ok_name", "--password-stdin"), "short\n", "at least 8"),
    (("users", "add", "bad name", "--password-stdin"), SECRET + "\n", "username"),
    (("users", "disable", "ghost"), "", "no user"),
    (("users", "delete", "ghost"), "", "--yes"),
    (("history", "export", "--user", "ghost", "--out", "x.json"), "", "no user"),
    (("history", "purge", "--older-than", "-5"), "", "between"),
])
def test_errors_are_one_line(cli, argv, stdin, message):
    code, out, err = cli(*argv, stdin=stdin)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_history_export_purge_delete(cli, tmp_path):
    cli("users", "add", "dr_wang", "--password-stdin", stdin=SECRET + "\n")
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    user = UserStore(db).by_name("dr_wang")
    store = ConsultationStore(db)
    old, new = store.create(user.id, title="旧"), store.create(user.id, title="新")
    store.add_user_message(user.id, old.id, "很久以前的问诊")
    with db.session() as session:
        session.execute(update(Consultation).where(Consultation.id == old.id)
                        .values(updated_at=utcnow() - timedelta(days=100)))

    code, out, _ = cli("history", "export", "--user", "dr_wang", "--out", str(tmp_path / "all.json"), "--json")
    assert code == 0 and json.loads(out)["consultations"] == 2
    exported = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert {c["consultation"]["title"] for c in exported["consultations"]} == {"旧", "新"}

    code, out, _ = cli("history", "purge", "--older-than", "90", "--dry-run", "--json")
    assert json.loads(out)["consultations"] == 1 and store.get(user.id, old.id)
    code, out, _ = cli("history", "purge", "--older-than", "90", "--json")
    assert (json.loads(out)["consultations"], json.loads(out)["messages"]) == (1, 1)
    assert [c.title for c in store.list(user.id)] == ["新"]

    assert cli("history", "delete", "--user", "dr_wang", "--id", str(new.id))[0] == 0
    assert store.list(user.id) == []
    code, out, _ = cli("history", "audit", "--user", "dr_wang", "--json")
    actions = [e["action"] for e in json.loads(out)["events"]]
    assert {"user_add", "export", "delete"} <= set(actions)

    assert cli("users", "delete", "dr_wang", "--yes")[0] == 0
    assert json.loads(cli("users", "list", "--json")[1])["users"] == []


def test_feedback_export_for_training(cli, tmp_path):
    cli("users", "add", "dr_zhao", "--password-stdin", stdin=SECRET + "\n")
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    user = UserStore(db).by_name("dr_zhao")
    store = ConsultationStore(db)
    c = store.create(user.id)
    store.add_user_message(user.id, c.id, "问题")
    store.add_feedback(user.id, store.add_assistant_message(user.id, c.id, "回答"), "down", "不安全")
    code, out, _ = cli("history", "feedback", "--out", str(tmp_path / "fb.jsonl"), "--json")
    lines = (tmp_path / "fb.jsonl").read_text(encoding="utf-8").splitlines()
    assert code == 0 and len(lines) == 1 and json.loads(lines[0])["reason"] == "不安全"
