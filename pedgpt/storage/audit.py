"""Append-only audit log: who did what, when (login, view, create, export, delete, purge, ...).

Rows are never updated or deleted (database triggers refuse both). Details hold ids and counts,
never clinical text or passwords.

    AuditLog(db).record("logout", user_id=3, username="dr_li")
    AuditLog(db).events(user_id=3)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pedgpt.errors import InputError
from pedgpt.storage.models import AUDIT_ACTIONS, AuditEvent

#: Most rows `AuditLog.events` returns at once.
MAX_EVENTS = 10_000


def add_event(session: Session, action: str, user_id: int | None = None, username: str | None = None,
              target: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Add an audit row inside the caller's transaction (so it commits with the action)."""
    if action not in AUDIT_ACTIONS:
        raise InputError(f"unknown audit action {action!r}")
    session.add(AuditEvent(user_id=user_id, username=username, action=action,
                           target=None if target is None else str(target)[:255], details=details))


class AuditLog:
    """Read and append audit events."""

    def __init__(self, db) -> None:
        self.db = db

    def record(self, action: str, user_id: int | None = None, username: str | None = None,
               target: str | None = None, details: dict[str, Any] | None = None) -> None:
        with self.db.session() as session:
            add_event(session, action, user_id, username, target, details)

    def events(self, user_id: int | None = None, action: str | None = None,
               since: datetime | None = None, limit: int = 1000) -> list[dict]:
        """Newest first, as JSON-ready dicts."""
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(int(limit), MAX_EVENTS))
        if user_id is not None:
            query = query.where(AuditEvent.user_id == user_id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.created_at >= since)
        with self.db.session(write=False) as session:
            return [_as_dict(e) for e in session.scalars(query)]


def _as_dict(event: AuditEvent) -> dict:
    return {"id": event.id, "time": event.created_at.isoformat(), "user_id": event.user_id,
            "username": event.username, "action": event.action, "target": event.target,
            "details": event.details}
