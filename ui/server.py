"""Launching a built demo: the queue (bounded: back-pressure instead of overload), login through
the user database, the stylesheet.

    launch(build_demo(settings, engine, db), host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import logging
import threading

import gradio as gr

from pedgpt.paths import asset
from ui.i18n import t

log = logging.getLogger("pedgpt.ui")

#: Non-generation events (list, open, save …) running at once; they are short database calls.
DEFAULT_CONCURRENCY = 8


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860,
           prevent_thread_lock: bool = False, quiet: bool = False):
    """Start the server (blocks unless `prevent_thread_lock`). Login is on unless the settings
    say `auth=False` (PEDGPT_AUTH=off), in which case the page says so."""
    ctx = demo.pedgpt_context
    demo.queue(max_size=ctx.limits.queue_size, default_concurrency_limit=DEFAULT_CONCURRENCY)
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=ctx.authenticate if ctx.settings.auth else None,
        auth_message=t("app.login_message", "zh") if ctx.settings.auth else None,
        css_paths=[asset("css", "pedgpt.css")],
        show_error=False,  # gr.Error messages still show; internal errors never leak details
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        footer_links=[],
        ssr_mode=False,
    )


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """The whole start-up, shared by `python app.py` and `pedgpt serve`: open (migrate, recover)
    the database — first, so a bad URL fails before a long model load — load the model, build
    the page, serve it until interrupted."""
    from pedgpt.engine import load_engine
    from pedgpt.storage import open_database
    from ui.layout import build_demo

    db = open_database(settings.db_url)
    engine = load_engine(settings.model, settings.backend)
    demo = build_demo(settings, engine, db)
    warm_up_knowledge()
    launch(demo, host=host, port=port)


def warm_up_knowledge() -> threading.Thread:
    """Open (on first run: build) the knowledge index and its linker in the background, so the
    first question does not wait for them."""
    def work() -> None:
        try:
            from pedgpt.knowledge import warm_up

            warm_up()
        except Exception:  # the first request will retry and report it
            log.exception("knowledge warm-up failed")

    thread = threading.Thread(target=work, name="pedgpt-knowledge-warm-up", daemon=True)
    thread.start()
    return thread
