"""Start-up recovery with replicas sharing one database: `PEDGPT_RECOVER_AFTER_S` marks only
answers silent for that long as incomplete; a live answer of another replica is left alone.

Run: `pytest tests/reliability/test_rel_recovery.py -q`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from pedgpt.errors import InputError


def test_rel_recovery_leaves_other_replicas_live_answers(tmp_path, monkeypatch):
    from pedgpt.storage import ConsultationStore, UserStore, open_database
    from pedgpt.storage.models import Message, utcnow

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db = open_database(url)
    user = UserStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)) \
        .add("dr_r", "password-of-r")
    store = ConsultationStore(db)
    cid = store.create(user.id).id
    store.add_user_message(user.id, cid, "发烧")
    dead = store.begin_assistant_message(user.id, cid)   # a replica that was killed
    store.save_partial(dead, "部分")
    live = store.begin_assistant_message(user.id, cid)   # another replica, still streaming
    with db.session() as session:
        session.get(Message, dead).updated_at = utcnow() - timedelta(minutes=10)
    db.dispose()

    monkeypatch.setenv("PEDGPT_RECOVER_AFTER_S", "60")
    db = open_database(url)  # a replica (re)starting
    statuses = {m.id: (m.status, m.content) for m in store.__class__(db).messages(
        user.id, cid, audit=False)}
    db.dispose()
    assert statuses[dead] == ("incomplete", "部分") and statuses[live][0] == "streaming"


@pytest.mark.parametrize("bad", ["soon", "-1", "1e9"])
def test_rel_recovery_setting_is_validated(bad, tmp_path, monkeypatch):
    from pedgpt.storage import open_database

    monkeypatch.setenv("PEDGPT_RECOVER_AFTER_S", bad)
    with pytest.raises(InputError, match="PEDGPT_RECOVER_AFTER_S"):
        open_database(f"sqlite:///{tmp_path / 'x.db'}")
