"""Persistent, per-user storage: accounts, consultations, messages, feedback, audit log, export.

    from pedgpt.storage import open_database, ConsultationStore, UserStore
    db = open_database()                    # PEDGPT_DB_URL (default SQLite under PEDGPT_HOME):
                                            # migrate, recover interrupted answers, retention
    users, store = UserStore(db), ConsultationStore(db)

Every `ConsultationStore` method is scoped to the acting user; see PRIVACY.md for what is stored
and how it is deleted.
"""

from pedgpt.storage.audit import AuditLog
from pedgpt.storage.consultations import ConsultationStore
from pedgpt.storage.db import Database
from pedgpt.storage.errors import AuthError, FontMissing, NotFound
from pedgpt.storage.export import safe_filename
from pedgpt.storage.models import RATINGS, REASONS, STATUSES, TASKS
from pedgpt.storage.records import ConsultationInfo, MessageInfo, PatientContext, UserInfo
from pedgpt.storage.retention import (RetentionPolicy, delete_user, export_user_data, open_database,
                                      purge_older_than)
from pedgpt.storage.users import LoginPolicy, UserStore

__all__ = [
    "AuditLog", "AuthError", "ConsultationInfo", "ConsultationStore", "Database", "FontMissing",
    "LoginPolicy", "MessageInfo", "NotFound", "PatientContext", "RATINGS", "REASONS",
    "RetentionPolicy", "STATUSES", "TASKS", "UserInfo", "UserStore", "delete_user",
    "export_user_data", "open_database", "purge_older_than", "safe_filename",
]
