"""Plain records the stores return (detached from any session) and input validation.

Callers (UI, CLI) never touch ORM objects: every store method returns these frozen dataclasses,
whose `to_dict()` gives JSON-ready values (datetimes as ISO 8601 UTC).
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pedgpt.errors import InputError
from pedgpt.storage.models import Consultation, Message, User

#: Input-plausibility bounds that catch typos (weight 500 kg, age 300 years) before they are
#: stored; they are not clinical thresholds. 18 years = 216 months.
MAX_AGE_MONTHS = 216
MIN_WEIGHT_KG = 0.3
MAX_WEIGHT_KG = 250.0
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 200
MAX_TITLE_CHARS = 200
SEXES = {"f": "F", "female": "F", "女": "F", "m": "M", "male": "M", "男": "M"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_text(value: Any, what: str, max_chars: int, allow_empty: bool = True) -> str:
    """Text safe to store on every backend: valid UTF-8 (lone surrogates replaced), no NUL or
    other control/zero-width/bidi characters (newlines and tabs kept), length-checked."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, got {type(value).__name__}")
    text = value.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    if len(text) > max_chars:
        raise InputError(f"{what} is too long ({len(text)} characters; at most {max_chars})")
    if not allow_empty and not text.strip():
        raise InputError(f"{what} must not be empty")
    return text


def _number(value: Any, what: str, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InputError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
    return number


def _items(value: Any, what: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = re.split(r"[,，;；、\n]+", value)
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{what} must be a list of text")
    items = [clean_text(str(v), what, MAX_ITEM_CHARS).strip() for v in value]
    items = [i for i in items if i]
    if len(items) > MAX_LIST_ITEMS:
        raise InputError(f"{what}: at most {MAX_LIST_ITEMS} entries")
    return items


@dataclass
class PatientContext:
    """The child a consultation is about; pinned to the consultation, sent with every turn."""

    age_months: float | None = None
    """Age in months, 0–216 (18 years)."""
    sex: str | None = None
    """"F" or "M" (女/男, female/male accepted), or unknown."""
    weight_kg: float | None = None
    """Body weight in kilograms."""
    allergies: list[str] = field(default_factory=list)
    """Known allergies (drug, food), free text items."""
    chronic_conditions: list[str] = field(default_factory=list)
    """Chronic conditions (asthma, epilepsy, ...), free text items."""

    def __post_init__(self) -> None:
        self.age_months = _number(self.age_months, "age (months)", 0, MAX_AGE_MONTHS)
        self.weight_kg = _number(self.weight_kg, "weight (kg)", MIN_WEIGHT_KG, MAX_WEIGHT_KG)
        if self.sex in (None, ""):
            self.sex = None
        else:
            sex = SEXES.get(str(self.sex).strip().lower())
            if sex is None:
                raise InputError(f"sex must be F or M (女/男), got {self.sex!r}")
            self.sex = sex
        self.allergies = _items(self.allergies, "allergies")
        self.chronic_conditions = _items(self.chronic_conditions, "chronic conditions")

    @classmethod
    def coerce(cls, value: "PatientContext | dict | None") -> "PatientContext":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return cls(**dataclasses.asdict(value))
        if not isinstance(value, dict):
            raise InputError("patient context must be a mapping")
        unknown = set(value) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InputError(f"unknown patient field(s): {', '.join(sorted(unknown))}")
        return cls(**value)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def is_empty(self) -> bool:
        return self == PatientContext()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Record:
    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = _iso(value) if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class UserInfo(_Record):
    id: int
    username: str
    display_name: str
    disabled: bool
    created_at: datetime
    last_login: datetime | None
    failed_logins: int
    locked_until: datetime | None

    @classmethod
    def of(cls, row: User) -> "UserInfo":
        return cls(row.id, row.username, row.display_name, row.disabled, row.created_at,
                   row.last_login, row.failed_logins, row.locked_until)


@dataclass(frozen=True)
class ConsultationInfo(_Record):
    id: int
    task: str
    title: str
    patient: dict
    created_at: datetime
    updated_at: datetime
    archived: bool

    @classmethod
    def of(cls, row: Consultation) -> "ConsultationInfo":
        patient = PatientContext.coerce(row.patient or {}).to_dict()
        return cls(row.id, row.task, row.title, patient, row.created_at, row.updated_at, row.archived)


@dataclass(frozen=True)
class MessageInfo(_Record):
    id: int
    consultation_id: int
    role: str
    content: str
    status: str
    model: str | None
    params: dict | None
    triage_level: str | None
    triage: dict | None
    dose_findings: list | None
    citations: list | None
    latency_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Message) -> "MessageInfo":
        return cls(row.id, row.consultation_id, row.role, row.content, row.status, row.model,
                   row.params, row.triage_level, row.triage, row.dose_findings, row.citations,
                   row.latency_ms, row.prompt_tokens, row.completion_tokens, row.created_at,
                   row.updated_at)


def normalize_username(username: Any) -> str:
    """Usernames are case-insensitive, NFKC-normalised, 1–64 word characters or `.@-`."""
    if not isinstance(username, str):
        raise InputError("username must be text")
    name = unicodedata.normalize("NFKC", username).strip().lower()
    if not re.fullmatch(r"[\w.@-]{1,64}", name):
        raise InputError("username must be 1–64 letters, digits or . _ @ -")
    return name
