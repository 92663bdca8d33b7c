"""Child process of test_rel_crash.py: start migrating a database, then stop dead in the middle
(after the second CREATE TABLE) so that the test can kill -9 it there.

    python rel_migration_child.py DB_URL MARKER_FILE
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from pedgpt.storage import Database  # noqa: E402

URL, MARKER = sys.argv[1], Path(sys.argv[2])
created: list[str] = []


@event.listens_for(Engine, "after_cursor_execute")
def _pause_mid_migration(conn, cursor, statement, parameters, context, executemany) -> None:
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created.append(statement)
        if len(created) == 2:
            MARKER.write_text(statement)
            time.sleep(600)  # the test kills us here


Database(URL).migrate()
