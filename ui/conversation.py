"""The chat flow every tab shares: commit the clinician's message, then stream, check and store
the answer. Plain methods on (user id, consultation id); the Gradio handlers call them.

Order of writes (so nothing typed is ever lost): the user message is committed before generation
starts; the answer row is created as `streaming`, its partial text saved about once a second,
and closed as `complete`, `incomplete` (stopped, or the page went away) or `error`. A failing
generation is reported in the page and recorded; it never propagates and kills the server.
"""

from __future__ import annotations

import logging
import time
from typing import Iterator

import gradio as gr

from pedgpt.assistant import Patient, Turn
from pedgpt.errors import PedGPTError
from pedgpt.storage.errors import NotFound
from ui import render
from ui.context import AppContext
from ui.i18n import t

log = logging.getLogger("pedgpt.ui")

#: Seconds between saves of the partial answer while it streams.
SAVE_PARTIAL_EVERY_S = 1.0
#: Greedy decoding by default: the same question gives the same answer, which clinicians can
#: re-check; the page's generation settings may raise it.
TEMPERATURE = 0.0


def to_patient(stored: dict | None) -> Patient:
    """The stored patient context (lists of allergies …) → the assistant's `Patient`."""
    data = stored or {}
    return Patient(age_months=data.get("age_months"), sex=data.get("sex"),
                   weight_kg=data.get("weight_kg"),
                   allergies="、".join(data.get("allergies") or []),
                   chronic_conditions="、".join(data.get("chronic_conditions") or []))


