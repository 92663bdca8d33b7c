"""Render a consultation record (`ConsultationStore.consultation_record`) as Markdown, JSON or
PDF. The PDF embeds a subset of a CJK font (see `pedgpt.storage.fonts`) so Chinese renders and
stays searchable/copyable in any viewer.

    pdf_bytes = ConsultationStore(db).export_pdf(user_id, cid)
    path = ConsultationStore(db).write_export(user_id, cid, "pdf", "/tmp/exports")
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

from pedgpt.errors import InputError
from pedgpt.storage.fonts import FontFace, find_cjk_font, font_cmap

FORMATS = {"markdown": "md", "json": "json", "pdf": "pdf"}
MAX_SLUG_CHARS = 60
DISCLAIMER = ("本记录由 AI 助手辅助生成，仅供临床医生参考，不能替代临床判断。 / "
              "AI-assisted record for clinicians; not a substitute for clinical judgment.")
ROLE_LABELS = {"user": "医生 / Clinician", "assistant": "PedGPT", "system": "系统 / System"}
TASK_LABELS = {"consult": "问诊 Consultation", "diagnose": "诊断 Diagnosis", "medicate": "用药建议 Medication"}
STATUS_LABELS = {"incomplete": "（未完成 / incomplete）", "error": "（出错 / error）",
                 "streaming": "（生成中 / generating）"}
PATIENT_LABELS = (("age_months", "年龄（月）/ age (months)"), ("sex", "性别 / sex"),
                  ("weight_kg", "体重（kg）/ weight (kg)"), ("allergies", "过敏 / allergies"),
                  ("chronic_conditions", "慢性病 / chronic conditions"))


def safe_filename(title: str, cid: int, fmt: str) -> str:
    """`pedgpt-<id>-<title slug>.<ext>`: letters (any script), digits, `-` and `_` only, so no
    path traversal, hidden file or reserved name can come from a title."""
    if fmt not in FORMATS:
        raise InputError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    slug = unicodedata.normalize("NFKC", title or "")
    slug = re.sub(r"[^\w-]+", "_", slug, flags=re.UNICODE).strip("_-")[:MAX_SLUG_CHARS]
    return f"pedgpt-{int(cid)}-{slug or 'consultation'}.{FORMATS[fmt]}"


def write_export(store, user_id: int, cid: int, fmt: str, directory) -> Path:
    renderers = {"markdown": store.export_markdown, "json": store.export_json, "pdf": store.export_pdf}
    if fmt not in renderers:
        raise InputError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    folder = Path(directory).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(store.get(user_id, cid).title, cid, fmt)
    target = (folder / name).resolve()
    if target.parent != folder:  # belt and braces: safe_filename already forbids separators
        raise InputError("export file name escapes the export folder")
    data = renderers[fmt](user_id, cid)
    write_private(target, data if isinstance(data, bytes) else data.encode("utf-8"))
    return target


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600), atomically: never a half-written export
    under the real name."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def render_json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2)


def _patient_lines(patient: dict) -> list[str]:
    lines = []
    for key, label in PATIENT_LABELS:
        value = patient.get(key)
        if value in (None, [], ""):
            continue
        if isinstance(value, list):
            value = "、".join(map(str, value))
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        lines.append(f"{label}: {value}")
    return lines


def _extras(message: dict) -> list[str]:
    """Triage, dose findings, citations and feedback as short text lines."""
    lines = []
    triage = message.get("triage") or {}
    if message.get("triage_level"):
        advice = triage.get("advice") if isinstance(triage, dict) else None
        lines.append(f"分诊 / triage: {message['triage_level']}" + (f" — {advice}" if advice else ""))
    for rule in (triage.get("blocked") or []) if isinstance(triage, dict) else []:
        lines.append(f"已告知模型的禁忌 / contraindication stated to the model: {rule.get('drug', '')}"
                     f" — {rule.get('rule', '')} ({rule.get('source', '')})")
    for finding in message.get("dose_findings") or []:
        lines.append(f"剂量核查 / dose check: {_short(finding)}")
    for i, citation in enumerate(message.get("citations") or [], 1):
        lines.append(f"[{i}] {_short(citation)}")
    feedback = message.get("feedback")
    if feedback:
        text = f"反馈 / feedback: {feedback['rating']}"
        if feedback.get("reason"):
            text += f" ({feedback['reason']})"
        if feedback.get("corrected_answer"):
            text += f" — 更正 / correction: {feedback['corrected_answer']}"
        lines.append(text)
    return lines


def _short(value) -> str:
    if isinstance(value, dict):
        for key in ("text", "title", "summary", "reason", "name", "drug"):
            if value.get(key):
                rest = value.get("source") or value.get("url") or ""
                return f"{value[key]}" + (f" ({rest})" if rest and rest != value[key] else "")
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _heading(record: dict) -> tuple[str, list[str]]:
    c = record["consultation"]
    title = c["title"] or f"会诊 #{c['id']}"
    meta = [f"任务 / task: {TASK_LABELS.get(c['task'], c['task'])}",
            f"创建 / created: {c['created_at']}", f"更新 / updated: {c['updated_at']}",
            f"导出 / exported: {record['exported_at']}"]
    return title, meta


def render_markdown(record: dict) -> str:
    title, meta = _heading(record)
    out = [f"# {title}", "", *[f"- {m}" for m in meta], ""]
    patient = _patient_lines(record["consultation"]["patient"])
    if patient:
        out += ["## 患儿信息 / Patient", "", *[f"- {p}" for p in patient], ""]
    out += [f"> {DISCLAIMER}", "", "## 对话 / Conversation", ""]
    for m in record["messages"]:
        label = ROLE_LABELS.get(m["role"], m["role"]) + STATUS_LABELS.get(m["status"], "")
        out += [f"### {label} · {m['created_at']}", "", m["content"] or "", ""]
        out += [f"- {line}" for line in _extras(m)]
        if _extras(m):
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_pdf(record: dict) -> bytes:
    """A4 PDF with the embedded CJK font; `FontMissing` names how to install one if none."""
    from fpdf import FPDF

    regular = find_cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    # One face only: loading and subsetting a CJK font is most of the export's time (~1 s each),
    # so headings are set apart by size and colour rather than by a second (bold) font.
    pdf.add_font("cjk", "", regular.path, collection_font_number=regular.index)
    pdf.set_title(_printable(_heading(record)[0], regular))
    pdf.set_creator("PedGPT")
    pdf.add_page()
    _pdf_body(pdf, record, regular)
    return bytes(pdf.output())


def _pdf_body(pdf, record: dict, face: FontFace) -> None:
    title, meta = _heading(record)

    def para(text: str, size: float = 10.5, heading: bool = False, gap: float = 1.5) -> None:
        pdf.set_font("cjk", "", size)
        pdf.set_text_color(*((20, 60, 120) if heading else (0, 0, 0)))
        pdf.multi_cell(0, size * 0.55, _printable(text, face), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(title, 16, True, 3)
    para("\n".join(meta), 9)
    patient = _patient_lines(record["consultation"]["patient"])
    if patient:
        para("患儿信息 / Patient", 12, True)
        para("\n".join(patient), 10)
    para(DISCLAIMER, 9, gap=4)
    for m in record["messages"]:
        label = ROLE_LABELS.get(m["role"], m["role"]) + STATUS_LABELS.get(m["status"], "")
        para(f"{label} · {m['created_at']}", 11, True, 1)
        para(m["content"] or "—")
        extras = _extras(m)
        if extras:
            para("\n".join(extras), 9, gap=3)


def _printable(text: str, face: FontFace) -> str:
    """Drop control characters and replace glyphs the font lacks (emoji, rare symbols) with
    □, which otherwise make fpdf2 fail or silently drop text."""
    cmap = font_cmap(face)
    out = []
    for ch in unicodedata.normalize("NFC", text.replace("\t", "    ").replace("\r", "")):
        if ch == "\n" or ord(ch) in cmap:
            out.append(ch)
        elif unicodedata.category(ch)[0] in "CZ":  # control, format, unusual spaces
            out.append(" " if unicodedata.category(ch) == "Zs" else "")
        else:
            out.append("□")
    return "".join(out)
