"""Differential on the tiny graph: ranking, normalisation, age filter, explainability, determinism."""

from __future__ import annotations

import pytest

from pedgpt.errors import InputError
from pedgpt.knowledge import differential
from pedgpt.knowledge.ddx import split_findings, unrecognised


def _names(cands):
    return [c.name for c in cands]


def test_typical_presentation_ranks_first(tiny_index):
    top = differential(["发热", "咳嗽", "喘息"], age_months=8, index=tiny_index)
    assert top[0].name == "毛细支气管炎"
    assert set(top[0].matched) == {"发热", "咳嗽", "喘息"}
    assert "老年性肺炎" not in _names(top)  # not pediatric


def test_colloquial_and_noisy_findings(tiny_index):
    top = differential("拉肚子,发烧,吐", age_months=14, index=tiny_index)
    assert top[0].name == "小儿腹泻"
    assert "拉肚子→腹泻" in top[0].matched


def test_specific_finding_matches_general_with_less_credit(tiny_index):
    exact = differential(["发热", "呼吸急促"], index=tiny_index)
    specific = differential(["高热", "呼吸急促"], index=tiny_index)
    assert exact[0].name == specific[0].name
    assert "高热→发热" in specific[0].matched
    assert specific[0].score < exact[0].score


def test_age_moves_neonatal_conditions_out(tiny_index):
    newborn = differential(["黄疸", "嗜睡"], age_months=0.5, index=tiny_index)
    assert newborn[0].name == "新生儿黄疸"
    school_age = differential(["黄疸", "嗜睡"], age_months=120, index=tiny_index)
    assert "新生儿黄疸" not in _names(school_age)


def test_candidate_explains_itself(tiny_index):
    cand = differential(["腹泻", "呕吐"], age_months=12, index=tiny_index)[0]
    assert cand.name == "小儿腹泻"
    assert cand.department == "儿科"
    assert cand.examinations == ("粪便检查", "血常规检查")
    assert "脱水" in cand.unmatched or "水样便" in cand.unmatched
    assert cand.facts and all(tiny_index.fact(fid) for fid in cand.facts)
    by_id = {tiny_index.fact(fid).value for fid in cand.facts}
    assert {"腹泻", "儿科", "粪便检查"} <= by_id
    data = cand.to_dict()
    assert set(data) == {"name", "score", "matched", "unmatched", "examinations", "department", "facts",
                         "contradicted"}


def test_deterministic(tiny_index):
    runs = [differential(["发热", "咳嗽"], age_months=24, index=tiny_index) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    scores = [c.score for c in runs[0]]
    assert scores == sorted(scores, reverse=True)


def test_unknown_findings(tiny_index):
    with pytest.raises(InputError, match="no match"):
        differential(["喵喵叫"], index=tiny_index)
    ranked = differential(["发热", "喵喵叫"], index=tiny_index)  # the known finding still ranks
    assert ranked
    assert unrecognised(["发热", "喵喵叫"], index=tiny_index)[0].startswith("喵喵叫")


def test_input_validation(tiny_index):
    with pytest.raises(InputError):
        differential([], index=tiny_index)
    with pytest.raises(InputError):
        differential(["发热"], age_months=-1, index=tiny_index)
    with pytest.raises(InputError):
        differential(["发热"], sex="X", index=tiny_index)
    assert len(differential(["发热"], k=2, index=tiny_index)) == 2


def test_split_findings():
    assert split_findings("发热，咳嗽、喘息;;发热") == ["发热", "咳嗽", "喘息"]
    assert split_findings(["发热", "咳嗽,流涕"]) == ["发热", "咳嗽", "流涕"]


def test_english_findings(tiny_index):
    top = differential(["fever", "cough", "wheezing"], age_months=8, index=tiny_index)
    assert top[0].name == "毛细支气管炎"
    assert "wheezing→喘息" in top[0].matched


def test_config_validation_and_effect(tiny_index):
    from pedgpt.knowledge.ddx import DifferentialConfig

    with pytest.raises(ValueError):
        DifferentialConfig(focus_weight=-1)
    with pytest.raises(ValueError):
        DifferentialConfig(age_cutoff=1.5)
    plain = differential(["发热", "咳嗽"], index=tiny_index, config=DifferentialConfig(
        focus_weight=0, name_weight=0, prior_weight=0))
    assert all(0 < c.score <= 1 for c in plain)
    # Without the extra terms the score is the plain IDF-weighted coverage: both findings covered.
    assert plain[0].score == pytest.approx(1.0)


def test_sex_only_nudges(tiny_index, monkeypatch):
    from pedgpt.knowledge import ddx

    model = ddx.model_for(tiny_index)
    target = next(d for d in model.diseases.values() if d.name == "毛细支气管炎")
    monkeypatch.setattr(target, "sex", "M")
    boy = {c.name: c.score for c in differential(["发热", "咳嗽"], sex="M", index=tiny_index)}
    girl = {c.name: c.score for c in differential(["发热", "咳嗽"], sex="f", index=tiny_index)}
    assert boy["毛细支气管炎"] > girl["毛细支气管炎"] > 0


def test_free_text_findings_are_split(tiny_index):
    assert split_findings("发热3天伴咳嗽、喘息") == ["发热3天", "咳嗽", "喘息"]
    top = differential("发热3天伴咳嗽、喘息", age_months=8, index=tiny_index)
    assert top[0].name == "毛细支气管炎" and len(top[0].matched) == 3
    assert split_findings("runny nose and cough, fever") == ["runny nose", "cough", "fever"]


def test_denied_findings_lower_diseases_that_list_them(tiny_index):
    from pedgpt.knowledge.ddx import negated

    assert negated("无发热") == "发热" and negated("no fever") == "fever" and negated("发热") is None
    plain = {c.name: c for c in differential(["咳嗽", "鼻塞"], age_months=24, index=tiny_index)}
    denied = {c.name: c for c in differential(["咳嗽", "鼻塞", "无喘息"], age_months=24, index=tiny_index)}
    assert denied["毛细支气管炎"].contradicted == ("无喘息",)
    assert denied["毛细支气管炎"].score < plain["毛细支气管炎"].score
    assert denied["儿童急性中耳炎"].score == plain["儿童急性中耳炎"].score
    with pytest.raises(InputError):
        differential(["无发热"], index=tiny_index)
    assert unrecognised(["咳嗽", "无喘息"], index=tiny_index) == []
