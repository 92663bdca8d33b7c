"""User B can neither see nor touch user A's consultations, messages or feedback — by any
method, with A's real ids or guessed ones — and the error never tells "exists" from "missing"."""

import pytest

from pedgpt.storage import NotFound


@pytest.fixture
def alice_case(store, alice):
    c = store.create(alice.id, "diagnose", title="A 的病例", patient={"age_months": 24, "weight_kg": 12})
    store.add_user_message(alice.id, c.id, "发热三天")
    mid = store.add_assistant_message(alice.id, c.id, "考虑病毒感染", model="m")
    store.add_feedback(alice.id, mid, "up")
    return c.id, mid


ATTACKS = {
    "get": lambda s, u, cid, mid: s.get(u, cid),
    "messages": lambda s, u, cid, mid: s.messages(u, cid),
    "rename": lambda s, u, cid, mid: s.rename(u, cid, "hijacked"),
    "set_patient": lambda s, u, cid, mid: s.set_patient(u, cid, {"age_months": 1}),
    "set_task": lambda s, u, cid, mid: s.set_task(u, cid, "medicate"),
    "archive": lambda s, u, cid, mid: s.archive(u, cid),
    "delete": lambda s, u, cid, mid: s.delete(u, cid),
    "add_user_message": lambda s, u, cid, mid: s.add_user_message(u, cid, "continue"),
    "begin_assistant_message": lambda s, u, cid, mid: s.begin_assistant_message(u, cid),
    "add_assistant_message": lambda s, u, cid, mid: s.add_assistant_message(u, cid, "x"),
    "truncate": lambda s, u, cid, mid: s.truncate(u, cid, mid),
    "add_feedback": lambda s, u, cid, mid: s.add_feedback(u, mid, "down", "不安全"),
    "feedback_for": lambda s, u, cid, mid: s.feedback_for(u, cid),
    "consultation_record": lambda s, u, cid, mid: s.consultation_record(u, cid),
    "export_markdown": lambda s, u, cid, mid: s.export_markdown(u, cid),
    "export_json": lambda s, u, cid, mid: s.export_json(u, cid),
    "export_pdf": lambda s, u, cid, mid: s.export_pdf(u, cid),
    "write_export": lambda s, u, cid, mid: s.write_export(u, cid, "json", "/tmp"),
}


@pytest.mark.parametrize("method", sorted(ATTACKS))
def test_other_user_cannot_touch(store, alice, bob, alice_case, method):
    cid, mid = alice_case
    before = store.consultation_record(alice.id, cid)
    with pytest.raises(NotFound) as real:
        ATTACKS[method](store, bob.id, cid, mid)
    with pytest.raises(NotFound) as guessed:  # an id nobody has: same answer
        ATTACKS[method](store, bob.id, cid + 1000, mid + 1000)
    assert str(real.value) == str(guessed.value)
    after = store.consultation_record(alice.id, cid)
    assert after["messages"] == before["messages"]
    assert after["consultation"] == before["consultation"]
    assert store.list(bob.id, include_archived=True) == []


def test_streaming_handles_are_scoped_when_user_given(store, alice, bob):
    c = store.create(alice.id)
    mid = store.begin_assistant_message(alice.id, c.id)
    with pytest.raises(NotFound):
        store.save_partial(mid, "bob writes", user_id=bob.id)
    with pytest.raises(NotFound):
        store.finish_assistant_message(mid, "bob", user_id=bob.id)
    store.finish_assistant_message(mid, "done", user_id=alice.id)
    with pytest.raises(NotFound):  # a finished answer can never be overwritten
        store.save_partial(mid, "later")
    assert store.messages(alice.id, c.id)[-1].content == "done"


def test_lists_and_searches_are_per_user(store, alice, bob):
    a = store.create(alice.id, title="肺炎")
    b = store.create(bob.id, title="肺炎")
    assert [c.id for c in store.list(alice.id, search="肺炎")] == [a.id]
    assert [c.id for c in store.list(bob.id, search="肺炎")] == [b.id]


@pytest.mark.parametrize("bad", ["1 OR 1=1", "abc", None, -1, 0, 2**70, True, "1; DROP TABLE users", 1.5e300])
def test_garbage_ids_are_not_found(store, alice, bad):
    store.create(alice.id)
    with pytest.raises(NotFound):
        store.get(alice.id, bad)
    with pytest.raises(NotFound):
        store.get(bad, 1)


def test_disabled_user_loses_access(store, users, alice):
    c = store.create(alice.id)
    users.disable("alice")
    assert store.list(alice.id) == []
    with pytest.raises(NotFound):
        store.get(alice.id, c.id)
    with pytest.raises(NotFound):
        store.create(alice.id)
    with pytest.raises(NotFound):
        users.get(alice.id)
