"""Event wiring of the page built by `ui.layout` (which components call which handler).

Generation events share one concurrency group ("generate") limited to
`Limits.generation_concurrency`; everything else (storage reads and writes) runs at once, so a
message is committed and shown even while another clinician's answer is streaming. The stop
button skips the queue entirely.
"""

from __future__ import annotations

import gradio as gr

from ui.chat import ChatHandlers
from ui.context import AppContext
from ui.diagnosis import DiagnosisHandlers
from ui.export import ExportHandlers
from ui.feedback import FeedbackHandlers
from ui.header import HeaderHandlers
from ui.medication import MedicationHandlers
from ui.sidebar import TASKS, SidebarHandlers, TabHandlers
from ui.translate import Translations

GENERATE = "generate"


def wire(demo: gr.Blocks, p, tr: Translations, ctx: AppContext) -> None:
    p.gen_inputs = [p.current, p.lang, p.max_tokens, p.temperature]  # every answer handler's
    _header(demo, p, tr, ctx)
    _sidebar(p, ctx)
    answered = {task: _chat(p, ctx, task) for task in TASKS}
    for event in answered["diagnose"]:  # follow-up questions update the triage panel too
        event.then(DiagnosisHandlers(ctx).triage, [p.current, p.lang], p.dx.triage, api_name=False)
    _diagnosis(p, ctx)
    _medication(p, ctx)
    _feedback(p, ctx)
    for fmt, button in p.exports.items():
        button.click(ExportHandlers(ctx, fmt).export, [p.current, p.active, p.lang], p.export_file,
                     api_name=f"export_{fmt}")


def _generate_kwargs(ctx: AppContext) -> dict:
    return {"concurrency_id": GENERATE, "concurrency_limit": ctx.limits.generation_concurrency}


def _header(demo: gr.Blocks, p, tr: Translations, ctx: AppContext) -> None:
    header, sidebar = HeaderHandlers(ctx), SidebarHandlers(ctx)
    demo.load(header.load, None, [p.lang, p.user, p.conv_list], api_name=False)
    p.lang.change(tr.apply, p.lang, tr.components, api_name=False)
    p.lang.change(header.user_text, p.lang, p.user, api_name=False)
    p.lang.change(sidebar.refresh, [p.search, p.archived, p.current, p.active, p.lang],
                  p.conv_list, api_name=False)


def _sidebar(p, ctx: AppContext) -> None:
    h = SidebarHandlers(ctx)
    listing = [p.search, p.archived, p.current, p.active, p.lang]
    chats = [getattr(p, f"chat_{task}").chat for task in TASKS]
    p.search.change(h.refresh, listing, p.conv_list, trigger_mode="always_last", api_name=False)
    p.archived.change(h.refresh, listing, p.conv_list, api_name=False)
    p.conv_list.input(h.open, [p.conv_list, p.current, p.lang],
                      [p.current, p.active, p.tabs, *chats, *p.card, p.title], api_name="open") \
        .success(DiagnosisHandlers(ctx).triage, [p.current, p.lang], p.dx.triage, api_name=False)
    after_change = [p.current, *chats, *p.card, p.title, p.conv_list]
    p.new.click(h.new, [p.active, p.current, p.search, p.archived, p.lang], after_change,
                api_name="new")
    p.delete.click(h.delete, [p.current, p.active, p.search, p.archived, p.lang], after_change,
                   api_name="delete")
    p.rename.click(h.rename, [p.title, p.current, p.active, p.search, p.archived, p.lang],
                   p.conv_list, api_name="rename")
    p.archive.click(h.archive, [p.current, p.active, p.search, p.archived, p.lang], p.conv_list,
                    api_name="archive")
    p.save_patient.click(h.save_patient, [*p.card, p.current, p.active, p.search, p.archived,
                                          p.lang], [p.current, p.conv_list], api_name="save_patient")
    for task in TASKS:
        getattr(p, f"tab_{task}").select(TabHandlers(ctx, task).select, [p.current, p.lang],
                                         [p.active, *p.card, p.title, p.conv_list], api_name=False)


def _chat(p, ctx: AppContext, task: str) -> list:
    """Wire one tab's chat; returns the events that end with a finished answer."""
    h, c = ChatHandlers(ctx, task), getattr(p, f"chat_{task}")
    inputs = [c.box, p.current, c.editing, *p.card, p.search, p.archived, p.lang]
    outputs = [c.chat, c.box, p.current, c.editing, c.hint, p.conv_list]
    answered = []
    for trigger, name in ((c.send.click, f"{task}_send"), (c.box.submit, False)):
        answered.append(trigger(h.send, inputs, outputs, api_name=name).success(
            h.answer, p.gen_inputs, c.chat, api_name=name and f"{task}_answer",
            **_generate_kwargs(ctx)))
    c.stop.click(h.stop, None, None, queue=False, api_name=f"{task}_stop")
    answered.append(c.regen.click(h.regenerate, [p.current, p.lang], c.chat,
                                  api_name=f"{task}_regenerate").success(
        h.answer, p.gen_inputs, c.chat, api_name=False, **_generate_kwargs(ctx)))
    c.edit.click(h.edit_last, [p.current, p.lang], [c.box, c.editing, c.hint],
                 api_name=f"{task}_edit_last")
    return answered


def _diagnosis(p, ctx: AppContext) -> None:
    h, chat = DiagnosisHandlers(ctx), ChatHandlers(ctx, "diagnose")
    card_out = [p.years, p.months, p.sex, p.weight]
    p.dx.submit.click(h.assess, [*p.dx.form, p.lang], [p.dx.table, p.dx.question, *card_out],
                      api_name="diagnose") \
        .success(chat.send_composed, [p.dx.question, p.current, *p.card, p.search, p.archived,
                                      p.lang], [p.chat_diagnose.chat, p.current, p.conv_list],
                 api_name=False) \
        .success(chat.answer, p.gen_inputs, p.chat_diagnose.chat, api_name=False,
                 **_generate_kwargs(ctx)) \
        .then(h.triage, [p.current, p.lang], p.dx.triage, api_name=False)


def _medication(p, ctx: AppContext) -> None:
    h, chat = MedicationHandlers(ctx), ChatHandlers(ctx, "medicate")
    p.med.submit.click(h.calculate, [*p.med.form, p.lang],
                       [p.med.result, p.med.table, p.med.question, p.years, p.months, p.weight],
                       api_name="dose") \
        .success(chat.send_composed, [p.med.question, p.current, *p.card, p.search, p.archived,
                                      p.lang], [p.chat_medicate.chat, p.current, p.conv_list],
                 api_name=False) \
        .success(chat.answer, p.gen_inputs, p.chat_medicate.chat, api_name=False,
                 **_generate_kwargs(ctx))


def _feedback(p, ctx: AppContext) -> None:
    for task in TASKS:
        getattr(p, f"chat_{task}").chat.like(
            FeedbackHandlers(ctx, task).rate, [p.current, p.lang],
            [p.fb_target, p.fb_panel, p.fb_label, p.fb_reason, p.fb_corrected], api_name=False)
    p.fb_submit.click(FeedbackHandlers(ctx, "consult").submit,
                      [p.fb_target, p.fb_reason, p.fb_corrected, p.lang],
                      [p.fb_target, p.fb_panel, p.fb_reason, p.fb_corrected], api_name="feedback")
