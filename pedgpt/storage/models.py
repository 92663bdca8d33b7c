"""SQLAlchemy 2 ORM models: users, consultations, messages, feedback, audit events.

The schema itself is created and changed only by the Alembic migrations in
`pedgpt/storage/migrations/` (`Database.migrate()`); these classes must match them, which
`tests/pedgpt/storage/test_storage_migrations.py` checks.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TASKS = ("consult", "diagnose", "medicate")
ROLES = ("user", "assistant", "system")
STATUSES = ("complete", "streaming", "incomplete", "error")
RATINGS = ("up", "down")
#: Feedback reasons shown in the UI (stored verbatim; used later for preference training).
REASONS = ("剂量错误", "诊断错误", "不安全", "不完整", "其他")
AUDIT_ACTIONS = ("login", "login_failed", "login_locked", "logout", "view", "create", "rename",
                 "archive", "update", "export", "delete", "purge", "feedback", "user_add",
                 "user_disable", "user_enable", "user_passwd", "user_delete", "retention",
                 "session_expired")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no zone, PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)

    consultations: Mapped[list["Consultation"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True)


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(16), default="consult")
    title: Mapped[str] = mapped_column(String(200), default="")
    patient: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """age_months, sex, weight_kg, allergies, chronic_conditions (see `PatientContext`)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="consultations")
    messages: Mapped[list["Message"]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Message.id")


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="complete", index=True)
    model: Mapped[str | None] = mapped_column(String(255), default=None)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    triage_level: Mapped[str | None] = mapped_column(String(16), default=None)
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    dose_findings: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    citations: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="messages")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_feedback_message_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    corrected_answer: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE). No foreign key to users: the
    record of who did what must outlive the account. Never holds clinical text."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    username: Mapped[str | None] = mapped_column(String(64), default=None)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(255), default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
