"""`pedgpt triage` and `pedgpt dose`: output, JSON shapes, one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from pedgpt.cli import main


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path))
    monkeypatch.delenv("PEDGPT_MODE", raising=False)


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors exit through SystemExit(2)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_safety_cli_triage_json(capsys):
    code, out, _ = run(capsys, "triage", "3周宝宝发烧38.2度", "--json")
    data = json.loads(out)
    assert code == 0 and data["level"] == "emergency" and data["language"] == "zh"
    assert {"id", "text", "source"} <= set(data["flags"][0]) and "120" in data["advice"]


def test_safety_cli_triage_text_and_overrides(capsys):
    code, out, _ = run(capsys, "triage", "fever and cough", "--age-months", "4", "--temp-c", "39.2")
    assert code == 0 and "URGENT" in out and "NICE-AMBER-INFANT-FEVER" in out


def test_safety_cli_dose_json(capsys):
    code, out, _ = run(capsys, "dose", "美林", "--weight-kg", "12", "--age-months", "24", "--json")
    data = json.loads(out)
    assert code == 0 and data["drug"] == "ibuprofen" and data["allowed"]
    assert data["per_dose_mg"] == {"min": 60.0, "max": 120.0} and data["sources"]


def test_safety_cli_dose_contraindicated(capsys):
    code, out, _ = run(capsys, "dose", "aspirin", "--weight-kg", "10", "--age-months", "12", "--json")
    data = json.loads(out)
    assert code == 0 and data["allowed"] is False and "Reye" in data["reason"]


def test_safety_cli_dose_text(capsys):
    code, out, _ = run(capsys, "dose", "ORS", "--weight-kg", "10", "--age-months", "18", "--indication",
                       "some dehydration")
    assert code == 0 and "750" in out


@pytest.mark.parametrize("argv,needle", [
    (("dose", "paracetamoll", "--weight-kg", "12", "--age-months", "24"), "paracetamol"),
    (("dose", "paracetamol", "--weight-kg", "0", "--age-months", "24"), "weight"),
    (("dose", "paracetamol", "--weight-kg", "151", "--age-months", "200"), "weight"),
    (("dose", "paracetamol", "--weight-kg", "12", "--age-months", "-1"), "age"),
    (("dose", "paracetamol", "--weight-kg", "12", "--age-months", "217"), "age"),
    (("dose", "paracetamol", "--weight-kg", "60", "--age-months", "12"), "implausible"),
    (("dose", "paracetamol", "--weight-kg", "twelve", "--age-months", "24"), "number"),
    (("triage", "fever", "--age-months", "abc"), "number"),
    (("triage", "   "), "empty"),
])
def test_safety_cli_bad_input(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
