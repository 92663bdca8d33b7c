"""Header handlers: the page's language from the browser on load, who is signed in, the model."""

from __future__ import annotations

import gradio as gr

from pedgpt.errors import PedGPTError
from ui.context import AppContext
from ui.i18n import browser_language, t
from ui.render import escape
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
        name = self.ctx.username(request)
        try:
            shown = self.ctx.users.by_name(name).display_name or name
        except PedGPTError:
            shown = name
        who = t("app.signed_in", lang, user=escape(shown))
        return f"{who}  \n{escape(model)}"
