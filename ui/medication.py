"""Medication tab: drug, indication, age, weight → the deterministic dose table and
contraindication result from `pedgpt.safety` first, then the model's explanation streamed by the
tab's chat (where the answer guard checks every dose it states).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from pedgpt.assistant import format_age
from ui import render, validate
from ui.context import AppContext
from ui.i18n import t
from ui.sidebar import age_fields

DOSE_COLUMNS = ("medication.col_item", "medication.col_value")


class MedicationHandlers:
    """The dose calculator above the medication chat."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def calculate(self, drug: str, indication: str, years: Any, months: Any, weight: Any,
                  lang: str) -> tuple:
        """Outputs: result line, dose table, composed question, card years, months, weight."""
        limits = self.ctx.limits
        drug = validate.field(drug, "medication.drug", limits, lang)
        indication = validate.field(indication, "medication.indication", limits, lang)
        if not drug:
            raise gr.Error(t("medication.need_drug", lang))
        age = validate.age_months(years, months, lang)
        kg = validate.weight(weight, lang)
        if kg is None:
            raise gr.Error(t("medication.need_weight", lang))
        if age is None:
            raise gr.Error(t("medication.need_age", lang))
        from pedgpt import safety

        with validate.user_errors():
            advice = safety.calculate(drug, kg, age, indication or None,
                                      mode=self.ctx.settings.mode).to_dict()
        table = gr.update(value=render.dose_rows(advice, lang),
                          headers=render.headers(DOSE_COLUMNS, lang))
        question = t("medication.question", lang, drug=drug, indication=indication or "-",
                     age=format_age(age, lang), weight=f"{kg:g}")
        card_years, card_months = age_fields(age)
        return (render.dose_summary(advice, lang), table, question, card_years, card_months,
                f"{kg:g}")
