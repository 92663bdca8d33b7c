"""Presentation of stored answers: banners, findings, citations, tables; hostile text is inert."""

from datetime import datetime, timezone

from ui import render


def _answer(**fields):
    base = {"id": 2, "role": "assistant", "content": "多喝水 [F1]", "status": "complete",
            "triage": {"level": "routine", "flags": [], "advice": ""}, "dose_findings": [],
            "citations": []}
    base.update(fields)
    return base


def test_html_in_messages_is_escaped():
    chat = render.chat_history([
        {"id": 1, "role": "user", "content": "<script>alert(1)</script><img src=x onerror=alert(2)>"},
        _answer(content="<b onclick=x>hi</b>")], "zh")
    assert "<script>" not in chat[0]["content"] and "&lt;script&gt;" in chat[0]["content"]
    assert "<img" not in chat[0]["content"]
    assert "<b onclick" not in chat[1]["content"]


def test_system_messages_are_not_shown_and_order_is_kept():
    chat = render.chat_history([{"role": "system", "content": "secret"},
                                {"id": 1, "role": "user", "content": "q"}, _answer()], "en")
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert all("secret" not in m["content"] for m in chat)


def test_emergency_banner_is_red_and_urgent_amber():
    triage = {"level": "emergency", "flags": [{"id": "x", "text": "抽搐", "source": "s"}],
              "advice": "立即拨打120"}
    html = render.assistant_message(_answer(triage=triage), "zh")
    assert "pedgpt-triage-emergency" in html and "立即拨打120" in html and "抽搐" in html
    urgent = render.assistant_message(_answer(triage={"level": "urgent", "advice": "今天就诊"}), "en")
    assert "pedgpt-triage-urgent" in urgent and "Urgent" in urgent
    assert "pedgpt-triage" not in render.assistant_message(_answer(), "en")


def test_findings_citations_and_incomplete_note():
    message = _answer(status="incomplete",
                      dose_findings=[{"message": "剂量超过最大量"}, {"drug": "ibuprofen", "level": "high"}],
                      citations=[{"marker": "F1", "id": "kb-1", "text": "腹泻 常见症状 稀便", "cited": True},
                                 {"marker": "F2", "id": "kb-2", "text": "other", "cited": False}])
    html = render.assistant_message(message, "zh")
    assert "剂量超过最大量" in html and "drug: ibuprofen" in html
    assert "<details" in html and "参考依据（2 条）" in html and "✓ [F1]" in html
    assert "回答未完成" in html


def test_feedback_values_follow_assistant_messages():
    messages = [{"id": 1, "role": "user", "content": "q"}, _answer(id=2),
                {"id": 3, "role": "user", "content": "q2"}, _answer(id=4)]
    assert render.feedback_values(messages, {4: {"rating": "down"}}) == [None, "Dislike"]


def test_consultation_choices_label_task_title_and_archive():
    when = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    items = [{"id": 5, "task": "diagnose", "title": "", "updated_at": when, "archived": True}]
    [(label, cid)] = render.consultation_choices(items, "zh")
    assert cid == 5 and label.startswith("[诊断] 未命名会诊（已归档）") and "01-02 03:04" in label


def test_dose_rows_mg_and_ml():
    advice = {"drug": "ibuprofen", "allowed": True, "per_dose_mg": {"min": 50, "max": 100},
              "interval_hours_min": 6, "max_doses_per_24h": 4, "max_daily_mg": 400,
              "warnings": ["与食物同服"], "reason": "", "sources": ["WHO EMLc 2023"]}
    rows = dict((k, v) for k, v in render.dose_rows(advice, "en") if k != "Warnings")
    assert rows["Per dose"] == "50–100 mg" and rows["Minimum interval"] == "6 h"
    assert rows["Max daily amount"] == "400 mg" and rows["Sources"] == "WHO EMLc 2023"
    ors = render.dose_rows({"drug": "ORS", "allowed": True, "per_dose_ml": {"min": 50, "max": 100},
                            "sources": []}, "en")
    assert ["Per dose", "50–100 mL"] in ors
    blocked = render.dose_summary({"allowed": False, "reason": "<2 岁禁用"}, "zh")
    assert "pedgpt-triage-emergency" in blocked and "&lt;2 岁禁用" in blocked


def test_differential_rows():
    rows = render.differential_rows([{"name": "肺炎", "score": 0.8123, "matched": ["发热", "咳嗽"],
                                      "unmatched": ["气促"], "examinations": ["胸片"],
                                      "department": "儿科", "facts": ["kb-1", "kb-2"]}])
    assert rows == [["肺炎", "0.81", "发热、咳嗽", "气促", "胸片", "儿科", "kb-1, kb-2"]]


def test_the_safety_layers_banner_text_is_shown_when_present():
    triage = {"level": "emergency", "advice": "立即拨打120", "flags": [],
              "banner": {"level": "emergency", "text": "这是急症", "dismissable": False}}
    html = render.triage_banner(triage, "zh")
    assert "这是急症" in html and "立即拨打120" in html and "pedgpt-triage-emergency" in html


def test_rules_stated_to_the_model_are_listed_and_escaped():
    triage = {"level": "routine", "flags": [], "advice": "",
              "blocked": [{"drug_id": "aspirin", "drug": "阿司匹林", "rule": "16岁以下<禁用>",
                           "rule_id": "CI-1", "source": "MHRA 2009"}]}
    html = render.assistant_message(_answer(triage=triage), "en")
    assert "pedgpt-blocked" in html and "Contraindications stated to the model" in html
    assert "阿司匹林" in html and "16岁以下&lt;禁用&gt;" in html and "MHRA 2009" in html
    assert "pedgpt-blocked" not in render.assistant_message(_answer(), "en")
