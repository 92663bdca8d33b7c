"""Header handlers: the page's language from the browser on load, who is signed in, the model."""

from __future__ import annotations

import gradio as gr

from ui.context import AppContext
from ui.i18n import browser_language, t
from ui.sidebar import list_update


class HeaderHandlers:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def load(self, request: gr.Request) -> tuple:
        """On page load. Outputs: language, user line, consultation list."""
        headers = getattr(request, "headers", None) or {}
        lang = browser_language(headers.get("accept-language"))
        uid = self.ctx.user_id(request)
        return lang, self.user_text(lang, request), list_update(self.ctx, uid, "", False, None, lang)

    def user_text(self, lang: str, request: gr.Request) -> str:
        info = self.ctx.engine.info()
        model = t("app.model", lang, model=info.get("model", "?"), backend=info.get("backend", "?"))
        who = t("app.signed_in", lang, user=self.ctx.username(request))
        return f"{who}  \n{model}"
