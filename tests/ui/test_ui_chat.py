"""Chat handlers as plain functions on a tiny real engine: commit before generation, streaming,
stop, page closed mid-answer, regenerate, edit-and-resend, failures that keep the message."""

import gradio as gr
import pytest

from ui.chat import ChatHandlers
from ui.limits import Limits, RateLimiter
from ui.sidebar import EMPTY_CARD

QUESTION = "宝宝1岁半，发烧两天，38.5度，精神还可以，需要注意什么？"


def send(handlers, text, request, current=None, editing=False, card=EMPTY_CARD, lang="zh"):
    return handlers.send(text, current or {}, editing, *card, "", False, lang, request)


def stored(ctx, request, cid):
    return ctx.consultations.messages(ctx.user_id(request), cid, audit=False)


def test_message_is_committed_before_the_answer_streams(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    shown, box, current, editing, hint, listing = send(chat, QUESTION, alice)
    cid = current["consult"]
    assert box == "" and editing is False
    assert [m.role for m in stored(app_ctx, alice, cid)] == ["user"]
    assert shown["value"][-1]["role"] == "assistant" and shown["value"][0]["content"] == QUESTION
    assert listing["value"] == cid and any(c[1] == cid for c in listing["choices"])

    frames = list(chat.answer(current, "zh", 24, 0, alice))
    assert len(frames) >= 3  # streamed piece by piece
    messages = stored(app_ctx, alice, cid)
    assert [m.role for m in messages] == ["user", "assistant"]
    answer = messages[-1]
    assert answer.status == "complete" and answer.content.strip()
    assert answer.triage["level"] in ("emergency", "urgent", "routine")
    assert answer.params["max_new_tokens"] == 24 and answer.model
    assert answer.completion_tokens and answer.latency_ms is not None
    final = frames[-1]["value"][-1]
    assert final["role"] == "assistant" and "▌" not in final["content"]
    assert frames[-1]["feedback_value"] == [None]


def test_stop_keeps_the_partial_answer_marked_incomplete(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice)[2]
    frames = chat.answer(current, "zh", 24, 0, alice)
    next(frames), next(frames)
    chat.stop(alice)
    rest = list(frames)
    answer = stored(app_ctx, alice, current["consult"])[-1]
    assert answer.status == "incomplete" and answer.content.strip()
    assert "回答未完成" in rest[-1]["value"][-1]["content"]


def test_stop_in_another_session_does_not_stop_this_answer(app_ctx, as_user):
    chat = ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, as_user("alice", "tab-a"))[2]
    frames = chat.answer(current, "zh", 24, 0, as_user("alice", "tab-a"))
    next(frames)
    chat.stop(as_user("alice", "tab-b"))
    list(frames)
    assert stored(app_ctx, as_user("alice"), current["consult"])[-1].status == "complete"


def test_page_closed_mid_answer_keeps_partial(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice)[2]
    frames = chat.answer(current, "zh", 24, 0, alice)
    next(frames), next(frames)
    frames.close()  # what Gradio does when the browser goes away
    answer = stored(app_ctx, alice, current["consult"])[-1]
    assert answer.status == "incomplete" and answer.content.strip()


def test_regenerate_replaces_the_last_answer(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice)[2]
    list(chat.answer(current, "zh", 24, 0, alice))
    first = stored(app_ctx, alice, current["consult"])[-1]
    shown = chat.regenerate(current, "zh", alice)
    roles = [m["role"] for m in shown["value"]]
    assert roles == ["user", "assistant"] and "▌" in shown["value"][-1]["content"]
    list(chat.answer(current, "zh", 24, 0, alice))
    messages = stored(app_ctx, alice, current["consult"])
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[-1].created_at > first.created_at and messages[-1].status == "complete"


def test_regenerate_without_a_question_is_refused(app_ctx, as_user):
    with pytest.raises(gr.Error, match="no answer to regenerate"):
        ChatHandlers(app_ctx, "consult").regenerate({}, "en", as_user("alice"))


def test_edit_and_resend_replaces_the_last_exchange(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice)[2]
    list(chat.answer(current, "zh", 24, 0, alice))
    text, editing, hint = chat.edit_last(current, "zh", alice)
    assert text == QUESTION and editing is True and hint["visible"] is True
    send(chat, "宝宝发烧三天了", alice, current=current, editing=True)
    list(chat.answer(current, "zh", 24, 0, alice))
    messages = stored(app_ctx, alice, current["consult"])
    assert [(m.role, m.content if m.role == "user" else "") for m in messages] == [
        ("user", "宝宝发烧三天了"), ("assistant", "")]


