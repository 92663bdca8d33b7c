"""Clinical safety layer: red-flag triage, weight-based dosing, contraindications, answer guard.

Deterministic, cited rules around the model. Every clinical number lives in `assets/safety/*.yaml`
with its source and [V]/[R] tag; the tables are schema-checked when this package is imported, so a
malformed table fails loudly at start-up.

    from pedgpt.safety import assess, calculate, check_answer, guard, SafetyContext
    assess("3周宝宝发烧38.2度").level                 # 'emergency'
    calculate("美林", weight_kg=12, age_months=24).to_dict()
    guard("可以给孩子吃阿司匹林退烧", SafetyContext(age_months=12, weight_kg=10)).findings

CLI: `pedgpt triage TEXT [--age-months N] [--temp-c T] [--json]`,
`pedgpt dose DRUG --weight-kg W --age-months N [--indication NAME] [--json]`.
"""

from __future__ import annotations

from pedgpt.safety import tables
from pedgpt.safety.dose import DoseAdvice, calculate
from pedgpt.safety.extract import PatientFacts, extract_patient
from pedgpt.safety.messages import message_table
from pedgpt.safety.guard import Finding, GuardedAnswer, SafetyContext, check_answer, guard
from pedgpt.safety.requests import BlockedRequest, blocked_requests
from pedgpt.safety.schema import TableError
from pedgpt.safety.triage import Flag, TriageResult, assess

tables.load_all()  # fail loudly at import when a table is malformed
message_table()

__all__ = [
    "assess", "TriageResult", "Flag", "extract_patient", "PatientFacts", "calculate", "DoseAdvice",
    "check_answer", "guard", "blocked_requests", "BlockedRequest", "SafetyContext", "Finding", "GuardedAnswer", "tables", "TableError",
]
