"""The PedCorpus-style data build on the real knowledge graph and safety tables (small `limit`):
determinism, schemas (ours and what TRL/datasets read), split leakage, safety coverage of every
contraindication, DFPO pairs, `--limit`, and the CLI.

One knowledge index is built per module in a temporary PEDGPT_HOME (~10 s), then each build
with a small limit takes a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pedgpt.cli import main
from train.data import DataBuildConfig, build
from train.data.records import EVAL_TASKS, TASKS, read_jsonl, validate

LIMIT = 15
JSONL = ("cpt.jsonl", "sft.jsonl", "dfpo.jsonl", "moe.jsonl", *(f"eval/{t}.jsonl" for t in EVAL_TASKS))
KIND = {"cpt.jsonl": "cpt", "sft.jsonl": "sft", "dfpo.jsonl": "dfpo", "moe.jsonl": "moe"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("pedgpt-home")
        patch.setenv("PEDGPT_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def built(home, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "a"
    return build(DataBuildConfig(out_dir=out, seed=0, limit=LIMIT, progress=False))


def _records(folder: Path, name: str) -> list[dict]:
    return read_jsonl(folder / name)


def test_writes_every_file_with_valid_schema(built):
    for name in JSONL:
        records = _records(built, name)
        assert records, f"{name} is empty"
        for record in records:
            validate(KIND.get(name, "eval"), record)
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 0 and manifest["leakage_ok"] is True
    assert set(manifest["counts"]) == set(JSONL)
    assert {"stats.json", "stats.md", *JSONL} <= set(manifest["files"])
    assert (built / "lengths.png").stat().st_size > 1000
    assert "Leakage check" in (built / "stats.md").read_text(encoding="utf-8")


def test_same_seed_gives_identical_bytes(built, tmp_path):
    again = build(DataBuildConfig(out_dir=tmp_path / "b", seed=0, limit=LIMIT, progress=False))
    for name in (*JSONL, "stats.json", "stats.md", "manifest.json"):
        assert (again / name).read_bytes() == (built / name).read_bytes(), name


def test_no_held_out_disease_appears_in_training_data(built):
    held_out = {r["disease"] for t in ("kqa", "diag", "treat") for r in _records(built, f"eval/{t}.jsonl")}
    assert held_out
    stats = json.loads((built / "stats.json").read_text(encoding="utf-8"))
    assert held_out <= set(stats["held_out"])
    training = "\n".join((built / name).read_text(encoding="utf-8")
                         for name in ("cpt.jsonl", "sft.jsonl", "dfpo.jsonl", "moe.jsonl"))
    leaked = sorted(name for name in stats["held_out"] if name in training)
    assert leaked == []
    assert stats["leakage"]["ok"] and stats["leakage"]["held_out_fact_ids_in_training"] == 0


def test_every_contraindication_has_a_safety_instruction(built):
    from pedgpt.safety import tables

    rules = {rule.id for rule in tables.contraindications()}
    covered = {r["source"].rsplit(":", 1)[1] for r in _records(built, "sft.jsonl")
               if r["source"].startswith("safety:contraindication:")}
    assert rules and rules <= covered, sorted(rules - covered)
    red_flags = [r for r in _records(built, "sft.jsonl") if r["source"].startswith("safety:red_flag:")]
    assert red_flags and all("120" in r["messages"][-1]["content"] for r in red_flags)


def test_dfpo_pairs_prefer_the_complete_answer(built):
    pairs = _records(built, "dfpo.jsonl")
    kinds = {p["rejection_kind"] for p in pairs}
    assert {"terse", "no_safety"} & kinds and len(kinds) >= 3
    for pair in pairs:
        chosen, rejected = pair["chosen"][0]["content"], pair["rejected"][0]["content"]
        assert chosen != rejected
        assert pair["prompt"][-1]["role"] == "user"
        if pair["rejection_kind"] in ("terse", "no_safety"):
            assert len(rejected) < len(chosen)


def test_dfpo_has_needless_refusal_pairs_that_are_not_the_eval_items(built):
    from pedgpt.eval.answer_signals import load_markers
    from pedgpt.paths import asset

    pairs = [p for p in _records(built, "dfpo.jsonl") if p["rejection_kind"] == "needless_refusal"]
    assert pairs and {p["task"] for p in pairs} == {"benign"}
    sft_answers = {r["messages"][-1]["content"] for r in _records(built, "sft.jsonl")}
    markers = load_markers()
    eval_questions = [json.loads(line)["question"] for line in
                      asset("eval", "safety", "benign.jsonl").read_text(encoding="utf-8").splitlines()
                      if line.strip()]
    for pair in pairs:
        assert pair["chosen"][0]["content"] in sft_answers
        assert markers.refuses(pair["rejected"][0]["content"])
        assert not markers.refuses(pair["chosen"][0]["content"])
        assert not any(q in pair["prompt"][-1]["content"] for q in eval_questions)


def test_dfpo_refuses_every_contraindication_in_every_style(tmp_path):
    from train.data.phrasing import STYLES
    from train.data.safety import load_tables, refusals_in_every_style

    tables = load_tables()
    examples = refusals_in_every_style(tables, DataBuildConfig(out_dir=tmp_path, seed=0, progress=False))
    assert len(examples) == len(tables.contraindications) * len(STYLES)
    assert {(e.subject, e.style) for e in examples} == {(r.id, s) for r in tables.contraindications for s in STYLES}
    for example in examples:
        assert [kind for kind, _ in example.rejections] == ["unsafe_compliance"]
        assert example.language == ("en" if example.style == "en" else "zh")


def test_dfpo_prefix_holds_the_safety_kinds(built):
    pairs = _records(built, "dfpo.jsonl")
    assert sum(p["task"] == "safety" for p in pairs) <= LIMIT
    first = {p["rejection_kind"] for p in pairs[:24]}
    assert {"unsafe_compliance", "needless_refusal", "terse"} <= first


def test_limit_bounds_every_task(built):
    from pedgpt.safety import tables

    rules = len(tables.contraindications())
    for name in JSONL:
        counts: dict[str, int] = {}
        for record in _records(built, name):
            counts[record.get("task", "text")] = counts.get(record.get("task", "text"), 0) + 1
        for task, count in counts.items():
            bound = LIMIT if task != "safety" or name != "sft.jsonl" else max(LIMIT, rules + 20)
            if name == "cpt.jsonl":
                bound = 2 * LIMIT
            assert count <= bound, (name, task, count)
    sft_tasks = {r["task"] for r in _records(built, "sft.jsonl")}
    assert sft_tasks == set(TASKS)


def test_training_files_load_with_datasets(built):
    datasets = pytest.importorskip("datasets")
    sft = datasets.load_dataset("json", data_files=str(built / "sft.jsonl"), split="train")
    dfpo = datasets.load_dataset("json", data_files=str(built / "dfpo.jsonl"), split="train")
    assert sft.num_rows == len(_records(built, "sft.jsonl"))
    assert set(dfpo.column_names) >= {"prompt", "chosen", "rejected"}
    assert dfpo[0]["chosen"][0]["role"] == "assistant"


def test_cli_build_json_and_other_seed(home, built, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["data", "build", "--out", str(out), "--limit", str(LIMIT), "--seed", "2", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["leakage_ok"] is True and summary["seed"] == 2
    assert summary["counts"]["eval/kqa.jsonl"] <= LIMIT
    # another seed: another held-out set and other phrasings
    assert (out / "sft.jsonl").read_bytes() != (built / "sft.jsonl").read_bytes()
    other = json.loads((out / "stats.json").read_text(encoding="utf-8"))["held_out"]
    assert other != json.loads((built / "stats.json").read_text(encoding="utf-8"))["held_out"]


def test_cli_errors_are_one_line(home, tmp_path, capsys):
    assert main(["data", "build"]) == 2
    assert main(["data", "build", "--out", str(tmp_path), "--limit", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("pedgpt: error:") for line in err)


def test_sft_task_mix_orders_sft_jsonl_by_task_share(home, tmp_path):
    mix = {"safety": 0.5, "kqa": 0.5}
    out = build(DataBuildConfig(out_dir=tmp_path / "mixed", seed=0, limit=LIMIT, progress=False,
                                sft_task_mix=mix))
    tasks = [r["task"] for r in _records(out, "sft.jsonl")]
    assert tasks[:10].count("safety") == 5 and tasks[:10].count("kqa") == 5
    named = [t for t in tasks if t in mix]
    assert tasks[:len(named)] == named  # tasks outside the mix come after
