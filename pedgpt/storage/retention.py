"""Retention and data-subject duties: purge old consultations, export or delete all of one
user's data, and the start-up routine that applies them.

    pedgpt history purge --older-than 1095       # CLI (pedgpt/cli/history.py)
    purge_older_than(db, days=1095)               # Python

`PEDGPT_RETENTION_DAYS` (default 0 = keep until deleted) makes `open_database()` purge
consultations not updated for that many days at every start-up. `PEDGPT_RECOVER_AFTER_S`
(default unset: all) limits the start-up recovery of interrupted answers to those silent for
that long, for replicas sharing one database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from pedgpt.errors import InputError
from pedgpt.storage.audit import AuditLog, add_event
from pedgpt.storage.consultations import ConsultationStore, _record
from pedgpt.storage.db import Database
from pedgpt.storage.models import Consultation, Feedback, Message, User, utcnow
from pedgpt.storage.records import UserInfo
from pedgpt.storage.users import UserStore

#: Longest retention accepted (days); 100 years catches a typo without limiting real policies.
MAX_RETENTION_DAYS = 36_500


@dataclass
class RetentionPolicy:
    """Automatic retention applied at start-up."""

    days: int = 0
    """Delete consultations not updated for this many days; 0 keeps them until deleted
    (PEDGPT_RETENTION_DAYS)."""

    def __post_init__(self) -> None:
        try:
            self.days = int(self.days)
        except (TypeError, ValueError):
            raise InputError(f"PEDGPT_RETENTION_DAYS must be a whole number, got {self.days!r}") from None
        if not 0 <= self.days <= MAX_RETENTION_DAYS:
            raise InputError(f"PEDGPT_RETENTION_DAYS must be between 0 and {MAX_RETENTION_DAYS}")

    @classmethod
    def from_env(cls) -> "RetentionPolicy":
        return cls(os.environ.get("PEDGPT_RETENTION_DAYS", "0") or 0)


def open_database(url: str | None = None, retention: RetentionPolicy | None = None,
                  stale_after_s: float | None = None) -> Database:
    """What the app does at start-up: connect, migrate to the latest schema, mark answers a
    killed process left half-written as incomplete, apply the retention policy."""
    db = Database(url)
    db.migrate()
    ConsultationStore(db).recover_interrupted(_stale_after(stale_after_s))
    policy = retention or RetentionPolicy.from_env()
    if policy.days:
        purge_older_than(db, policy.days, reason="retention")
    return db


def _stale_after(explicit: float | None) -> float | None:
    """`PEDGPT_RECOVER_AFTER_S`: with several replicas on one database, only answers silent for
    this long are marked incomplete at start-up (others may still be streaming them)."""
    if explicit is not None:
        return explicit
    from pedgpt.config import env_number

    return env_number("PEDGPT_RECOVER_AFTER_S", None, 0, 86_400)


def purge_older_than(db: Database, days: float, now: datetime | None = None, vacuum: bool = True,
                     reason: str = "purge") -> dict:
    """Delete every consultation (all users) not updated for `days` days, with its messages and
    feedback. Returns counts; the audit log keeps a record of the purge (not of the content)."""
    try:
        days = float(days)
    except (TypeError, ValueError):
        raise InputError(f"--older-than must be a number of days, got {days!r}") from None
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InputError(f"--older-than must be between 0 and {MAX_RETENTION_DAYS} days")
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = select(Consultation.id).where(Consultation.updated_at < cutoff)
    with db.session() as session:
        messages = session.scalar(select(func.count()).select_from(Message)
                                  .where(Message.consultation_id.in_(old))) or 0
        consultations = session.execute(delete(Consultation).where(
            Consultation.updated_at < cutoff)).rowcount
        counts = {"consultations": consultations, "messages": messages,
                  "cutoff": cutoff.isoformat(), "days": days}
        add_event(session, "retention" if reason == "retention" else "purge", details=counts)
    if vacuum and consultations:
        db.vacuum()
    return counts


def export_user_data(db: Database, username: str) -> dict:
    """Everything stored about one user (account without its password hash, consultations with
    messages and feedback, their audit events) as one JSON-ready dict."""
    user = UserStore(db, policy=None).by_name(username)
    store = ConsultationStore(db)
    with db.session() as session:
        rows = session.scalars(select(Consultation).where(Consultation.user_id == user.id)
                               .order_by(Consultation.id)).all()
        consultations = [_record(session, row) for row in rows]
        add_event(session, "export", user.id, user.username, f"user:{user.id}",
                  {"consultations": len(consultations), "scope": "all user data"})
    return {"user": user.to_dict(), "consultations": consultations,
            "feedback_summary": store.feedback_summary(user.id),
            "audit_events": AuditLog(db).events(user_id=user.id, limit=100_000)}


def delete_user(db: Database, username: str, vacuum: bool = True) -> dict:
    """Delete an account and all its consultations, messages and feedback (then VACUUM)."""
    user: UserInfo = UserStore(db, policy=None).by_name(username)
    with db.session() as session:
        owned = select(Consultation.id).where(Consultation.user_id == user.id)
        counts = {
            "consultations": session.scalar(select(func.count()).select_from(owned.subquery())) or 0,
            "messages": session.scalar(select(func.count()).select_from(Message)
                                       .where(Message.consultation_id.in_(owned))) or 0,
            "feedback": session.scalar(select(func.count()).select_from(Feedback)
                                       .where(Feedback.user_id == user.id)) or 0,
        }
        session.execute(delete(User).where(User.id == user.id))
        add_event(session, "user_delete", user.id, user.username, f"user:{user.id}", counts)
    if vacuum:
        db.vacuum()
    return counts
