"""The page: header (title, user, language, logout), sidebar (consultation list + patient card),
three tabs (问诊 Consultation, 诊断 Diagnosis, 用药建议 Medication), feedback and export.

    demo = build_demo(settings, engine, db)      # db: a migrated pedgpt.storage.Database
    launch(demo, host="127.0.0.1", port=7860)

Layout only: every event calls a handler from `ui.chat`, `ui.sidebar`, `ui.diagnosis`,
`ui.medication`, `ui.feedback` or `ui.export`.
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from pedgpt.config import Settings
from pedgpt.engine.base import Engine
from pedgpt.storage import Database
from pedgpt.storage.models import REASONS
from ui import render
from ui.chat import ChatHandlers
from ui.context import AppContext
from ui.diagnosis import DiagnosisHandlers
from ui.export import FORMATS, ExportHandlers
from ui.feedback import REASON_KEYS, FeedbackHandlers
from ui.header import HeaderHandlers
from ui.limits import DEFAULT_NEW_TOKENS, Limits
from ui.medication import DOSE_COLUMNS, MedicationHandlers
from ui.sidebar import TASKS, SidebarHandlers, TabHandlers
from ui.translate import Translations
from ui.validate import MAX_TEMPERATURE

SEX_CHOICES = [("patient.sex_unknown", ""), ("patient.sex_f", "F"), ("patient.sex_m", "M")]
CHAT_HEIGHT = 460


def build_demo(settings: Settings, engine: Engine, db: Database,
               limits: Limits | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks` (not launched). `demo.pedgpt_context` holds its state."""
    ctx = AppContext.create(settings, engine, db, limits)
    tr = Translations()
    p = SimpleNamespace()
    with gr.Blocks(title="PedGPT") as demo:
        p.current, p.active = gr.State({}), gr.State("consult")
        _header(p, tr, ctx)
        _sidebar(p, tr)
        with gr.Tabs(elem_id="pedgpt-tabs") as p.tabs:
            for task in TASKS:
                with tr.add(gr.Tab(tr.text(f"tabs.{task}"), id=task, elem_id=f"tab-{task}"),
                            label=f"tabs.{task}") as tab:
                    setattr(p, f"tab_{task}", tab)
                    if task == "diagnose":
                        _diagnosis_tab(p, tr)
                        continue
                    if task == "medicate":
                        _medication_form(p, tr)
                    _chat_panel(p, tr, task)
        _settings(p, tr, ctx.limits)
        _feedback_panel(p, tr)
        _export_row(p, tr)
        p.disclaimer = tr.add(gr.Markdown(tr.text("app.disclaimer"), elem_classes="pedgpt-disclaimer"),
                              value="app.disclaimer")
        if settings.mode == "parent":
            tr.add(gr.Markdown(tr.text("app.disclaimer_parent"), elem_classes="pedgpt-disclaimer"),
                   value="app.disclaimer_parent")
        _wire(demo, p, tr, ctx)
    demo.pedgpt_context = ctx
    return demo


# -- building blocks -------------------------------------------------------------------------

def _header(p, tr: Translations, ctx: AppContext) -> None:
    with gr.Row(equal_height=True):
        with gr.Column(scale=3):
            tr.add(gr.Markdown(tr.text("app.title"), elem_classes="pedgpt-title"), value="app.title")
            tr.add(gr.Markdown(tr.text("app.subtitle"), elem_classes="pedgpt-subtitle"),
                   value="app.subtitle")
        with gr.Column(scale=2, min_width=260):
            p.user = gr.Markdown("", elem_id="pedgpt-user")
            with gr.Row():
                p.lang = tr.add(gr.Radio([("中文", "zh"), ("English", "en")], value=tr.lang,
                                         label=tr.text("app.language"), elem_id="pedgpt-lang",
                                         scale=2), label="app.language")
                p.logout = tr.add(gr.Button(tr.text("app.logout"), link="/logout", size="sm",
                                            visible=ctx.settings.auth, elem_id="pedgpt-logout",
                                            scale=1), value="app.logout")
    if not ctx.settings.auth:
        tr.add(gr.Markdown(tr.text("app.auth_off"), elem_classes="pedgpt-auth-off",
                           elem_id="pedgpt-auth-off"), value="app.auth_off")


