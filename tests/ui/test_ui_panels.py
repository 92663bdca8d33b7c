"""Diagnosis and medication panels, feedback, export, language switch and the built page."""

import gradio as gr
import pytest

from ui.chat import ChatHandlers
from ui.diagnosis import DiagnosisHandlers
from ui.export import ExportHandlers
from ui.feedback import FeedbackHandlers, reason_choices
from ui.medication import MedicationHandlers
from ui.sidebar import EMPTY_CARD


def answered(ctx, request, task="consult", text="宝宝腹泻两天，怎么护理？"):
    chat = ChatHandlers(ctx, task)
    current = chat.send(text, {}, False, *EMPTY_CARD, "", False, "zh", request)[2]
    list(chat.answer(current, "zh", 24, 0, request))
    return current


def test_diagnosis_form_gives_differential_question_and_card(app_ctx, as_user):
    table, question, years, months, sex, weight = DiagnosisHandlers(app_ctx).assess(
        1, 6, "F", 11, 39.2, "发热伴咳嗽", "2天", "发热，咳嗽，气促", "双肺湿啰音", "", "zh")
    assert table["value"] and len(table["value"][0]) == 7
    assert table["headers"][0] == "疾病"
    assert question.splitlines()[0] == "主诉：发热伴咳嗽" and "体温：39.2 ℃" in question
    assert "年龄：1岁6个月" in question and "性别：女" in question
    assert (years, months, sex, weight) == ("1", "6", "F", "11")


def test_diagnosis_needs_a_complaint_and_plausible_values(app_ctx):
    handlers = DiagnosisHandlers(app_ctx)
    with pytest.raises(gr.Error, match="chief complaint"):
        handlers.assess(None, None, "", None, None, "", "", "", "", "", "en")
    with pytest.raises(gr.Error, match="Temperature"):
        handlers.assess(None, None, "", None, 60, "fever", "", "", "", "", "en")


def test_diagnosis_assessment_streams_and_shows_triage(app_ctx, as_user):
    alice = as_user("alice")
    _, question, *card = DiagnosisHandlers(app_ctx).assess(
        0, 2, "M", 5, 39.0, "发热", "1天", "发热，精神差", "", "", "zh")
    chat = ChatHandlers(app_ctx, "diagnose")
    shown, current, _ = chat.send_composed(question, {}, card[0], card[1], card[2], card[3], "", "",
                                           "", False, "zh", alice)
    list(chat.answer(current, "zh", 24, 0, alice))
    panel = DiagnosisHandlers(app_ctx).triage(current, "zh", alice)
    assert 'class="pedgpt-triage' in panel
    info = app_ctx.consultations.get(app_ctx.user_id(alice), current["diagnose"])
    assert info.task == "diagnose" and info.patient["age_months"] == 2


def test_medication_table_comes_from_the_safety_layer(app_ctx):
    summary, table, question, years, months, weight = MedicationHandlers(app_ctx).calculate(
        "对乙酰氨基酚", "发热", 2, 0, 12, "zh")
    rows = dict(table["value"])
    assert "mg" in rows["单次剂量"] and rows["来源"]
    assert "pedgpt-dose-ok" in summary
    assert "对乙酰氨基酚" in question and "12 kg" in question
    assert (years, months, weight) == ("2", "0", "12")


def test_medication_refuses_missing_or_unknown_input(app_ctx):
    handlers = MedicationHandlers(app_ctx)
    with pytest.raises(gr.Error, match="Enter a drug name"):
        handlers.calculate("", "", 2, 0, 12, "en")
    with pytest.raises(gr.Error, match="Enter the weight"):
        handlers.calculate("ibuprofen", "", 2, 0, None, "en")
    with pytest.raises(gr.Error):
        handlers.calculate("no-such-drug-xyz", "", 2, 0, 12, "en")


