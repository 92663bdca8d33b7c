"""DataBuildConfig validation and YAML loading, and the small pure helpers of the data builder."""

from __future__ import annotations

import pytest

from pedgpt.errors import InputError
from train.data.answers import AnswerParts
from train.data.config import DataBuildConfig
from train.data.cpt import completion_text
from train.data.records import Example, validate
from train.data.text import approx_tokens, clean_values, join_items, rng_for


def test_defaults_and_paths(tmp_path):
    config = DataBuildConfig(out_dir=str(tmp_path / "d"))
    assert config.out_dir == tmp_path / "d"
    assert config.cpt_ratio == 1.0 and config.limit is None and config.seed == 0
    assert config.per_task(10_000) == 10_000
    assert DataBuildConfig(out_dir=tmp_path, limit=7).per_task(100) == 7


@pytest.mark.parametrize("field,value", [
    ("limit", 0), ("seed", -1), ("cpt_ratio", -0.5), ("eval_fraction", 0.9), ("en_share", 1.5),
    ("system_prompt", "always"), ("phrasings_per_question", 0), ("limit", 2.5), ("seed", True),
])
def test_invalid_values_raise_input_error(tmp_path, field, value):
    with pytest.raises(InputError, match=field):
        DataBuildConfig(out_dir=tmp_path, **{field: value})


def test_from_yaml_with_overrides_and_data_block(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text("data:\n  out_dir: x\n  seed: 3\n  cpt_ratio: 0.5\n", encoding="utf-8")
    config = DataBuildConfig.from_yaml(path, seed=9, limit=None)
    assert (config.seed, config.cpt_ratio, str(config.out_dir)) == (9, 0.5, "x")


def test_from_yaml_rejects_unknown_keys_and_bad_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("out_dir: x\nsed: 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="sed"):
        DataBuildConfig.from_yaml(path)
    path.write_text("out_dir: [x\n", encoding="utf-8")
    with pytest.raises(InputError, match="YAML"):
        DataBuildConfig.from_yaml(path)
    with pytest.raises(InputError, match="not found"):
        DataBuildConfig.from_yaml(tmp_path / "missing.yaml")


def test_seeded_rng_is_stable_and_independent():
    assert rng_for(1, "a").random() == rng_for(1, "a").random()
    assert rng_for(1, "a").random() != rng_for(1, "b").random()
    assert rng_for(1, "a").random() != rng_for(2, "a").random()


def test_clean_values_normalises_knowledge_graph_noise():
    assert clean_values([" 发热 ", "发热等", "烦渴等", "烦渴", "", "小儿腹泻", "x" * 50], exclude="小儿腹泻") == \
        ["发热", "烦渴"]
    assert join_items(["a", "b", "c"], "en") == "a, b and c"
    assert join_items(["甲", "乙", "丙"], "zh") == "甲、乙和丙"
    assert approx_tokens("小儿 fever 38.5度！") == 6


def test_weaker_answer_variants_drop_empathy_and_safety_net():
    parts = AnswerParts("您好，理解您的担心。", "X的表现有：\n1. 发热\n2. 咳嗽\n3. 皮疹\n4. 呕吐",
                        ["须就医。"], "如孩子抽搐请拨打120。")
    assert "120" in parts.full() and "您好" in parts.full()
    assert parts.terse("zh") == "X的表现有：发热、咳嗽和皮疹。"
    assert "120" not in parts.without_safety() and "您好" not in parts.without_safety()


def test_completion_text_format():
    example = Example(task="diag", source="t", language="zh", messages=[
        {"role": "system", "content": "sys"}, {"role": "user", "content": "问1"},
        {"role": "assistant", "content": "答1"}, {"role": "user", "content": "问2"},
        {"role": "assistant", "content": "答2"}])
    assert completion_text(example) == "问题：问1\n回答：答1\n问题：问2\n回答：答2"
    example.language = "en"
    assert completion_text(example).startswith("Question: 问1\nAnswer: 答1")


@pytest.mark.parametrize("kind,record", [
    ("sft", {"messages": [{"role": "user", "content": "q"}], "task": "kqa", "source": "s"}),
    ("sft", {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
             "task": "nope", "source": "s"}),
    ("dfpo", {"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}],
              "rejected": [{"role": "assistant", "content": "a"}], "task": "kqa", "rejection_kind": "terse"}),
    ("eval", {"id": "1", "task": "kqa", "messages": [{"role": "user", "content": "q"},
                                                     {"role": "assistant", "content": "a"}],
              "reference": "r", "disease": "d"}),
    ("cpt", {"text": "  "}),
])
def test_schema_rejects_malformed_records(kind, record):
    with pytest.raises(InputError):
        validate(kind, record)


def test_schema_accepts_well_formed_records():
    validate("dfpo", {"prompt": [{"role": "user", "content": "q"}],
                      "chosen": [{"role": "assistant", "content": "good"}],
                      "rejected": [{"role": "assistant", "content": "bad"}],
                      "task": "kqa", "rejection_kind": "terse"})
    validate("eval", {"id": "kqa-00001", "task": "diag", "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "ask"},
        {"role": "user", "content": "more"}], "reference": "r", "disease": "d"})


def test_example_config_lists_every_field_with_its_default():
    import dataclasses

    import yaml

    from pedgpt.paths import asset

    path = asset("data", "build.example.yaml")
    listed = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(DataBuildConfig)} - {"extra"}
    assert set(listed) == fields
    example, default = DataBuildConfig.from_yaml(path), DataBuildConfig(out_dir="runs/data")
    assert example.to_dict() == default.to_dict()