def _sidebar(p, tr: Translations) -> None:
    with gr.Sidebar(open=True, width=340, elem_id="pedgpt-sidebar"):
        tr.add(gr.Markdown(f"{tr.text('sidebar.heading')}"), value="sidebar.heading")
        p.new = tr.add(gr.Button(tr.text("sidebar.new"), variant="primary", elem_id="conv-new"),
                       value="sidebar.new")
        p.search = tr.add(gr.Textbox(label=tr.text("sidebar.search"), elem_id="conv-search",
                                     placeholder=tr.text("sidebar.search_example")),
                          label="sidebar.search", placeholder="sidebar.search_example")
        p.archived = tr.add(gr.Checkbox(label=tr.text("sidebar.show_archived"),
                                        elem_id="conv-archived"), label="sidebar.show_archived")
        p.conv_list = gr.Radio([], label=tr.text("sidebar.empty"), elem_id="conv-list")
        with gr.Row():
            p.title = tr.add(gr.Textbox(label=tr.text("sidebar.title"), elem_id="conv-title",
                                        scale=3), label="sidebar.title")
            p.rename = tr.add(gr.Button(tr.text("sidebar.rename"), size="sm", elem_id="conv-rename",
                                        scale=1), value="sidebar.rename")
        with gr.Row():
            p.archive = tr.add(gr.Button(tr.text("sidebar.archive"), size="sm",
                                         elem_id="conv-archive"), value="sidebar.archive")
            p.delete = tr.add(gr.Button(tr.text("sidebar.delete"), size="sm", variant="stop",
                                        elem_id="conv-delete"), value="sidebar.delete")
        _patient_card(p, tr)


def _patient_card(p, tr: Translations) -> None:
    tr.add(gr.Markdown(tr.text("patient.heading"), elem_classes="pedgpt-card-heading"),
           value="patient.heading")
    with gr.Row():
        p.years = _number(tr, "patient.age_years", "patient-years")
        p.months = _number(tr, "patient.age_months", "patient-months")
    p.sex = tr.add(gr.Radio(tr.choices(SEX_CHOICES), value="", label=tr.text("patient.sex"),
                            elem_id="patient-sex"), label="patient.sex", choices=SEX_CHOICES)
    p.weight = _number(tr, "patient.weight", "patient-weight")
    p.allergies = _textbox(tr, "patient.allergies", "patient-allergies")
    p.chronic = _textbox(tr, "patient.chronic", "patient-chronic")
    p.save_patient = tr.add(gr.Button(tr.text("patient.save"), size="sm", elem_id="patient-save"),
                            value="patient.save")
    p.card = [p.years, p.months, p.sex, p.weight, p.allergies, p.chronic]


