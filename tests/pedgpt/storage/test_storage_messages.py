"""Consultations and messages: nothing typed is lost, partial answers survive a killed process,
feedback is stored for preference training."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pedgpt.errors import InputError
from pedgpt.storage import Database, NotFound, open_database


def test_user_message_is_committed_before_generation(db, store, alice):
    c = store.create(alice.id, "consult")
    store.add_user_message(alice.id, c.id, "孩子咳嗽一周，夜间加重")
    store.begin_assistant_message(alice.id, c.id, model="m")
    other = Database(db.url)  # another connection, as another process would see it
    from pedgpt.storage import ConsultationStore

    seen = ConsultationStore(other).messages(alice.id, c.id)
    other.dispose()
    assert [(m.role, m.content, m.status) for m in seen] == [
        ("user", "孩子咳嗽一周，夜间加重", "complete"), ("assistant", "", "streaming")]
    assert store.get(alice.id, c.id).title == "孩子咳嗽一周，夜间加重"  # auto title


def test_full_answer_keeps_safety_results(store, alice):
    c = store.create(alice.id, "medicate", patient={"age_months": 30, "weight_kg": 13})
    store.add_user_message(alice.id, c.id, "布洛芬剂量？")
    mid = store.begin_assistant_message(alice.id, c.id, model="qwen", params={"temperature": 0.0})
    store.save_partial(mid, "每次")
    triage = {"level": "routine", "flags": [], "advice": "观察"}
    info = store.finish_assistant_message(
        mid, "每次 5–10 mg/kg", triage=triage, dose_findings=[{"drug": "ibuprofen", "allowed": True}],
        citations=[{"id": "nhs", "text": "NHS ibuprofen"}], latency_ms=812.4, tokens=(120, 33))
    assert (info.status, info.triage_level, info.latency_ms) == ("complete", "routine", 812)
    stored = store.messages(alice.id, c.id)[-1]
    assert stored.triage == triage and stored.params == {"temperature": 0.0}
    assert (stored.prompt_tokens, stored.completion_tokens) == (120, 33)
    assert stored.dose_findings[0]["drug"] == "ibuprofen"
    odd = store.add_assistant_message(alice.id, c.id, "x", triage={"level": "routine", "score": float("nan")})
    assert store.messages(alice.id, c.id)[-1].triage == {"level": "routine", "score": None}
    assert odd > mid


def test_stopped_answer_is_kept_and_marked(store, alice):
    c = store.create(alice.id)
    store.add_user_message(alice.id, c.id, "q")
    mid = store.begin_assistant_message(alice.id, c.id)
    store.finish_assistant_message(mid, "half an ans", status="incomplete")
    assert store.messages(alice.id, c.id)[-1].status == "incomplete"
    with pytest.raises(InputError):
        store.finish_assistant_message(store.begin_assistant_message(alice.id, c.id), "x", status="streaming")


CRASH = textwrap.dedent("""
    import os, signal, sys
    from pedgpt.storage import ConsultationStore, Database
    db = Database(sys.argv[1]); store = ConsultationStore(db)
    uid, cid = int(sys.argv[2]), int(sys.argv[3])
    store.add_user_message(uid, cid, "second question")
    mid = store.begin_assistant_message(uid, cid, model="m")
    store.save_partial(mid, "partial answer before the crash")
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_killed_process_answer_recovered_as_incomplete(db, store, alice):
    c = store.create(alice.id)
    store.add_user_message(alice.id, c.id, "first question")
    store.add_assistant_message(alice.id, c.id, "first answer")
    proc = subprocess.run([sys.executable, "-c", CRASH, db.url, str(alice.id), str(c.id)],
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    db.dispose()
    restarted = open_database(db.url)  # what the app does at start-up
    from pedgpt.storage import ConsultationStore

    messages = ConsultationStore(restarted).messages(alice.id, c.id)
    assert [(m.content, m.status) for m in messages] == [
        ("first question", "complete"), ("first answer", "complete"), ("second question", "complete"),
        ("partial answer before the crash", "incomplete")]
    assert restarted.integrity_check() == "ok"
    restarted.dispose()


def test_recover_spares_live_answers_of_other_replicas(store, alice):
    c = store.create(alice.id)
    mid = store.begin_assistant_message(alice.id, c.id)
    assert store.recover_interrupted(stale_after_s=3600) == 0
    assert store.recover_interrupted() == 1
    assert store.messages(alice.id, c.id)[0].status == "incomplete"


def test_rename_archive_search_and_order(store, alice):
    a = store.create(alice.id, title="旧标题")
    b = store.create(alice.id, "diagnose")
    store.add_user_message(alice.id, b.id, "皮疹 100% 覆盖 under_score")
    assert [c.id for c in store.list(alice.id)] == [b.id, a.id]  # most recent first
    assert [c.id for c in store.list(alice.id, limit=1)] == [b.id]
    assert store.rename(alice.id, a.id, "  新标题 ").title == "新标题"
    assert [c.id for c in store.list(alice.id, search="100%")] == [b.id]
    assert [c.id for c in store.list(alice.id, search="皮%覆")] == []  # LIKE wildcards are literal
    assert [c.id for c in store.list(alice.id, search="疹_100")] == []
    assert [c.id for c in store.list(alice.id, search="UNDER_score")] == [b.id]
    assert [c.id for c in store.list(alice.id, search="新标")] == [a.id]
    store.archive(alice.id, a.id)
    assert [c.id for c in store.list(alice.id)] == [b.id]
    assert {c.id for c in store.list(alice.id, include_archived=True)} == {a.id, b.id}
    with pytest.raises(InputError):
        store.rename(alice.id, a.id, "   ")


def test_delete_really_removes_rows(db, store, alice):
    c = store.create(alice.id)
    mid = store.add_assistant_message(alice.id, c.id, "answer")
    store.add_feedback(alice.id, mid, "down", "不完整")
    store.delete(alice.id, c.id)
    with pytest.raises(NotFound):
        store.get(alice.id, c.id)
    with db.session(write=False) as session:
        for table in ("consultations", "messages", "feedback"):
            assert session.connection().exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar() == 0


def test_truncate_for_regenerate_and_edit(store, alice):
    c = store.create(alice.id)
    first = store.add_user_message(alice.id, c.id, "q1")
    store.add_assistant_message(alice.id, c.id, "a1")
    second = store.add_user_message(alice.id, c.id, "q2")
    store.add_assistant_message(alice.id, c.id, "a2")
    assert store.truncate(alice.id, c.id, second) == 2
    assert [m.content for m in store.messages(alice.id, c.id)] == ["q1", "a1"]
    assert first < second


@pytest.mark.parametrize("patient, error", [
    ({"weight_kg": -1}, "weight"), ({"weight_kg": 500}, "weight"), ({"weight_kg": 0}, "weight"),
    ({"age_months": 3600}, "age"), ({"age_months": "abc"}, "age"), ({"sex": "x"}, "sex"),
    ({"weight_kg": float("nan")}, "weight"), ({"height": 1}, "unknown"),
])
def test_absurd_patient_values_rejected(store, alice, patient, error):
    c = store.create(alice.id)
    with pytest.raises(InputError, match=error):
        store.set_patient(alice.id, c.id, patient)
    assert store.get(alice.id, c.id).patient["weight_kg"] is None


def test_patient_context_normalised(store, alice):
    c = store.create(alice.id, patient={"age_months": "18", "sex": "女", "weight_kg": "10.5",
                                        "allergies": "青霉素；鸡蛋", "chronic_conditions": ["哮喘", ""]})
    assert c.patient == {"age_months": 18.0, "sex": "F", "weight_kg": 10.5,
                         "allergies": ["青霉素", "鸡蛋"], "chronic_conditions": ["哮喘"]}


@pytest.mark.parametrize("text", ["", "   \n", "\u200b\u200b"])
def test_empty_messages_rejected(store, alice, text):
    c = store.create(alice.id)
    with pytest.raises(InputError):
        store.add_user_message(alice.id, c.id, text)
    assert store.messages(alice.id, c.id) == []


def test_hostile_text_stored_cleanly(store, alice):
    c = store.create(alice.id)
    nasty = "a\x00b\ud800c<script>alert(1)</script>\u202eevil 😀 '; DROP TABLE users; --"
    store.add_user_message(alice.id, c.id, nasty)
    stored = store.messages(alice.id, c.id)[0].content
    assert "\x00" not in stored and "\u202e" not in stored and "\ud800" not in stored
    assert "<script>alert(1)</script>" in stored and "😀" in stored and "DROP TABLE" in stored


def test_feedback_replaces_and_summarises(store, alice):
    c = store.create(alice.id)
    store.add_user_message(alice.id, c.id, "剂量？")
    mid = store.add_assistant_message(alice.id, c.id, "100 mg/kg")
    store.add_feedback(alice.id, mid, "up")
    store.add_feedback(alice.id, mid, "down", "剂量错误", "应为 10 mg/kg")
    assert store.feedback_for(alice.id, c.id) == {
        mid: {"rating": "down", "reason": "剂量错误", "corrected_answer": "应为 10 mg/kg"}}
    summary = store.feedback_summary()
    assert (summary["total"], summary["down"], summary["reasons"]["剂量错误"]) == (1, 1, 1)
    (record,) = store.feedback_records()
    assert record["context"] == [{"role": "user", "content": "剂量？"}]
    assert record["corrected_answer"] == "应为 10 mg/kg"
    with pytest.raises(InputError):
        store.add_feedback(alice.id, mid, "sideways")
    with pytest.raises(InputError):
        store.add_feedback(alice.id, mid, "down", "made-up reason")
    user_mid = store.messages(alice.id, c.id)[0].id
    with pytest.raises(InputError):
        store.add_feedback(alice.id, user_mid, "up")


def test_audit_records_who_did_what(db, store, alice):
    from pedgpt.storage import AuditLog

    c = store.create(alice.id)
    store.messages(alice.id, c.id)
    store.export_markdown(alice.id, c.id)
    store.delete(alice.id, c.id)
    actions = [e["action"] for e in AuditLog(db).events(user_id=alice.id)]
    assert actions[:4] == ["delete", "export", "view", "create"]


def test_concurrent_clinicians_lose_nothing(db, store, users):
    """8 threads (as Gradio's workers) write at once: no 'database is locked', nothing lost."""
    from concurrent.futures import ThreadPoolExecutor

    ids = [users.add(f"doc{i}", "password-123").id for i in range(8)]

    def session(uid: int) -> int:
        c = store.create(uid)
        for turn in range(5):
            store.add_user_message(uid, c.id, f"问题 {turn}")
            mid = store.begin_assistant_message(uid, c.id)
            store.save_partial(mid, "部分")
            store.finish_assistant_message(mid, f"回答 {turn}")
            store.list(uid)
        return c.id

    with ThreadPoolExecutor(8) as pool:
        cids = list(pool.map(session, ids))
    for uid, cid in zip(ids, cids):
        contents = [m.content for m in store.messages(uid, cid)]
        assert contents == [x for t in range(5) for x in (f"问题 {t}", f"回答 {t}")]
