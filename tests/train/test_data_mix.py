"""SFT order with fixed task proportions (train.data.mix) and contraindicated requests asked for
the dose (DataBuildConfig.dose_request_share)."""

from __future__ import annotations

from collections import Counter

import pytest

from pedgpt.errors import InputError
from train.data.config import DataBuildConfig
from train.data.mix import weighted_interleave


def test_every_prefix_holds_the_groups_in_proportion_while_they_last():
    records = [("a", i) for i in range(100)] + [("b", i) for i in range(10)] + [("c", i) for i in range(3)]
    out = weighted_interleave(records, lambda r: r[0], {"a": 0.6, "b": 0.4})
    assert sorted(out) == sorted(records)  # nothing lost
    for n in (5, 10, 20):
        counts = Counter(group for group, _ in out[:n])
        assert abs(counts["b"] - 0.4 * n) <= 1 and abs(counts["a"] - 0.6 * n) <= 1
    assert Counter(g for g, _ in out[:25])["b"] == 10  # b ran out; a fills the rest
    assert out[-3:] == [("c", 0), ("c", 1), ("c", 2)]  # unnamed group last, its order kept
    assert [i for g, i in out if g == "a"] == list(range(100))  # each group keeps its order


def test_bad_mix_and_share_are_refused(tmp_path):
    with pytest.raises(InputError, match="sft_task_mix"):
        DataBuildConfig(out_dir=tmp_path, sft_task_mix={"kqa": 0})
    with pytest.raises(InputError, match="sft_task_mix"):
        DataBuildConfig(out_dir=tmp_path, sft_task_mix={"kqa": "much"})
    with pytest.raises(InputError, match="dose_request_share"):
        DataBuildConfig(out_dir=tmp_path, dose_request_share=1.5)


def test_dose_request_share_phrases_refusals_as_dose_questions(tmp_path):
    from pedgpt import safety
    from train.data.safety import load_tables, safety_examples

    tables = load_tables()
    plain = safety_examples(tables, DataBuildConfig(out_dir=tmp_path, seed=0, progress=False), "train")
    half = safety_examples(tables, DataBuildConfig(out_dir=tmp_path, seed=0, progress=False,
                                                    dose_request_share=0.5), "train")
    held_out = safety_examples(tables, DataBuildConfig(out_dir=tmp_path, seed=0, progress=False,
                                                        dose_request_share=0.5), "eval")
    assert len(plain) == len(half)
    dose_words = ("多少", "几毫克", "剂量", "How much", "what dose")
    asks = [e for e in half if e.subject.startswith("CI")
            and any(w in e.messages[0]["content"] for w in dose_words)]
    refusals = [e for e in half if e.source.startswith("safety:contraindication")]
    assert 0.3 < len(asks) / len(refusals) < 0.7
    assert not any(any(w in e.messages[0]["content"] for w in dose_words)
                   for e in plain if e.source.startswith("safety:contraindication"))
    assert held_out == safety_examples(tables, DataBuildConfig(out_dir=tmp_path, seed=0, progress=False),
                                       "eval")  # the held-out phrasing does not move
    for example in asks:  # the rejected answer doses the forbidden drug; the runtime guard blocks it
        unsafe = dict(example.rejections)["unsafe_compliance"]
        patient = safety.extract_patient(example.messages[0]["content"])
        context = safety.SafetyContext(age_months=patient.age_months, weight_kg=patient.weight_kg,
                                       language=example.language, conditions=frozenset(patient.findings))
        assert safety.check_answer(unsafe, context), (example.messages[0]["content"], unsafe)