def test_feedback_thumbs_then_reason_and_correction(app_ctx, as_user):
    alice = as_user("alice")
    current = answered(app_ctx, alice)
    handlers = FeedbackHandlers(app_ctx, "consult")
    like = gr.LikeData(None, {"index": 1, "value": "", "liked": False})
    target, panel, label, reason, corrected = handlers.rate(current, "zh", like, alice)
    assert target["rating"] == "down" and panel["visible"] is True and "第 1 条" in label
    handlers.submit(target, "剂量错误", "应按体重计算", "zh", alice)
    feedback = app_ctx.consultations.feedback_for(app_ctx.user_id(alice), current["consult"])
    assert list(feedback.values()) == [{"rating": "down", "reason": "剂量错误",
                                        "corrected_answer": "应按体重计算"}]
    with pytest.raises(gr.Error):  # the user's own message cannot be rated
        handlers.rate(current, "zh", gr.LikeData(None, {"index": 0, "value": ""}), alice)
    with pytest.raises(gr.Error):
        handlers.submit(target, "not a reason", "", "zh", alice)
    assert [value for _, value in reason_choices("en")] == ["剂量错误", "诊断错误", "不安全", "不完整", "其他"]


@pytest.mark.parametrize("fmt, head", [("pdf", b"%PDF-"), ("markdown", b"#"), ("json", b"{")])
def test_export_writes_a_downloadable_file(app_ctx, as_user, fmt, head):
    alice = as_user("alice")
    current = answered(app_ctx, alice)
    update = ExportHandlers(app_ctx, fmt).export(current, "consult", "zh", alice)
    with open(update["value"], "rb") as handle:
        data = handle.read()
    assert update["visible"] is True and data.lstrip()[:len(head)] == head
    if fmt != "pdf":
        assert "宝宝腹泻两天".encode() in data


def test_export_without_a_consultation_is_refused(app_ctx, as_user):
    with pytest.raises(gr.Error, match="Select or create"):
        ExportHandlers(app_ctx, "pdf").export({}, "consult", "en", as_user("alice"))


def test_built_page_relabels_everything_on_language_switch(app_ctx):
    from ui.layout import build_demo

    demo = build_demo(app_ctx.settings, app_ctx.engine, app_ctx.db, app_ctx.limits)
    assert isinstance(demo, gr.Blocks) and demo.pedgpt_context.settings is app_ctx.settings
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    assert {"consult_send", "consult_answer", "diagnose", "dose", "export_pdf", "feedback"} <= names
    from ui.translate import Translations
    tr = next(fn.fn.__self__ for fn in demo.fns.values()
              if getattr(fn.fn, "__self__", None).__class__ is Translations)
    english = tr.updates("en")
    assert len(english) == len(tr.components) > 60
    texts = {str(value) for update in english for value in update.values()}
    assert "Consultation" in texts and "Send" in texts and "问诊" not in texts


def test_header_language_follows_the_browser(app_ctx):
    from ui.header import HeaderHandlers

    request = gr.Request(username="alice", headers={"accept-language": "en-US,en;q=0.9"})
    lang, user_line, listing = HeaderHandlers(app_ctx).load(request)
    assert lang == "en" and "Signed in as alice" in user_line and listing["choices"] == []


def test_thumbs_follow_their_answers_across_consultations(app_ctx, as_user):
    from ui.sidebar import SidebarHandlers

    alice = as_user("alice")
    rated = answered(app_ctx, alice)
    FeedbackHandlers(app_ctx, "consult").rate(
        rated, "zh", gr.LikeData(None, {"index": 1, "value": "", "liked": True}), alice)
    other = answered(app_ctx, alice, text="宝宝咳嗽三天")
    side = SidebarHandlers(app_ctx)
    assert side.open(rated["consult"], other, "zh", alice)[3]["feedback_value"] == ["Like"]
    assert side.open(other["consult"], rated, "zh", alice)[3]["feedback_value"] == [None]
    chats = side.new("consult", other, "", False, "zh", alice)[1:4]
    assert chats[0]["feedback_value"] == []
