"""Settings from the environment, the CLI dispatcher's error contract, prompts."""

import json
import subprocess
import sys

import pytest

from pedgpt.config import Settings
from pedgpt.errors import InputError
from pedgpt.prompts import system_prompt


def test_settings_defaults_and_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path))
    monkeypatch.setenv("PEDGPT_MODE", "parent")
    monkeypatch.delenv("PEDGPT_DB_URL", raising=False)
    settings = Settings.from_env()
    assert settings.mode == "parent" and settings.backend == "auto" and settings.model is None
    assert settings.db_url == f"sqlite:///{tmp_path / 'pedgpt.db'}"
    assert Settings.from_env(mode="clinician").mode == "clinician"


@pytest.mark.parametrize("env, value", [("PEDGPT_BACKEND", "cuda-magic"), ("PEDGPT_MODE", "doctor"),
                                        ("PEDGPT_AUTH", "maybe")])
def test_bad_settings_raise(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(InputError):
        Settings.from_env()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pedgpt", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args", [["ask", "   "], ["ask", "hi", "--weight-kg", "abc"],
                                  ["ask", "hi", "--backend", "tpu"], ["no-such-command"]])
def test_cli_errors_are_one_line_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_system_prompt_carries_patient_facts_and_triage():
    text = system_prompt("consult", "zh", ["年龄：1岁6个月"], [{"marker": "F1", "text": "发热 — 就诊科室: 儿科"}],
                         "emergency", "抽搐")
    assert "年龄：1岁6个月" in text and "[F1] 发热" in text and "120" in text and "\n\n\n" not in text
    english = system_prompt("medicate", "en", [], [], "routine", "", "parent")
    assert "Answer in English" in english and "No reference knowledge" in english
    assert "no prescription-drug doses" in english


def test_unknown_task_rejected():
    with pytest.raises(InputError):
        system_prompt("surgery", "zh")


def test_stdout_to_stderr_keeps_json_output_clean():
    """Prints and raw writes to file descriptor 1 inside the block land on stderr."""
    code = ("import os, sys\n"
            "from pedgpt.cli.common import emit_json, stdout_to_stderr\n"
            "with stdout_to_stderr():\n"
            "    print({'loss': 1.0})\n"
            "    os.write(1, b'[WARNING] from C code\\n')\n"
            "emit_json({'ok': True})\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True}
    assert "{'loss': 1.0}" in result.stderr and "[WARNING] from C code" in result.stderr


def test_ask_safety_summary_lists_the_rules_stated_to_the_model(capsys):
    from pedgpt.assistant import AnswerResult
    from pedgpt.cli.ask import print_checks

    result = AnswerResult(answer="不建议。", language="zh", task="consult",
                          triage={"level": "routine", "flags": []},
                          blocked_requests=[{"drug_id": "aspirin", "drug": "阿司匹林", "rule_id": "CI-1",
                                             "rule": "16岁以下禁用阿司匹林", "source": "MHRA"}])
    print_checks(result)
    out = capsys.readouterr().out
    assert "阿司匹林: 16岁以下禁用阿司匹林 [CI-1; MHRA]" in out
