"""`pedgpt serve` — start the web app (the same start-up as `python app.py`).

    pedgpt serve                                   # http://127.0.0.1:7860, login required
    pedgpt serve --port 8080 --db postgresql+psycopg2://user:pw@host/pedgpt --mode parent

Flags override the PEDGPT_* environment variables; gradio (`ui`) is imported only here.
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import number
from pedgpt.config import BACKENDS, MODES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=number(int, "--port"), default=7860, help="default 7860")
    p.add_argument("--model", help="pedgpt-0.5b (the default), pedgpt-0.5b-moe, base, or a model "
                                   "file/folder (default: PEDGPT_MODEL)")
    p.add_argument("--backend", choices=BACKENDS, help="default: PEDGPT_BACKEND or auto")
    p.add_argument("--db", help="SQLAlchemy database URL (default: PEDGPT_DB_URL or SQLite)")
    p.add_argument("--mode", choices=MODES, help="default: PEDGPT_MODE or clinician")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pedgpt.config import Settings
    from pedgpt.errors import InputError

    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, got {args.port}")
    settings = Settings.from_env(model=args.model, backend=args.backend, db_url=args.db,
                                 mode=args.mode)
    from ui import serve

    serve(settings, host=args.host, port=args.port)
    return 0
