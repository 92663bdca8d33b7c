"""Presentation: stored records and safety results → what the page shows. No clinical logic:
every level, finding and number shown here was decided by `pedgpt.safety` / `pedgpt.knowledge`.

Text from people and from the model is HTML-escaped before it reaches the Chatbot's Markdown, so
pasted `<script>` or `<img onerror>` shows as text and never runs.
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

import gradio as gr

from ui.i18n import t



def escape(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=False)


# -- chat ------------------------------------------------------------------------------------

def chat_history(messages: Iterable[Any], lang: str) -> list[dict]:
    """Stored messages (records or dicts) → Gradio Chatbot messages, in order, 1:1 with the
    stored user/assistant messages (the feedback buttons rely on that)."""
    out = []
    for message in shown(messages):
        if _get(message, "role") == "user":
            out.append({"role": "user", "content": escape(_get(message, "content"))})
        else:
            out.append({"role": "assistant", "content": assistant_message(message, lang)})
    return out


def chat_update(messages: Iterable[Any], feedback: dict[int, dict], lang: str) -> dict:
    """A Chatbot update: the messages and each answer's stored thumbs (so a thumb never shows
    on the wrong answer after switching consultations)."""
    messages = list(messages)
    return gr.update(value=chat_history(messages, lang),
                     feedback_value=feedback_values(messages, feedback))


def shown(messages: Iterable[Any]) -> list[Any]:
    """The messages the chat shows (users' and assistant's; never system ones)."""
    return [m for m in messages if _get(m, "role") in ("user", "assistant")]


def feedback_values(messages: Iterable[Any], feedback: dict[int, dict]) -> list[str | None]:
    """Chatbot `feedback_value`: one entry per assistant message ("Like"/"Dislike"/None)."""
    names = {"up": "Like", "down": "Dislike"}
    return [names.get((feedback.get(_get(m, "id")) or {}).get("rating"))
            for m in shown(messages) if _get(m, "role") == "assistant"]


def assistant_message(message: Any, lang: str) -> str:
    """One answer with its triage banner, status note, dose findings and citations."""
    triage = _get(message, "triage")
    parts = [triage_banner(triage, lang), blocked_rules((triage or {}).get("blocked") or [], lang),
             escape(_get(message, "content"))]
    status = _get(message, "status")
    if status == "incomplete":
        parts.append(f"*{escape(t('chat.interrupted', lang))}*")
    parts.append(dose_findings(_get(message, "dose_findings") or [], lang))
    parts.append(citations(_get(message, "citations") or [], lang))
    return "\n\n".join(p for p in parts if p)


def streaming_message(text: str) -> str:
    return escape(text) + " ▌"





def triage_banner(triage: dict | None, lang: str) -> str:
    """Red box for emergencies, amber for urgent; nothing for routine. The text is the safety
    layer's banner when the answer guard attached one, else the level's label with the advice."""
    level = (triage or {}).get("level")
    if level not in ("emergency", "urgent"):
        return ""
    advice = escape((triage or {}).get("advice") or "")
    banner = (triage or {}).get("banner") or {}
    text = t(f"message.triage_{level}", lang, advice=advice)
    if banner.get("text"):
        text = f"⚠ {escape(banner['text'])}" + (f"<br>{advice}" if advice else "")
    flags = "；".join(escape(f.get("text", "")) for f in (triage or {}).get("flags") or [] if f)
    detail = f"<br><small>{flags}</small>" if flags else ""
    return f'<div class="pedgpt-triage pedgpt-triage-{level}">{text}{detail}</div>'


def triage_panel(triage: dict | None, lang: str) -> str:
    """The triage result for the diagnosis tab: every level, routine included."""
    level = (triage or {}).get("level")
    if level not in ("emergency", "urgent", "routine"):
        return ""
    if level != "routine":
        return triage_banner(triage, lang)
    text = t("message.triage_routine", lang, advice=escape((triage or {}).get("advice") or ""))
    return f'<div class="pedgpt-triage pedgpt-triage-routine">{text}</div>'


def blocked_rules(blocked: Sequence[dict], lang: str) -> str:
    """The contraindication rules the safety layer stated to the model before it answered
    (`pedgpt.safety.blocked_requests`, stored with the answer's triage)."""
    if not blocked:
        return ""
    items = "".join(f"<li><b>{escape(b.get('drug', ''))}</b>: {escape(b.get('rule', ''))} "
                    f"<small>{escape(b.get('source', ''))}</small></li>" for b in blocked)
    return (f'<div class="pedgpt-blocked"><b>{escape(t("message.blocked", lang))}</b>'
            f"<ul>{items}</ul></div>")


def dose_findings(findings: Sequence[Any], lang: str) -> str:
    if not findings:
        return ""
    items = "".join(f"<li>{escape(_finding_text(f))}</li>" for f in findings)
    return (f'<div class="pedgpt-dose"><b>{escape(t("message.dose_findings", lang))}</b>'
            f"<ul>{items}</ul></div>")


def _finding_text(finding: Any) -> str:
    if not isinstance(finding, dict):
        return str(finding)
    for key in ("message", "text", "reason", "detail"):
        if finding.get(key):
            return str(finding[key])
    return "; ".join(f"{k}: {v}" for k, v in finding.items() if v not in (None, "", [], {}))


def citations(items: Sequence[dict], lang: str) -> str:
    """Expandable list of the knowledge facts given to the model (cited ones marked ✓)."""
    if not items:
        return ""
    rows = []
    for item in items:
        mark = "✓ " if item.get("cited") else ""
        marker = f"[{escape(item.get('marker', ''))}] " if item.get("marker") else ""
        source = escape(item.get("id") or item.get("source") or "")
        text = escape(item.get("text", ""))
        rows.append(f"<li>{mark}{marker}{text} <small>{source}</small></li>")
    summary = escape(t("message.citations", lang, count=len(items)))
    return (f'<details class="pedgpt-citations"><summary>{summary}</summary>'
            f"<ul>{''.join(rows)}</ul></details>")


# -- sidebar ---------------------------------------------------------------------------------

def consultation_choices(consultations: Iterable[Any], lang: str) -> list[tuple[str, int]]:
    """(label, id) pairs for the sidebar list; newest first as the store returns them."""
    out = []
    for c in consultations:
        title = _get(c, "title") or t("sidebar.untitled", lang)
        stamp = _get(c, "updated_at")
        when = stamp.strftime("%m-%d %H:%M") if hasattr(stamp, "strftime") else ""
        archived = t("sidebar.archived_mark", lang) if _get(c, "archived") else ""
        task = t(f"task.{_get(c, 'task')}", lang)
        out.append((f"[{task}] {title}{archived} · {when}", _get(c, "id")))
    return out


# -- diagnosis / medication tables -----------------------------------------------------------

DIFFERENTIAL_COLUMNS = ("diagnosis.col_name", "diagnosis.col_score", "diagnosis.col_matched",
                        "diagnosis.col_unmatched", "diagnosis.col_exams",
                        "diagnosis.col_department", "diagnosis.col_source")


def differential_rows(candidates: Iterable[Any]) -> list[list[str]]:
    rows = []
    for c in candidates:
        d = c.to_dict() if hasattr(c, "to_dict") else dict(c)
        rows.append([d.get("name", ""), f"{float(d.get('score') or 0):.2f}",
                     "、".join(d.get("matched") or []), "、".join(d.get("unmatched") or []),
                     "、".join(d.get("examinations") or []), d.get("department") or "",
                     ", ".join(d.get("facts") or [])])
    return rows


def headers(keys: Sequence[str], lang: str) -> list[str]:
    return [t(k, lang) for k in keys]


def dose_summary(advice: dict, lang: str) -> str:
    """The contraindication result line above the dose table."""
    if advice.get("allowed"):
        return f'<div class="pedgpt-dose-ok">{escape(t("medication.result_allowed", lang))}</div>'
    reason = escape(advice.get("reason") or "")
    return (f'<div class="pedgpt-triage pedgpt-triage-emergency">'
            f'{t("medication.result_blocked", lang, reason=reason)}</div>')


def dose_rows(advice: dict, lang: str) -> list[list[str]]:
    """`DoseAdvice.to_dict()` → [item, value] rows (mg for drugs, mL for ORS)."""
    rows = [[t("medication.row_drug", lang), str(advice.get("drug") or "")]]
    per_dose = _range(advice.get("per_dose_mg"), "mg") or _range(advice.get("per_dose_ml"), "mL")
    if per_dose:
        rows.append([t("medication.row_per_dose", lang), per_dose])
    if advice.get("volume_ml") not in (None, ""):
        rows.append([t("medication.row_per_dose", lang), _range(advice["volume_ml"], "mL")])
    if advice.get("interval_hours_min") not in (None, ""):
        rows.append([t("medication.row_interval", lang),
                     t("medication.hours", lang, value=f"{advice['interval_hours_min']:g}")])
    if advice.get("max_doses_per_24h") not in (None, ""):
        rows.append([t("medication.row_max_doses", lang),
                     t("medication.times", lang, value=advice["max_doses_per_24h"])])
    if advice.get("max_daily_mg") not in (None, ""):
        rows.append([t("medication.row_max_daily", lang), _range(advice["max_daily_mg"], "mg")])
    for warning in advice.get("warnings") or []:
        rows.append([t("medication.row_warnings", lang), _text(warning)])
    for source in advice.get("sources") or []:
        rows.append([t("medication.row_sources", lang), _text(source)])
    return rows


def _range(value: Any, unit: str) -> str:
    if value in (None, "", {}):
        return ""
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        if low is None and high is None:
            return ""
        if low is None or high is None or float(low) == float(high):
            return f"{float(high if low is None else low):g} {unit}"
        return f"{float(low):g}–{float(high):g} {unit}"
    return f"{float(value):g} {unit}"


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or value.get("title") or value.get("id") or value)
    return str(value)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