class Conversation:
    """Message flow of one task ("consult" | "diagnose" | "medicate")."""

    def __init__(self, ctx: AppContext, task: str) -> None:
        self.ctx = ctx
        self.task = task

    # -- before generation ------------------------------------------------------------------
    def ensure(self, uid: int, cid: int | None, patient: dict | None = None,
               title: str | None = None) -> int:
        """The consultation to write to: `cid` if it is this user's and of this task, else a new
        one. The patient card (when given) is pinned to it."""
        store = self.ctx.consultations
        if cid:
            try:
                info = store.get(uid, cid)
                if info.task == self.task:
                    if patient is not None and patient != info.patient:
                        store.set_patient(uid, cid, patient)
                    return info.id
            except NotFound:
                pass
        return store.create(uid, self.task, title=title, patient=patient).id

    def commit(self, uid: int, cid: int, text: str, replace_last: bool = False) -> int:
        """Store the user's message (replacing the last one and its answer when editing)."""
        if replace_last:
            last = self.last(uid, cid, "user")
            if last is not None:
                self.ctx.consultations.truncate(uid, cid, last.id)
        return self.ctx.consultations.add_user_message(uid, cid, text)

    def drop_last_answer(self, uid: int, cid: int) -> bool:
        """Remove the last answer so it can be generated again; False when there is no
        question waiting for an answer."""
        messages = render.shown(self.ctx.consultations.messages(uid, cid, audit=False))
        if not messages:
            return False
        if messages[-1].role == "assistant":
            self.ctx.consultations.truncate(uid, cid, messages[-1].id)
            messages = messages[:-1]
        return bool(messages) and messages[-1].role == "user"

    def last(self, uid: int, cid: int, role: str):
        messages = self.ctx.consultations.messages(uid, cid, audit=False)
        return next((m for m in reversed(messages) if m.role == role), None)

    def view(self, uid: int, cid: int | None, lang: str, pending: bool = False) -> dict:
        """The chat as shown, with each answer's stored thumbs; `pending` adds the "answer
        coming" marker. A Chatbot update (value + feedback_value)."""
        if not cid:
            return render.chat_update([], {}, "zh")
        messages = self.ctx.consultations.messages(uid, cid, audit=False)
        update = render.chat_update(messages, self.ctx.consultations.feedback_for(uid, cid), lang)
        if pending:
            update["value"].append({"role": "assistant", "content": render.streaming_message("")})
        return update

    # -- generation -------------------------------------------------------------------------
    def generate(self, uid: int, cid: int, lang: str, session_key: str,
                 params: dict | None = None) -> Iterator[list[dict] | dict]:
        """Answer the last user message: yields the chat while the answer streams.
        `params`: {"max_new_tokens", "temperature"} (default: the limit, greedy)."""
        params = params or {"max_new_tokens": self.ctx.limits.max_new_tokens,
                            "temperature": TEMPERATURE}
        store = self.ctx.consultations
        shown = render.shown(store.messages(uid, cid, audit=False))
        base = render.chat_history(shown, lang)
        if not shown or shown[-1].role != "user":
            yield base
            return
        turn = self._prepare(uid, cid, shown, lang, params["max_new_tokens"])
        if turn is None:
            yield self.view(uid, cid, lang)
            return
        yield from self._stream(uid, cid, turn, base, session_key, lang, params)
        yield self.view(uid, cid, lang)

    def _prepare(self, uid: int, cid: int, shown: list, lang: str,
                 max_new_tokens: int) -> Turn | None:
        history = [{"role": m.role, "content": m.content} for m in shown[:-1]
                   if m.status != "error" and m.content.strip()]
        try:
            patient = to_patient(self.ctx.consultations.get(uid, cid).patient)
            return self.ctx.assistant.prepare(self.task, history, shown[-1].content, patient,
                                              max_new_tokens)
        except PedGPTError as exc:
            self._record_failure(uid, cid, "", exc, lang)
        except Exception as exc:  # a bug must not cost the clinician the conversation
            log.exception("preparing an answer failed")
            self._record_failure(uid, cid, "", exc, lang)
        return None

    def _stream(self, uid: int, cid: int, turn: Turn, base: list[dict], session_key: str,
                lang: str, params: dict) -> Iterator[list[dict]]:
        store = self.ctx.consultations
        mid = store.begin_assistant_message(uid, cid, model=self._model_name(), params=params)
        switch = self.ctx.switches.start(session_key)
        answer, status, error, started = "", "incomplete", None, time.monotonic()
        saved = started
        try:
            for piece in self.ctx.assistant.stream(turn, cancel=switch, **params):
                answer += piece
                if time.monotonic() - saved >= SAVE_PARTIAL_EVERY_S:
                    store.save_partial(mid, answer, user_id=uid)
                    saved = time.monotonic()
                # Parent mode shows only the guarded answer: nothing unchecked reaches a parent.
                shown = "" if self.ctx.settings.mode == "parent" else answer
                yield base + [{"role": "assistant", "content": render.streaming_message(shown)}]
            status = "incomplete" if switch.is_set() else "complete"
        except Exception as exc:  # engine or backend failure: keep what was said, report it
            if not isinstance(exc, PedGPTError):
                log.exception("generation failed")
            status, error = "error", exc
        finally:
            self.ctx.switches.done(session_key, switch)
            self._close(uid, mid, turn, answer, status, error, started, lang)

    def _close(self, uid: int, mid: int, turn: Turn, answer: str, status: str,
               error: Exception | None, started: float, lang: str) -> None:
        """Run the answer guard and store the final answer; never raises."""
        try:
            stats = self.ctx.engine.last_stats
            # The rules stated to the model travel with the triage (shown above the answer).
            triage = dict(turn.triage, blocked=list(turn.blocked)) if turn.blocked else turn.triage
            results: dict = {"triage": triage, "citations": turn.citations}
            if error is None and answer.strip():
                checked = self.ctx.assistant.finish(turn, answer)
                answer = checked.answer
                results.update(dose_findings=checked.dose_checks, citations=checked.citations)
                if checked.banner:  # the safety layer's own banner text for this level
                    results["triage"] = dict(triage, banner=checked.banner)
            if error is not None:
                answer = self._failure_text(answer, error, lang)
                gr.Warning(t("chat.failed", lang, error=self._reason(error)))
            self.ctx.consultations.finish_assistant_message(
                mid, answer, status=status, user_id=uid,
                latency_ms=(time.monotonic() - started) * 1000,
                tokens=(stats.prompt_tokens or None, stats.completion_tokens or None), **results)
        except Exception:
            log.exception("storing the answer failed")

    def _record_failure(self, uid: int, cid: int, answer: str, error: Exception, lang: str) -> None:
        try:
            self.ctx.consultations.add_assistant_message(
                uid, cid, self._failure_text(answer, error, lang), status="error",
                model=self._model_name())
        except Exception:
            log.exception("storing a failed answer failed")
        gr.Warning(t("chat.failed", lang, error=self._reason(error)))

    def _failure_text(self, answer: str, error: Exception, lang: str) -> str:
        note = t("chat.failed", lang, error=self._reason(error))
        return f"{answer}\n\n({note})" if answer.strip() else note

    @staticmethod
    def _reason(error: Exception) -> str:
        # PedGPT errors are written for users; anything else is a bug — don't show internals.
        return str(error) if isinstance(error, PedGPTError) else type(error).__name__

    def _model_name(self) -> str:
        try:
            return str(self.ctx.engine.info().get("model") or "")
        except Exception:
            return ""
