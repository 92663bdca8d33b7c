"""Chat handlers of one tab: send, stream the answer, stop, regenerate, edit-and-resend.

`send` commits the message (fast, in the page at once) and `answer` streams the reply; the
layout chains them with `.success`, so a rejected message never starts a generation.
"""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from pedgpt.storage.errors import NotFound
from pedgpt.storage.records import PatientContext
from ui import validate
from ui.context import AppContext
from ui.conversation import Conversation
from ui.i18n import t
from ui.sidebar import list_update


class ChatHandlers:
    """The chat of one task tab."""

    def __init__(self, ctx: AppContext, task: str) -> None:
        self.ctx = ctx
        self.task = task
        self.flow = Conversation(ctx, task)

    def send(self, text: str, current: dict, editing: bool, years: Any, months: Any, sex: Any,
             weight: Any, allergies: Any, chronic: Any, search: str, archived: bool, lang: str,
             request: gr.Request) -> tuple:
        """Commit a typed message. Outputs: chat, textbox, current, editing, edit hint, list."""
        text = validate.message(text, self.ctx.limits, lang)
        uid, current = self._commit(text, current, bool(editing),
                                    (years, months, sex, weight, allergies, chronic), lang, request)
        cid = current[self.task]
        return (self.flow.view(uid, cid, lang, pending=True), "", current, False,
                gr.update(visible=False), list_update(self.ctx, uid, search, archived, cid, lang))

    def send_composed(self, text: str, current: dict, years: Any, months: Any, sex: Any,
                      weight: Any, allergies: Any, chronic: Any, search: str, archived: bool,
                      lang: str, request: gr.Request) -> tuple:
        """Commit a message composed by a form (case, medication). Outputs: chat, current, list."""
        text = validate.message(text, self.ctx.limits, lang)
        uid, current = self._commit(text, current, False,
                                    (years, months, sex, weight, allergies, chronic), lang, request)
        cid = current[self.task]
        return (self.flow.view(uid, cid, lang, pending=True), current,
                list_update(self.ctx, uid, search, archived, cid, lang))

    def _commit(self, text: str, current: dict, editing: bool, card: tuple, lang: str,
                request: gr.Request) -> tuple[int, dict]:
        uid = self.ctx.user_id(request)
        patient = validate.patient(*card, self.ctx.limits, lang)
        validate.rate(self.ctx.limiter, str(uid), lang)
        with validate.user_errors():
            patient = PatientContext.coerce(patient).to_dict()
            cid = self.flow.ensure(uid, (current or {}).get(self.task), patient)
            self.flow.commit(uid, cid, text, replace_last=editing)
        return uid, dict(current or {}, **{self.task: cid})

    def answer(self, current: dict, lang: str, max_new_tokens: Any, temperature: Any,
               request: gr.Request) -> Iterator[list[dict]]:
        """Stream the answer to the last message of this tab's consultation, with the page's
        generation settings."""
        uid = self.ctx.user_id(request)
        params = validate.generation(max_new_tokens, temperature, self.ctx.limits, lang)
        cid = (current or {}).get(self.task)
        if not cid:
            return
        key = self.ctx.session_key(request)
        try:
            yield from self.flow.generate(uid, cid, lang, key, params)
        except NotFound:
            raise gr.Error(t("errors.not_found", lang)) from None

    def stop(self, request: gr.Request) -> None:
        """Stop this browser session's running answer (the partial answer is kept)."""
        self.ctx.switches.stop(self.ctx.session_key(request))

    def regenerate(self, current: dict, lang: str, request: gr.Request) -> list[dict]:
        """Drop the last answer and show the pending-answer marker; `answer` follows."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(self.task)
        if not cid:
            raise gr.Error(t("chat.nothing_to_regenerate", lang))
        validate.rate(self.ctx.limiter, str(uid), lang)
        with validate.user_errors():
            ready = self.flow.drop_last_answer(uid, cid)
        if not ready:
            raise gr.Error(t("chat.nothing_to_regenerate", lang))
        return self.flow.view(uid, cid, lang, pending=True)

    def edit_last(self, current: dict, lang: str, request: gr.Request) -> tuple:
        """Put the last message back in the box; the next send replaces it.
        Outputs: textbox, editing, edit hint."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(self.task)
        with validate.user_errors():
            last = self.flow.last(uid, cid, "user") if cid else None
        if last is None:
            raise gr.Error(t("chat.nothing_to_edit", lang))
        return last.content, True, gr.update(visible=True, value=t("chat.editing", lang))
