"""Export the open consultation as Markdown, JSON or PDF (CJK font embedded) through
`ConsultationStore.write_export`; the file goes to a fresh private temp folder and is offered
for download. Exports are audited by the store.
"""

from __future__ import annotations

import tempfile

import gradio as gr

from ui import validate
from ui.context import AppContext
from ui.i18n import t

FORMATS = ("markdown", "json", "pdf")


class ExportHandlers:
    """One handler per format (bound methods keep Gradio's request injection)."""

    def __init__(self, ctx: AppContext, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self.ctx = ctx
        self.fmt = fmt

    def export(self, current: dict, active: str, lang: str, request: gr.Request) -> dict:
        """Output: the file component, showing the new file."""
        uid = self.ctx.user_id(request)
        cid = (current or {}).get(active)
        if not cid:
            raise gr.Error(t("errors.no_consultation", lang))
        folder = tempfile.mkdtemp(prefix="pedgpt-export-")
        with validate.user_errors():
            path = self.ctx.consultations.write_export(uid, cid, self.fmt, folder)
        return gr.update(value=str(path), visible=True, label=t("export.file", lang))
