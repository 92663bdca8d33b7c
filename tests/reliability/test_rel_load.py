"""Load: 8 clinicians × 5 messages at once through the public Gradio API (bench/load.py), then
a burst of 8 simultaneous answers against a queue of 3.

Run: `pytest tests/reliability/test_rel_load.py -q -s` (prints the report; ~1 min).
"""

from __future__ import annotations

import json

from rel_support import PASSWORDS, unexpected_errors

from bench.load import LoadConfig, percentile, run_load

CLIENTS, MESSAGES = 8, 5


def test_rel_load_every_message_and_answer_stored(app_server):
    accounts = [(f"clinician{i}", PASSWORDS[f"clinician{i}"]) for i in range(CLIENTS)]
    cfg = LoadConfig(CLIENTS, MESSAGES, max_new_tokens=16, burst=8, burst_tokens=96,
                     deadline_s=180)
    report = run_load(app_server.url, accounts, cfg, app_server.db_url)
    print("\nload report:", json.dumps(report, ensure_ascii=False))
    assert report["errors"] == [], report["errors"]
    assert report["messages_sent"] == report["answers_streamed"] == CLIENTS * MESSAGES
    database = report["database"]
    assert database["problems"] == [], database["problems"]
    assert database["questions_stored"] == database["answers_complete"] == CLIENTS * MESSAGES + 8
    assert database["integrity_check"] == "ok"
    assert report["ttft_p50_s"] is not None and report["ttft_p95_s"] >= report["ttft_p50_s"]
    # back-pressure: the full queue refused some answers with a clear "try again", and each
    # refused one was answered when its clinician came back
    burst = report["burst"]
    assert burst["refused_busy"] >= 1, burst
    assert all("try again" in m.lower() for m in burst["busy_messages"]), burst
    assert unexpected_errors(app_server.log_text()) == []


def test_rel_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
