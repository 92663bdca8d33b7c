"""`pedgpt serve` and `python app.py`: flags, and one-line errors (exit 2) before any model loads."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(args, **env):
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **env))


def test_serve_help_lists_the_flags():
    result = run([sys.executable, "-m", "pedgpt", "serve", "--help"])
    assert result.returncode == 0
    for flag in ("--host", "--port", "--model", "--backend", "--db", "--mode"):
        assert flag in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port must be between 1 and 65535"),
    (["--port", "abc"], "--port must be a number"),
    (["--mode", "doctor"], "invalid choice"),
])
def test_serve_bad_flags_are_one_line_errors(args, message):
    result = run([sys.executable, "-m", "pedgpt", "serve", *args])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_bad_database_url_is_a_one_line_error(tmp_path):
    result = run([sys.executable, "-m", "pedgpt", "serve", "--db", "not a url", "--model",
                  str(tmp_path / "missing.gguf")])
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_app_reports_bad_settings_without_a_traceback():
    result = run([sys.executable, "app.py"], PEDGPT_AUTH="maybe")
    assert result.returncode == 2
    assert "PEDGPT_AUTH must be 'on' or 'off'" in result.stderr and "Traceback" not in result.stderr
    result = run([sys.executable, "app.py"], GRADIO_SERVER_PORT="http")
    assert result.returncode == 2 and "GRADIO_SERVER_PORT" in result.stderr