def _subject(name, symptoms, extra=()):
    from train.data.knowledge import FactRef, Subject

    facts = {"常见症状": [FactRef(f"{name}-{i}", "常见症状", v) for i, v in enumerate(symptoms)]}
    if extra:
        facts["并发症"] = [FactRef(f"{name}-c{i}", "并发症", v) for i, v in enumerate(extra)]
    return Subject(name=name, kind="disease", facts=facts)


def test_split_holds_out_only_names_mentioned_nowhere_else():
    from train.data.split import split_subjects

    lonely = _subject("甲乙丙病", ["发热", "咳嗽", "皮疹"])
    mentioned = _subject("丁戊己病", ["发热", "呕吐", "腹泻"])
    other = _subject("庚辛壬病", ["发热", "咳嗽", "气促"], extra=["丁戊己病"])
    split = split_subjects([lonely, mentioned, other], fraction=0.5, min_facts=3, seed=0)
    assert split.eligible == 2  # "丁戊己病" appears in another disease's facts
    assert [s.name for s in split.held_out] in (["甲乙丙病"], ["庚辛壬病"])
    assert {s.name for s in split.train} | {s.name for s in split.held_out} == {
        "甲乙丙病", "丁戊己病", "庚辛壬病"}


def test_leakage_report_detects_held_out_names_and_fact_ids():
    from train.data.split import Split, leakage_report

    held = _subject("甲乙丙病", ["发热", "咳嗽", "皮疹"])
    kept = _subject("庚辛壬病", ["发热", "咳嗽", "气促"])
    split = Split(train=[kept], held_out=[held], eligible=2, terms={"甲乙丙病": ["甲乙丙病"]})
    clean = Example(task="kqa", source="s", messages=[], subject="庚辛壬病", fact_ids=kept.fact_ids())
    assert leakage_report(split, [clean], ["庚辛壬病常见发热"])["ok"] is True
    report = leakage_report(split, [clean], ["问：甲乙丙病？答：…甲乙丙病"])
    assert report["ok"] is False and report["held_out_names_in_training_text"] == {"甲乙丙病": 2}
    leaky = Example(task="kqa", source="s", messages=[], subject="x", fact_ids=held.fact_ids()[:1])
    assert leakage_report(split, [leaky], [])["held_out_fact_ids_in_training"] == 1
