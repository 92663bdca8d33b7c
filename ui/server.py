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
from ui.sessions import ExpiringTokens, check_bind, session_minutes_from_env

log = logging.getLogger("pedgpt.ui")

#: Non-generation events (list, open, save …) running at once; they are short database calls.
DEFAULT_CONCURRENCY = 8


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860,
           prevent_thread_lock: bool = False, quiet: bool = False):
    """Start the server (blocks unless `prevent_thread_lock`). Login is on unless the settings
    say `auth=False` (PEDGPT_AUTH=off), in which case the page says so."""
    ctx = demo.pedgpt_context
    check_bind(host, ctx.settings.auth)
    demo.queue(max_size=ctx.limits.queue_size, default_concurrency_limit=DEFAULT_CONCURRENCY)
    result = demo.launch(
        server_name=host,
        server_port=port,
        auth=ctx.authenticate if ctx.settings.auth else None,
        auth_message=t("app.login_message", "zh") if ctx.settings.auth else None,
        css_paths=[asset("css", "pedgpt.css")],
        show_error=False,  # gr.Error messages still show; internal errors never leak details
        prevent_thread_lock=True,  # install session expiry first, then block below
        quiet=quiet,
        footer_links=[],
        ssr_mode=False,
    )
    if ctx.settings.auth:
        install_session_expiry(demo, ctx)
    if not prevent_thread_lock:
        demo.block_thread()
    return result


def install_session_expiry(demo: gr.Blocks, ctx) -> ExpiringTokens:
    """Swap Gradio's token table for one that expires idle sessions and audits logouts."""
    from pedgpt.storage import AuditLog

    audit = AuditLog(ctx.db)

    def on_end(username: str, reason: str) -> None:
        try:
            audit.record(reason, username=username)
        except Exception:  # auditing must never break a logout
            log.exception("could not audit %s", reason)

    tokens = ExpiringTokens(session_minutes_from_env() * 60, on_end)
    app = demo.server_app
    for token, username in list(app.tokens.items()):
        tokens[token] = username
    app.tokens = tokens
    return tokens


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """The whole start-up, shared by `python app.py` and `pedgpt serve`: open (migrate, recover)
    the database — first, so a bad URL fails before a long model load — load the model, build
    the page, serve it until interrupted."""
    from pedgpt.engine import load_engine
    from pedgpt.storage import open_database
    from ui.layout import build_demo

    check_bind(host, settings.auth)  # before any slow start-up work
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