def _chat_panel(p, tr: Translations, task: str) -> None:
    chat = tr.add(gr.Chatbot(label=tr.text("chat.label"), elem_id=f"{task}-chat",
                             elem_classes="pedgpt-chat",
                             height=CHAT_HEIGHT, buttons=["copy"], sanitize_html=True,
                             feedback_options=("Like", "Dislike")), label="chat.label")
    with gr.Row():
        box = tr.add(gr.Textbox(label=tr.text("chat.input"), placeholder=tr.text("chat.input_hint"),
                                lines=2, max_lines=8, scale=6, elem_id=f"{task}-input"),
                     label="chat.input", placeholder="chat.input_hint")
        send = tr.add(gr.Button(tr.text("chat.send"), variant="primary", scale=1,
                                elem_id=f"{task}-send"), value="chat.send")
    with gr.Row():
        stop = tr.add(gr.Button(tr.text("chat.stop"), variant="stop", size="sm",
                                elem_id=f"{task}-stop"), value="chat.stop")
        regen = tr.add(gr.Button(tr.text("chat.regenerate"), size="sm", elem_id=f"{task}-regen"),
                       value="chat.regenerate")
        edit = tr.add(gr.Button(tr.text("chat.edit_last"), size="sm", elem_id=f"{task}-edit"),
                      value="chat.edit_last")
    hint = gr.Markdown("", visible=False, elem_id=f"{task}-editing")
    setattr(p, f"chat_{task}", SimpleNamespace(chat=chat, box=box, send=send, stop=stop,
                                               regen=regen, edit=edit, hint=hint,
                                               editing=gr.State(False)))


def _diagnosis_tab(p, tr: Translations) -> None:
    """Case form with the streamed assessment under it; differential and triage beside them."""
    with gr.Row():
        with gr.Column(scale=3):
            _diagnosis_form(p, tr)
            _chat_panel(p, tr, "diagnose")
        with gr.Column(scale=2):
            p.dx.table = gr.Dataframe(
                headers=render.headers(render.DIFFERENTIAL_COLUMNS, tr.lang),
                label=tr.text("diagnosis.differential"), interactive=False, wrap=True,
                elem_id="dx-differential")
            tr.add(gr.Markdown(tr.text("diagnosis.triage")), value="diagnosis.triage")
            p.dx.triage = gr.HTML("", elem_id="dx-triage")
            gr.Markdown(_attribution(), elem_classes="pedgpt-card-heading")


def _diagnosis_form(p, tr: Translations) -> None:
    tr.add(gr.Markdown(tr.text("diagnosis.heading")), value="diagnosis.heading")
    with gr.Group():
        with gr.Row():
            years = _number(tr, "patient.age_years", "dx-years")
            months = _number(tr, "patient.age_months", "dx-months")
            weight = _number(tr, "patient.weight", "dx-weight")
            temp = _number(tr, "diagnosis.temperature", "dx-temp")
        sex = tr.add(gr.Radio(tr.choices(SEX_CHOICES), value="", label=tr.text("patient.sex"),
                              elem_id="dx-sex"), label="patient.sex", choices=SEX_CHOICES)
        with gr.Row():
            chief = _textbox(tr, "diagnosis.chief_complaint", "dx-chief")
            duration = _textbox(tr, "diagnosis.duration", "dx-duration", "diagnosis.duration_example")
        symptoms = _textbox(tr, "diagnosis.symptoms", "dx-symptoms", "diagnosis.symptoms_example")
        with gr.Row():
            exam = _textbox(tr, "diagnosis.exam", "dx-exam")
            labs = _textbox(tr, "diagnosis.labs", "dx-labs")
    submit = tr.add(gr.Button(tr.text("diagnosis.submit"), variant="primary", elem_id="dx-submit"),
                    value="diagnosis.submit")
    p.dx = SimpleNamespace(form=[years, months, sex, weight, temp, chief, duration, symptoms, exam,
                                 labs], submit=submit, question=gr.State(""))


def _medication_form(p, tr: Translations) -> None:
    with gr.Row():
        with gr.Column(scale=2):
            tr.add(gr.Markdown(tr.text("medication.heading")), value="medication.heading")
            drug = _textbox(tr, "medication.drug", "med-drug", "medication.drug_example")
            indication = _textbox(tr, "medication.indication", "med-indication",
                                  "medication.indication_example")
            with gr.Row():
                years = _number(tr, "patient.age_years", "med-years")
                months = _number(tr, "patient.age_months", "med-months")
                weight = _number(tr, "patient.weight", "med-weight")
            submit = tr.add(gr.Button(tr.text("medication.submit"), variant="primary",
                                      elem_id="med-submit"), value="medication.submit")
        with gr.Column(scale=3):
            tr.add(gr.Markdown(tr.text("medication.table")), value="medication.table")
            result = gr.HTML("", elem_id="med-result")
            table = gr.Dataframe(headers=render.headers(DOSE_COLUMNS, tr.lang), interactive=False,
                                 wrap=True, elem_id="med-table", show_label=False,
                                 column_widths=["28%", "72%"])
    p.med = SimpleNamespace(form=[drug, indication, years, months, weight], submit=submit,
                            result=result, table=table, question=gr.State(""))


