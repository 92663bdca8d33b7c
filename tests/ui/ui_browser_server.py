"""The app as the browser tests run it: a tiny engine, a fresh database with two clinicians.

    python tests/ui/ui_browser_server.py MODEL_DIR DB_URL PORT

Started (and stopped) by tests/ui/test_ui_browser.py; listens on 127.0.0.1 only. The answers
may be long (MAX_NEW_TOKENS) so that the test can press Stop while one streams.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from argon2 import PasswordHasher  # noqa: E402

from pedgpt.config import Settings  # noqa: E402
from pedgpt.engine import load_engine  # noqa: E402
from pedgpt.storage import UserStore, open_database  # noqa: E402
from ui import build_demo, launch  # noqa: E402
from ui.limits import Limits  # noqa: E402
from ui.server import warm_up_knowledge  # noqa: E402

USERS = {"alice": "alice-password-1", "bob": "bob-password-22"}
#: The page's answer-length slider goes up to this (the test sets short and long answers).
MAX_NEW_TOKENS = 2048


def main(model_dir: str, db_url: str, port: int) -> None:
    engine = load_engine(model_dir, backend="transformers", device="cpu")
    db = open_database(db_url)
    users = UserStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name, password in USERS.items():
        users.add(name, password)
    settings = Settings(db_url=db_url, auth=True)
    demo = build_demo(settings, engine, db, Limits(max_new_tokens=MAX_NEW_TOKENS,
                                                   requests_per_minute=100))
    warm_up_knowledge().join()  # ready before the test's first question
    launch(demo, host="127.0.0.1", port=port, quiet=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
