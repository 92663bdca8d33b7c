"""Sidebar handlers: the consultation list (new, open, rename, search, archive, delete) and the
patient-context card pinned to the open consultation.

Each tab keeps its own open consultation: `current` is {"consult": id, "diagnose": id,
"medicate": id} and `active` the tab in front. Opening a consultation brings its tab forward.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from pedgpt.storage.errors import NotFound
from pedgpt.storage.records import PatientContext
from ui import render, validate
from ui.context import AppContext
from ui.conversation import Conversation
from ui.i18n import t

TASKS = ("consult", "diagnose", "medicate")


def card_values(patient: dict | None) -> tuple:
    """Stored patient context → the six card fields (years, months, sex, kg, allergies, chronic),
    as the text the boxes show."""
    data = patient or {}
    age, weight = data.get("age_months"), data.get("weight_kg")
    years, months = age_fields(age)
    return (years, months, data.get("sex") or "", "" if weight is None else f"{float(weight):g}",
            "、".join(data.get("allergies") or []),
            "、".join(data.get("chronic_conditions") or []))


def age_fields(age_months: float | None) -> tuple[str, str]:
    """Months → the (years, months) boxes' text."""
    if age_months is None:
        return "", ""
    years, months = divmod(float(age_months), 12)
    return f"{int(years)}", f"{months:g}"


EMPTY_CARD = card_values(None)


def list_update(ctx: AppContext, uid: int, search: str | None, archived: bool, selected: Any,
                lang: str) -> dict:
    """The sidebar list, filtered; `selected` stays highlighted when it is still listed."""
    with validate.user_errors():
        items = ctx.consultations.list(uid, search=(search or "").strip() or None,
                                       include_archived=bool(archived))
    choices = render.consultation_choices(items, lang)
    ids = {cid for _, cid in choices}
    return gr.update(choices=choices, value=selected if selected in ids else None,
                     label=t("sidebar.list", lang) if choices else t("sidebar.empty", lang))


def chat_outputs(task: str, chat: list[dict] | dict) -> tuple:
    """One value per tab chatbot: `chat` for `task`'s, no change for the others."""
    return tuple(chat if name == task else gr.skip() for name in TASKS)


class SidebarHandlers:
    """Consultation list and patient card."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def refresh(self, search: str, archived: bool, current: dict, active: str, lang: str,
                request: gr.Request) -> dict:
        uid = self.ctx.user_id(request)
        return list_update(self.ctx, uid, search, archived, (current or {}).get(active), lang)

    def open(self, cid: Any, current: dict, lang: str, request: gr.Request) -> tuple:
        """Show a consultation: its tab, chat, patient card and title.
        Outputs: current, active, tabs, 3 chats, 6 card fields, title."""
        uid = self.ctx.user_id(request)
        if cid in (None, ""):
            return (gr.skip(),) * 13
        try:
            info = self.ctx.consultations.get(uid, cid)
        except NotFound:
            raise gr.Error(t("errors.not_found", lang)) from None
        current = dict(current or {}, **{info.task: info.id})
        messages = self.ctx.consultations.messages(uid, info.id)  # audited as a view
        chat = render.chat_update(messages, self.ctx.consultations.feedback_for(uid, info.id), lang)
        return (current, info.task, gr.Tabs(selected=info.task), *chat_outputs(info.task, chat),
                *card_values(info.patient), info.title)

    def new(self, active: str, current: dict, search: str, archived: bool, lang: str,
            request: gr.Request) -> tuple:
        """A fresh consultation of the tab in front.
        Outputs: current, 3 chats, card, title, list."""
        uid = self.ctx.user_id(request)
        with validate.user_errors():
            info = self.ctx.consultations.create(uid, active)
        current = dict(current or {}, **{active: info.id})
        return (current, *chat_outputs(active, render.chat_update([], {}, lang)), *EMPTY_CARD, "",
                list_update(self.ctx, uid, search, archived, info.id, lang))

    def rename(self, title: str, current: dict, active: str, search: str, archived: bool,
               lang: str, request: gr.Request) -> dict:
        uid, cid = self._open_id(current, active, lang, request)
        title = validate.field(title, "sidebar.title", self.ctx.limits, lang)
        with validate.user_errors():
            self.ctx.consultations.rename(uid, cid, title)
        return list_update(self.ctx, uid, search, archived, cid, lang)

    def archive(self, current: dict, active: str, search: str, archived: bool, lang: str,
                request: gr.Request) -> dict:
        """Archive the open consultation, or bring it back if it is archived."""
        uid, cid = self._open_id(current, active, lang, request)
        with validate.user_errors():
            info = self.ctx.consultations.get(uid, cid)
            self.ctx.consultations.archive(uid, cid, not info.archived)
        return list_update(self.ctx, uid, search, archived, cid, lang)

    def delete(self, current: dict, active: str, search: str, archived: bool, lang: str,
               request: gr.Request) -> tuple:
        """Delete the open consultation for good. Outputs: current, 3 chats, card, title, list."""
        uid, cid = self._open_id(current, active, lang, request)
        with validate.user_errors():
            self.ctx.consultations.delete(uid, cid)
        gr.Info(t("sidebar.deleted", lang))
        current = {k: v for k, v in (current or {}).items() if v != cid}
        return (current, *chat_outputs(active, render.chat_update([], {}, lang)), *EMPTY_CARD, "",
                list_update(self.ctx, uid, search, archived, None, lang))

    def save_patient(self, years: Any, months: Any, sex: Any, weight: Any, allergies: Any,
                     chronic: Any, current: dict, active: str, search: str, archived: bool,
                     lang: str, request: gr.Request) -> tuple:
        """Pin the card to the open consultation (a new one if none). Outputs: current, list."""
        uid = self.ctx.user_id(request)
        patient = validate.patient(years, months, sex, weight, allergies, chronic,
                                   self.ctx.limits, lang)
        with validate.user_errors():
            patient = PatientContext.coerce(patient).to_dict()
            cid = Conversation(self.ctx, active).ensure(uid, (current or {}).get(active), patient)
        gr.Info(t("patient.saved", lang))
        return (dict(current or {}, **{active: cid}),
                list_update(self.ctx, uid, search, archived, cid, lang))

    def _open_id(self, current: dict, active: str, lang: str,
                 request: gr.Request) -> tuple[int, int]:
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(active)
        if not cid:
            raise gr.Error(t("errors.no_consultation", lang))
        return uid, cid


class TabHandlers:
    """Bringing a tab forward shows the patient card and title of that tab's consultation."""

    def __init__(self, ctx: AppContext, task: str) -> None:
        self.ctx = ctx
        self.task = task

    def select(self, current: dict, lang: str, request: gr.Request) -> tuple:
        """Outputs: active, 6 card fields, title, list selection."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(self.task)
        info = None
        if cid:
            try:
                info = self.ctx.consultations.get(uid, cid)
            except NotFound:
                info = None
        if info is None:
            return (self.task, *EMPTY_CARD, "", gr.update(value=None))
        return (self.task, *card_values(info.patient), info.title, gr.update(value=info.id))
