"""`pedgpt eval compare`: several runs side by side."""

from __future__ import annotations

import json

from pedgpt.cli import main
from pedgpt.eval.runner import RunConfig, run_evaluation

from eval_doubles import SPLITS, ScriptedEngine


def test_compare_two_runs_side_by_side(tmp_path, data_dir, capsys):
    perfect = {q: ref for pairs in SPLITS.values() for q, ref in pairs}
    for name, engine in (("base", ScriptedEngine()), ("sft", ScriptedEngine(script=perfect))):
        run_evaluation(RunConfig(out=tmp_path / name, tasks=("kqa", "treat", "safety"),
                                 data_dir=data_dir, limit=2), engine=engine)
    code = main(["eval", "compare", str(tmp_path / "base"), str(tmp_path / "sft"),
                 "--out", str(tmp_path / "cmp"), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in summary["runs"]] == ["base", "sft"]  # same model → folder names
    report = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert "| **base** (this run) |" in report and "| **sft** (this run) |" in report
    assert "PediatricsGPT-13B (reported in the paper)" in report and "## Safety" in report
    sft_kqa = summary["runs"][1]["scores"]["tasks"]["kqa"]["metrics"]
    assert sft_kqa["bleu-1"] == 100.0
    assert (tmp_path / "cmp" / "charts" / "kqa.png").is_file()
    assert not (tmp_path / "cmp" / "charts" / "diag.png").exists()  # no run has diag
    assert (tmp_path / "cmp" / "charts" / "safety_tradeoff.png").stat().st_size > 1000
    assert "![safety_tradeoff](charts/safety_tradeoff.png)" in report
    single = (tmp_path / "base" / "report.md").read_text(encoding="utf-8")
    assert "safety_tradeoff" not in single  # one run: no trade-off to show


def test_compare_rejects_an_unfinished_run(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    assert main(["eval", "compare", str(tmp_path / "half"), "--out", str(tmp_path / "c")]) == 2
    assert "not a finished run" in capsys.readouterr().err