def test_follow_up_turns_accumulate(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice)[2]
    list(chat.answer(current, "zh", 24, 0, alice))
    current = send(chat, "还需要吃药吗？", alice, current=current)[2]
    list(chat.answer(current, "zh", 24, 0, alice))
    assert [m.role for m in stored(app_ctx, alice, current["consult"])] == [
        "user", "assistant", "user", "assistant"]


def test_a_failing_generation_keeps_the_message_and_the_server(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    too_many_tokens = "发热咳嗽腹泻呕吐皮疹" * 390  # fits the message limit, not the 4k context
    current = send(chat, too_many_tokens, alice)[2]
    frames = list(chat.answer(current, "zh", 24, 0, alice))
    messages = stored(app_ctx, alice, current["consult"])
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].content == too_many_tokens
    assert messages[1].status == "error" and "生成失败" in messages[1].content
    assert "生成失败" in frames[-1]["value"][-1]["content"]
    current = send(chat, QUESTION, alice, current=current)[2]  # the next turn still works
    list(chat.answer(current, "zh", 24, 0, alice))
    assert stored(app_ctx, alice, current["consult"])[-1].status == "complete"


@pytest.mark.parametrize("text, message", [("", "消息不能为空"), ("   ", "消息不能为空"),
                                           ("x" * 4001, "消息过长")])
def test_rejected_messages_store_nothing(app_ctx, as_user, text, message):
    alice = as_user("alice")
    with pytest.raises(gr.Error, match=message):
        send(ChatHandlers(app_ctx, "consult"), text, alice)
    assert app_ctx.consultations.list(app_ctx.user_id(alice)) == []


def test_rate_limit_per_user(app_ctx, as_user):
    app_ctx.limiter = RateLimiter(2)
    chat = ChatHandlers(app_ctx, "consult")
    current = send(chat, "一", as_user("alice"))[2]
    current = send(chat, "二", as_user("alice"), current=current)[2]
    with pytest.raises(gr.Error, match="请求过于频繁"):
        send(chat, "三", as_user("alice"), current=current)
    assert len(stored(app_ctx, as_user("alice"), current["consult"])) == 2
    send(chat, "bob's first", as_user("bob"))  # bob has his own budget


def test_patient_card_is_pinned_on_send(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, QUESTION, alice, card=(1, 6, "F", 11, "青霉素", "哮喘"))[2]
    info = app_ctx.consultations.get(app_ctx.user_id(alice), current["consult"])
    assert info.patient == {"age_months": 18.0, "sex": "F", "weight_kg": 11.0,
                            "allergies": ["青霉素"], "chronic_conditions": ["哮喘"]}
    with pytest.raises(gr.Error, match="体重"):
        send(chat, QUESTION, alice, current=current, card=(1, 6, "F", 400, "", ""))


def test_limits_message_length_is_configurable(app_ctx, as_user):
    app_ctx.limits = Limits(max_message_chars=10, max_new_tokens=24)
    with pytest.raises(gr.Error, match="最多 10 字"):
        send(ChatHandlers(app_ctx, "consult"), "宝宝发烧两天了怎么办呢", as_user("alice"))


def test_parent_mode_shows_only_the_checked_answer(app_ctx, as_user):
    from pedgpt.assistant import Assistant
    from pedgpt.config import Settings

    app_ctx.settings = Settings(db_url=app_ctx.db.url, mode="parent")
    app_ctx.assistant = Assistant(app_ctx.engine, mode="parent")
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, "3周宝宝发烧38.2度，吃奶差", alice)[2]
    frames = list(chat.answer(current, "zh", 24, 0, alice))
    assert all(frame[-1]["content"] == " ▌" for frame in frames[:-1])  # nothing unchecked
    answer = stored(app_ctx, alice, current["consult"])[-1]
    assert answer.triage["level"] == "emergency" and answer.triage["banner"]["text"]
    assert "pedgpt-triage-emergency" in frames[-1]["value"][-1]["content"]


def test_contraindication_stated_to_the_model_is_shown_with_the_answer(app_ctx, as_user):
    alice, chat = as_user("alice"), ChatHandlers(app_ctx, "consult")
    current = send(chat, "孩子10个月，发烧38.6度，可以吃阿司匹林退烧吗？", alice)[2]
    frames = list(chat.answer(current, "zh", 16, 0, alice))
    answer = stored(app_ctx, alice, current["consult"])[-1]
    blocked = answer.triage["blocked"]
    assert [b["drug_id"] for b in blocked] == ["aspirin"] and blocked[0]["source"]
    shown = frames[-1]["value"][-1]["content"]
    assert "已告知模型的用药禁忌" in shown and blocked[0]["rule"] in shown
    plain = send(chat, QUESTION, alice)[2]
    list(chat.answer(plain, "zh", 8, 0, alice))
    assert "blocked" not in stored(app_ctx, alice, plain["consult"])[-1].triage
