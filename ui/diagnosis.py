"""Diagnosis tab: a structured case form → the knowledge-based differential (with its CMeKG fact
ids) at once, then the model's assessment streamed by the tab's chat, then the triage result.

The form's age, sex and weight become the consultation's pinned patient context (the sidebar
card), so follow-up questions in the tab's chat keep them.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from pedgpt.assistant import format_age
from ui import render, validate
from ui.context import AppContext
from ui.i18n import t
from ui.sidebar import age_fields

#: Candidates shown in the differential table.
DIFFERENTIAL_SIZE = 8
_SPLIT = re.compile(r"[,，;；、\n]+")


def split_items(text: str) -> list[str]:
    return [item.strip() for item in _SPLIT.split(text or "") if item.strip()]


class DiagnosisHandlers:
    """The case form and the panels beside the assessment."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def assess(self, years: Any, months: Any, sex: Any, weight: Any, temperature: Any,
               chief: str, duration: str, symptoms: str, exam: str, labs: str,
               lang: str) -> tuple:
        """Outputs: differential table, composed question, card years, months, sex, weight."""
        limits = self.ctx.limits
        age = validate.age_months(years, months, lang)
        kg = validate.weight(weight, lang)
        temp = validate.temperature(temperature, lang)
        fields = {k: validate.field(v, f"diagnosis.{k}", limits, lang) for k, v in
                  (("chief_complaint", chief), ("duration", duration), ("symptoms", symptoms),
                   ("exam", exam), ("labs", labs))}
        findings = split_items(fields["symptoms"]) or split_items(fields["chief_complaint"])
        if not findings:
            raise gr.Error(t("diagnosis.need_complaint", lang))
        sex = sex if sex in ("F", "M") else None
        table = self.differential(findings, age, sex, lang)
        question = self.case_text(age, sex, kg, temp, fields, lang)
        card_years, card_months = age_fields(age)
        return table, question, card_years, card_months, sex or "", "" if kg is None else f"{kg:g}"

    def differential(self, findings: list[str], age: float | None, sex: str | None,
                     lang: str) -> dict:
        from pedgpt.knowledge import differential

        with validate.user_errors():
            candidates = differential(findings, age_months=age, sex=sex, k=DIFFERENTIAL_SIZE)
        rows = render.differential_rows(candidates)
        label = t("diagnosis.differential", lang) if rows else t("diagnosis.no_candidates", lang)
        return gr.update(value=rows, headers=render.headers(render.DIFFERENTIAL_COLUMNS, lang),
                         label=label)

    @staticmethod
    def case_text(age: float | None, sex: str | None, kg: float | None, temp: float | None,
                  fields: dict, lang: str) -> str:
        """The case as the message the model answers (and the record keeps); its first line,
        the chief complaint, titles the consultation."""
        lines = []
        for key, name in (("chief_complaint", "case_chief"), ("duration", "case_duration")):
            if fields.get(key):
                lines.append(t(f"diagnosis.{name}", lang, value=fields[key]))
        if age is not None:
            lines.append(t("diagnosis.case_age", lang, value=format_age(age, lang)))
        if sex:
            lines.append(t("diagnosis.case_sex", lang, value=t(f"patient.sex_{sex.lower()}", lang)))
        if kg is not None:
            lines.append(t("diagnosis.case_weight", lang, value=f"{kg:g}"))
        if temp is not None:
            lines.append(t("diagnosis.case_temperature", lang, value=f"{temp:g}"))
        for key, name in (("symptoms", "case_symptoms"), ("exam", "case_exam"),
                          ("labs", "case_labs")):
            if fields.get(key):
                lines.append(t(f"diagnosis.{name}", lang, value=fields[key]))
        return "\n".join(lines + [t("diagnosis.case_intro", lang)])

    def triage(self, current: dict, lang: str, request: gr.Request) -> str:
        """The triage result of the latest assessment, as a coloured panel."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get("diagnose")
        if not cid:
            return ""
        with validate.user_errors():
            messages = self.ctx.consultations.messages(uid, cid, audit=False)
        last = next((m for m in reversed(messages) if m.role == "assistant" and m.triage), None)
        return render.triage_panel(last.triage if last else None, lang)