def _settings(p, tr: Translations, limits: Limits) -> None:
    with tr.add(gr.Accordion(tr.text("settings.heading"), open=False, elem_id="gen-settings"),
                label="settings.heading"):
        with gr.Row():
            p.max_tokens = tr.add(gr.Slider(1, limits.max_new_tokens, step=1,
                                            value=min(DEFAULT_NEW_TOKENS, limits.max_new_tokens),
                                            label=tr.text("settings.max_tokens"),
                                            elem_id="gen-max-tokens"), label="settings.max_tokens")
            p.temperature = tr.add(gr.Slider(0, MAX_TEMPERATURE, step=0.05, value=0.0,
                                             label=tr.text("settings.temperature"),
                                             elem_id="gen-temperature"), label="settings.temperature")


def _feedback_panel(p, tr: Translations) -> None:
    tr.add(gr.Markdown(tr.text("feedback.hint"), elem_classes="pedgpt-card-heading"),
           value="feedback.hint")
    p.fb_target = gr.State(None)
    with gr.Group(visible=False, elem_id="fb-panel") as p.fb_panel:
        p.fb_label = gr.Markdown("", elem_id="fb-label")
        reasons = list(zip(REASON_KEYS, REASONS))
        p.fb_reason = tr.add(gr.Radio(tr.choices(reasons), label=tr.text("feedback.reason"),
                                      elem_id="fb-reason"), label="feedback.reason", choices=reasons)
        p.fb_corrected = _textbox(tr, "feedback.corrected", "fb-corrected", lines=3)
        p.fb_submit = tr.add(gr.Button(tr.text("feedback.submit"), size="sm", elem_id="fb-submit"),
                             value="feedback.submit")


def _export_row(p, tr: Translations) -> None:
    with gr.Row(equal_height=True):
        p.exports = {}
        for fmt, key in zip(FORMATS, ("export.markdown", "export.json", "export.pdf")):
            p.exports[fmt] = tr.add(gr.Button(tr.text(key), size="sm", elem_id=f"export-{fmt}"),
                                    value=key)
        p.export_file = gr.File(label=tr.text("export.file"), visible=False, interactive=False,
                                elem_id="export-file")


def _number(tr: Translations, key: str, elem_id: str):
    # A text box, not gr.Number: the browser sends 0 for an empty gr.Number, and "not given"
    # must stay distinguishable from 0 (validation in ui.validate parses the text).
    return tr.add(gr.Textbox(label=tr.text(key), value="", elem_id=elem_id, min_width=80,
                             max_lines=1), label=key)


def _textbox(tr: Translations, key: str, elem_id: str, example: str | None = None,
             lines: int = 1):
    """A labelled text box; `example` is the i18n key of the grey example text inside it."""
    keys = {"label": key, **({"placeholder": example} if example else {})}
    return tr.add(gr.Textbox(label=tr.text(key), lines=lines, elem_id=elem_id,
                             placeholder=tr.text(example) if example else None), **keys)


def _attribution() -> str:
    from pedgpt.knowledge import ATTRIBUTION

    return ATTRIBUTION


# -- events ----------------------------------------------------------------------------------

def _wire(demo: gr.Blocks, p, tr: Translations, ctx: AppContext) -> None:
    from ui.events import wire

    wire(demo, p, tr, ctx)
