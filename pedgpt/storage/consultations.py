"""Consultations and their messages, always scoped to one user.

Every method takes the acting user's id first and only ever touches that user's rows: another
user's consultation (or a guessed id) raises `NotFound` with the same message as a missing one.

    store = ConsultationStore(db)
    cid = store.create(user.id, "consult", patient={"age_months": 30, "weight_kg": 13}).id
    store.add_user_message(user.id, cid, "发热两天")          # committed before generation
    mid = store.begin_assistant_message(user.id, cid, model="qwen", params={"temperature": 0})
    store.save_partial(mid, "部分回答…")                       # every ~second while streaming
    store.finish_assistant_message(mid, "完整回答", status="complete", triage={...})

`recover_interrupted()` at start-up marks answers left `streaming` by a killed process as
`incomplete` (their partial text is kept).
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from pedgpt.errors import InputError
from pedgpt.storage.audit import add_event
from pedgpt.storage.errors import NotFound
from pedgpt.storage.models import (REASONS, RATINGS, STATUSES, TASKS, Consultation, Feedback,
                                   Message, User, utcnow)
from pedgpt.storage.records import (MAX_TITLE_CHARS, ConsultationInfo, MessageInfo, PatientContext,
                                    clean_text)

#: Longest message stored (characters); the UI's own, smaller limit rejects earlier with a message.
MAX_MESSAGE_CHARS = int(os.environ.get("PEDGPT_MAX_STORED_MESSAGE_CHARS", "200000"))
#: Characters of the first message used as the title of an untitled consultation.
AUTO_TITLE_CHARS = 40
FINAL_STATUSES = ("complete", "incomplete", "error")
_GONE = "consultation not found"


def _as_id(value: Any, message: str = _GONE) -> int:
    """Ids from the outside world (URLs, hidden fields) may be anything: non-ids are NotFound."""
    if isinstance(value, bool):
        raise NotFound(message)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise NotFound(message) from None
    if not 0 < number < 2**63:
        raise NotFound(message)
    return number


class ConsultationStore:
    """Per-user consultation history. Thread-safe; share one per process."""

    def __init__(self, db) -> None:
        self.db = db

    # -- consultations -----------------------------------------------------------------------

    def create(self, user_id: int, task: str = "consult", title: str | None = None,
               patient: PatientContext | dict | None = None) -> ConsultationInfo:
        if task not in TASKS:
            raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
        title_text = clean_text(title, "title", MAX_TITLE_CHARS).strip()
        context = PatientContext.coerce(patient).to_dict()
        with self.db.session() as session:
            user = _active_user(session, user_id)
            now = utcnow()
            row = Consultation(user_id=user.id, task=task, title=title_text, patient=context,
                               created_at=now, updated_at=now, archived=False)
            session.add(row)
            session.flush()
            add_event(session, "create", user.id, user.username, f"consultation:{row.id}",
                      {"task": task})
            return ConsultationInfo.of(row)

    def list(self, user_id: int, search: str | None = None, include_archived: bool = False,
             limit: int | None = None) -> list[ConsultationInfo]:
        """The user's consultations, most recently updated first; `search` matches the title or
        any message (case-insensitive substring); `limit` caps how many."""
        uid = _as_id(user_id, "no such user")
        query = (select(Consultation).join(User)
                 .where(Consultation.user_id == uid, User.disabled.is_(False)))
        if not include_archived:
            query = query.where(Consultation.archived.is_(False))
        needle = clean_text(search, "search", 200).strip() if search else ""
        if needle:
            pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            in_messages = select(Message.consultation_id).where(
                Message.content.ilike(pattern, escape="\\"))
            query = query.where(or_(Consultation.title.ilike(pattern, escape="\\"),
                                    Consultation.id.in_(in_messages)))
        query = query.order_by(Consultation.updated_at.desc(), Consultation.id.desc())
        if limit is not None:
            query = query.limit(max(0, int(limit)))
        with self.db.session(write=False) as session:
            return [ConsultationInfo.of(c) for c in session.scalars(query)]

    def get(self, user_id: int, cid: int) -> ConsultationInfo:
        with self.db.session(write=False) as session:
            return ConsultationInfo.of(_owned(session, user_id, cid))

    def messages(self, user_id: int, cid: int, audit: bool = True) -> list[MessageInfo]:
        """All messages in order (oldest first). Recorded as a `view` in the audit log."""
        with self.db.session(write=audit) as session:
            row = _owned(session, user_id, cid)
            if audit:
                add_event(session, "view", row.user_id, row.user.username, f"consultation:{row.id}")
            return [MessageInfo.of(m) for m in row.messages]

    def rename(self, user_id: int, cid: int, title: str) -> ConsultationInfo:
        text = clean_text(title, "title", MAX_TITLE_CHARS, allow_empty=False).strip()
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            row.title, row.updated_at = text, utcnow()
            add_event(session, "rename", row.user_id, row.user.username, f"consultation:{row.id}")
            return ConsultationInfo.of(row)

    def set_patient(self, user_id: int, cid: int, patient: PatientContext | dict | None) -> ConsultationInfo:
        context = PatientContext.coerce(patient).to_dict()
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            row.patient, row.updated_at = context, utcnow()
            add_event(session, "update", row.user_id, row.user.username, f"consultation:{row.id}",
                      {"field": "patient"})
            return ConsultationInfo.of(row)

    def set_task(self, user_id: int, cid: int, task: str) -> ConsultationInfo:
        if task not in TASKS:
            raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            row.task, row.updated_at = task, utcnow()
            return ConsultationInfo.of(row)

    def archive(self, user_id: int, cid: int, archived: bool = True) -> ConsultationInfo:
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            row.archived = bool(archived)
            add_event(session, "archive", row.user_id, row.user.username, f"consultation:{row.id}",
                      {"archived": bool(archived)})
            return ConsultationInfo.of(row)

    def delete(self, user_id: int, cid: int, vacuum: bool = True) -> None:
        """Really delete the consultation, its messages and their feedback (then VACUUM)."""
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            count = len(row.messages)
            session.execute(delete(Consultation).where(Consultation.id == row.id))
            add_event(session, "delete", row.user_id, row.user.username, f"consultation:{row.id}",
                      {"messages": count})
        if vacuum:
            self.db.vacuum()

    # -- messages ----------------------------------------------------------------------------

    def add_user_message(self, user_id: int, cid: int, text: str) -> int:
        """Store what the clinician typed (committed before generation starts); its id."""
        content = clean_text(text, "message", MAX_MESSAGE_CHARS, allow_empty=False)
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            if not row.title:
                first_line = content.strip().splitlines()[0]
                row.title = first_line[:AUTO_TITLE_CHARS]
            return _append(session, row, role="user", content=content, status="complete").id

    def add_assistant_message(self, user_id: int, cid: int, content: str, *, status: str = "complete",
                              model: str | None = None, params: dict | None = None,
                              **results: Any) -> int:
        """A finished answer in one step (no streaming); `results` as in finish_assistant_message."""
        mid = self.begin_assistant_message(user_id, cid, model=model, params=params)
        self.finish_assistant_message(mid, content, status=status, user_id=user_id, **results)
        return mid

    def begin_assistant_message(self, user_id: int, cid: int, model: str | None = None,
                                params: dict | None = None) -> int:
        """An empty assistant message with status `streaming`; its id is a server-side handle."""
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            message = _append(session, row, role="assistant", content="", status="streaming",
                              model=(model or None) and str(model)[:255], params=_json(params))
            return message.id

    def save_partial(self, mid: int, content: str, user_id: int | None = None) -> None:
        """Keep the text generated so far (call every second or so, not per token)."""
        text = clean_text(content, "answer", MAX_MESSAGE_CHARS)
        with self.db.session() as session:
            message = _streaming(session, mid, user_id)
            message.content, message.updated_at = text, utcnow()

    def finish_assistant_message(self, mid: int, content: str, status: str = "complete",
                                 triage: dict | None = None, dose_findings: list | None = None,
                                 citations: list | None = None, latency_ms: float | None = None,
                                 tokens: tuple[int | None, int | None] | dict | None = None,
                                 user_id: int | None = None, **extra: Any) -> MessageInfo:
        """Close a streaming answer: final text, status (complete|incomplete|error) and the
        safety results. `tokens` = (prompt_tokens, completion_tokens) or a dict with those keys."""
        if status not in FINAL_STATUSES:
            raise InputError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
        prompt_tokens, completion_tokens = _tokens(tokens, extra)
        text = clean_text(content, "answer", MAX_MESSAGE_CHARS)
        with self.db.session() as session:
            message = _streaming(session, mid, user_id)
            message.content, message.status, message.updated_at = text, status, utcnow()
            message.triage = _json(triage)
            level = (triage or {}).get("level") if isinstance(triage, dict) else None
            message.triage_level = str(level)[:16] if level else None
            message.dose_findings = _json(dose_findings)
            message.citations = _json(citations)
            message.latency_ms = None if latency_ms is None else int(round(float(latency_ms)))
            message.prompt_tokens, message.completion_tokens = prompt_tokens, completion_tokens
            return MessageInfo.of(message)

    def truncate(self, user_id: int, cid: int, from_message_id: int) -> int:
        """Delete a message and every later one (regenerate, edit-and-resend); how many."""
        mid = _as_id(from_message_id, "message not found")
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            if mid not in {m.id for m in row.messages}:
                raise NotFound("message not found")
            result = session.execute(delete(Message).where(
                Message.consultation_id == row.id, Message.id >= mid))
            row.updated_at = utcnow()
            return result.rowcount

    def recover_interrupted(self, stale_after_s: float | None = None) -> int:
        """Mark answers left `streaming` (process killed mid-answer) as `incomplete`; how many.

        With several app replicas sharing one database pass `stale_after_s` (longer than the
        partial-save interval) so that live generations of other replicas are left alone."""
        query = update(Message).where(Message.status == "streaming")
        if stale_after_s is not None:
            query = query.where(Message.updated_at < utcnow() - timedelta(seconds=stale_after_s))
        with self.db.session() as session:
            return session.execute(query.values(status="incomplete")).rowcount

    # -- feedback ----------------------------------------------------------------------------

    def add_feedback(self, user_id: int, message_id: int, rating: str, reason: str | None = None,
                     corrected_answer: str | None = None) -> int:
        """Thumbs up/down on an assistant answer (one per user and message; a new one replaces
        the old). Returns the feedback id."""
        if rating not in RATINGS:
            raise InputError(f"rating must be 'up' or 'down', got {rating!r}")
        if reason in (None, ""):
            reason = None
        elif reason not in REASONS:
            raise InputError(f"reason must be one of {' / '.join(REASONS)}")
        corrected = clean_text(corrected_answer, "corrected answer", MAX_MESSAGE_CHARS).strip() or None
        with self.db.session() as session:
            message = _owned_message(session, user_id, message_id)
            if message.role != "assistant":
                raise InputError("feedback is only for assistant answers")
            uid = message.consultation.user_id
            row = session.scalars(select(Feedback).where(
                Feedback.message_id == message.id, Feedback.user_id == uid)).first()
            if row is None:
                row = Feedback(message_id=message.id, user_id=uid)
                session.add(row)
            row.rating, row.reason, row.corrected_answer, row.created_at = rating, reason, corrected, utcnow()
            session.flush()
            add_event(session, "feedback", uid, message.consultation.user.username,
                      f"message:{message.id}", {"rating": rating})
            return row.id

    def feedback_for(self, user_id: int, cid: int) -> dict[int, dict]:
        """{message_id: {"rating", "reason", "corrected_answer"}} for one consultation."""
        with self.db.session(write=False) as session:
            row = _owned(session, user_id, cid)
            query = select(Feedback).join(Message).where(
                Message.consultation_id == row.id, Feedback.user_id == row.user_id)
            return {f.message_id: {"rating": f.rating, "reason": f.reason,
                                   "corrected_answer": f.corrected_answer}
                    for f in session.scalars(query)}

    def feedback_summary(self, user_id: int | None = None) -> dict:
        """Counts by rating and by reason (all users, or one)."""
        query = select(Feedback.rating, Feedback.reason, func.count()).group_by(
            Feedback.rating, Feedback.reason)
        if user_id is not None:
            query = query.where(Feedback.user_id == _as_id(user_id, "no such user"))
        summary: dict = {"total": 0, "up": 0, "down": 0, "reasons": {r: 0 for r in REASONS}}
        with self.db.session(write=False) as session:
            for rating, reason, count in session.execute(query):
                summary["total"] += count
                summary[rating] += count
                if reason:
                    summary["reasons"][reason] = summary["reasons"].get(reason, 0) + count
        return summary

    def feedback_records(self) -> Iterable[dict]:
        """Rated answers with the conversation before them, for preference training
        (administrators only: not scoped to a user)."""
        with self.db.session(write=False) as session:
            for fb in session.scalars(select(Feedback).order_by(Feedback.id)):
                message = session.get(Message, fb.message_id)
                earlier = [{"role": m.role, "content": m.content}
                           for m in message.consultation.messages if m.id < message.id]
                yield {"feedback_id": fb.id, "message_id": message.id, "task": message.consultation.task,
                       "patient": message.consultation.patient, "context": earlier,
                       "answer": message.content, "model": message.model, "rating": fb.rating,
                       "reason": fb.reason, "corrected_answer": fb.corrected_answer}

    # -- export (see pedgpt.storage.export) --------------------------------------------------

    def consultation_record(self, user_id: int, cid: int) -> dict:
        """The whole consultation as one JSON-ready dict (what every export renders)."""
        with self.db.session(write=False) as session:
            row = _owned(session, user_id, cid)
            return _record(session, row)

    def export_markdown(self, user_id: int, cid: int) -> str:
        from pedgpt.storage.export import render_markdown

        return render_markdown(self._export(user_id, cid, "markdown"))

    def export_json(self, user_id: int, cid: int) -> str:
        from pedgpt.storage.export import render_json

        return render_json(self._export(user_id, cid, "json"))

    def export_pdf(self, user_id: int, cid: int) -> bytes:
        from pedgpt.storage.export import render_pdf

        return render_pdf(self._export(user_id, cid, "pdf"))

    def write_export(self, user_id: int, cid: int, fmt: str, directory) -> "os.PathLike":
        """Write an export (`markdown`|`json`|`pdf`) into `directory` under a safe file name;
        returns the path (for a download button)."""
        from pedgpt.storage.export import write_export

        return write_export(self, user_id, cid, fmt, directory)

    def _export(self, user_id: int, cid: int, fmt: str) -> dict:
        with self.db.session() as session:
            row = _owned(session, user_id, cid)
            add_event(session, "export", row.user_id, row.user.username, f"consultation:{row.id}",
                      {"format": fmt})
            return _record(session, row)


# -- helpers shared by the methods (all queries filtered by the owner) ---------------------------

def _active_user(session: Session, user_id: Any) -> User:
    user = session.get(User, _as_id(user_id, "no such user"))
    if user is None or user.disabled:
        raise NotFound("no such active user")
    return user


def _owned(session: Session, user_id: Any, cid: Any) -> Consultation:
    """The consultation if (and only if) it belongs to this active user."""
    query = (select(Consultation).join(User)
             .where(Consultation.id == _as_id(cid), Consultation.user_id == _as_id(user_id),
                    User.disabled.is_(False)))
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(_GONE)
    return row


def _owned_message(session: Session, user_id: Any, mid: Any) -> Message:
    query = (select(Message).join(Consultation).join(User)
             .where(Message.id == _as_id(mid, "message not found"),
                    Consultation.user_id == _as_id(user_id, "message not found"),
                    User.disabled.is_(False)))
    message = session.scalars(query).first()
    if message is None:
        raise NotFound("message not found")
    return message


def _streaming(session: Session, mid: Any, user_id: Any | None) -> Message:
    if user_id is not None:
        message = _owned_message(session, user_id, mid)
    else:
        message = session.get(Message, _as_id(mid, "message not found"))
    if message is None or message.status != "streaming":
        raise NotFound("no answer is being generated under this id")
    return message


def _append(session: Session, row: Consultation, **fields: Any) -> Message:
    now = utcnow()
    message = Message(consultation_id=row.id, created_at=now, updated_at=now, **fields)
    session.add(message)
    row.updated_at = now
    session.flush()
    return message


def _json(value: Any) -> Any:
    """Make safety results JSON-storable (dataclasses → dicts) before they reach the column."""
    if value is None:
        return None
    # NaN/Infinity are not JSON (PostgreSQL refuses them): stored as null
    return json.loads(json.dumps(value, ensure_ascii=False, default=_plain),
                      parse_constant=lambda _name: None)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _tokens(tokens: Any, extra: dict) -> tuple[int | None, int | None]:
    unknown = set(extra) - {"prompt_tokens", "completion_tokens"}
    if unknown:
        raise InputError(f"unexpected field(s): {', '.join(sorted(unknown))}")
    if isinstance(tokens, dict):
        extra = {**tokens, **extra}
        tokens = None
    prompt, completion = tokens if tokens is not None else (
        extra.get("prompt_tokens"), extra.get("completion_tokens"))
    return (None if prompt is None else int(prompt), None if completion is None else int(completion))


def _record(session: Session, row: Consultation) -> dict:
    feedback = {f.message_id: f for f in session.scalars(select(Feedback).join(Message).where(
        Message.consultation_id == row.id))}
    messages = []
    for m in row.messages:
        item = MessageInfo.of(m).to_dict()
        fb = feedback.get(m.id)
        item["feedback"] = None if fb is None else {
            "rating": fb.rating, "reason": fb.reason, "corrected_answer": fb.corrected_answer}
        messages.append(item)
    return {"consultation": ConsultationInfo.of(row).to_dict(), "messages": messages,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds")}
