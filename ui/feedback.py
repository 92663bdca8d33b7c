"""Feedback on answers: thumbs up/down under an assistant message is stored at once; a reason
(剂量错误 / 诊断错误 / 不安全 / 不完整 / 其他) and an optional corrected answer can follow.
Stored through `ConsultationStore.add_feedback` for later preference training.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from pedgpt.storage.models import REASONS
from ui import render, validate
from ui.context import AppContext
from ui.i18n import t

#: i18n keys of the reason labels, in the order of `REASONS` (the stored values).
REASON_KEYS = ("feedback.reason_dose", "feedback.reason_diagnosis", "feedback.reason_unsafe",
               "feedback.reason_incomplete", "feedback.reason_other")


def reason_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(key, lang), value) for key, value in zip(REASON_KEYS, REASONS)]


class FeedbackHandlers:
    """Ratings from one tab's chatbot."""

    def __init__(self, ctx: AppContext, task: str) -> None:
        self.ctx = ctx
        self.task = task

    def rate(self, current: dict, lang: str, data: gr.LikeData, request: gr.Request) -> tuple:
        """A click on thumbs up/down. Outputs: target, panel, target label, reason, corrected answer."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(self.task)
        index = data.index if isinstance(data.index, int) else data.index[0]
        with validate.user_errors():
            shown = render.shown(self.ctx.consultations.messages(uid, cid, audit=False)) if cid else []
        if not 0 <= index < len(shown) or shown[index].role != "assistant":
            raise gr.Error(t("feedback.pick_answer", lang))
        rating = "up" if data.liked is True or data.liked == "Like" else "down"
        with validate.user_errors():
            self.ctx.consultations.add_feedback(uid, shown[index].id, rating)
        answer_no = sum(1 for m in shown[: index + 1] if m.role == "assistant")
        label = t("feedback.target", lang, index=answer_no, rating=t(f"feedback.{rating}", lang))
        target = {"message_id": shown[index].id, "rating": rating}
        return target, gr.update(visible=True), label, None, ""

    def submit(self, target: dict | None, reason: Any, corrected: Any, lang: str,
               request: gr.Request) -> tuple:
        """Store the reason and corrected answer. Outputs: target, panel, reason, corrected."""
        uid = self.ctx.user_id(request)
        if not target:
            raise gr.Error(t("feedback.pick_answer", lang))
        if reason not in (None, "") and reason not in REASONS:
            raise gr.Error(t("feedback.reason", lang))
        corrected = "" if corrected is None else str(corrected)
        if len(corrected) > self.ctx.limits.max_message_chars:
            raise gr.Error(t("errors.too_long", lang, length=len(corrected),
                             limit=self.ctx.limits.max_message_chars))
        with validate.user_errors():
            self.ctx.consultations.add_feedback(uid, target["message_id"], target["rating"],
                                                reason or None, corrected.strip() or None)
        gr.Info(t("feedback.saved", lang))
        return None, gr.update(visible=False), None, ""
