"""DFPO file order (train.data.dfpo.kind_interleaved): every prefix a CPU recipe trains on holds
each (rejection kind, language) about equally, so the rare safety kinds are in it."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from train.data.dfpo import kind_interleaved


def _pair(kind: str, number: int, language: str) -> dict:
    question = f"question {number}?" if language == "en" else f"问题{number}是什么？"
    return {"prompt": [{"role": "user", "content": question}],
            "chosen": [{"role": "assistant", "content": "good"}],
            "rejected": [{"role": "assistant", "content": "bad"}],
            "task": "kqa", "rejection_kind": kind}


def _key(pair: dict) -> tuple[str, str]:
    return pair["rejection_kind"], "en" if pair["prompt"][0]["content"].startswith("question") else "zh"


def test_every_prefix_is_balanced_and_nothing_is_lost():
    pairs = ([_pair("terse", i, "zh") for i in range(500)] + [_pair("terse", i, "en") for i in range(60)]
             + [_pair("unsafe_compliance", i, "zh") for i in range(12)]
             + [_pair("wrong_dose", i, "en") for i in range(3)])
    random.Random(1).shuffle(pairs)
    ordered = kind_interleaved(pairs, random.Random(0))
    assert sorted(map(id, ordered)) == sorted(map(id, pairs))
    first = Counter(_key(p) for p in ordered[:12])
    assert first == {("terse", "zh"): 3, ("terse", "en"): 3, ("unsafe_compliance", "zh"): 3, ("wrong_dose", "en"): 3}
    # once the three dose pairs are used up, the rest rotate among the three remaining groups
    assert Counter(_key(p) for p in ordered[12:21]) == {("terse", "zh"): 3, ("terse", "en"): 3,
                                                         ("unsafe_compliance", "zh"): 3}


def test_order_is_seeded():
    pairs = [_pair(kind, i, lang) for kind in ("terse", "no_safety") for lang in ("zh", "en") for i in range(20)]
    once, again = kind_interleaved(pairs, random.Random(7)), kind_interleaved(list(pairs), random.Random(7))
    assert [id(p) for p in once] == [id(p) for p in again]
    assert [id(p) for p in once] != [id(p) for p in kind_interleaved(pairs, random.Random(8))]
    assert kind_interleaved([], random.Random(0)) == []


def test_kind_weights_give_a_group_more_places_in_every_prefix():
    pairs = [_pair(kind, i, lang) for kind in ("terse", "needless_refusal") for lang in ("zh", "en")
             for i in range(50)]
    ordered = kind_interleaved(pairs, random.Random(0), {"needless_refusal/en": 3.0, "terse": 0.5})
    assert sorted(map(id, ordered)) == sorted(map(id, pairs))
    first = Counter(_key(p) for p in ordered[:45])
    # shares 3 : 1 : 0.5 : 0.5 of 5 → 27, 9, 4.5, 4.5 of 45 ("kind/language" beats "kind")
    assert abs(first[("needless_refusal", "en")] - 27) <= 1 and abs(first[("needless_refusal", "zh")] - 9) <= 1
    assert abs(first[("terse", "zh")] - 4.5) <= 1 and abs(first[("terse", "en")] - 4.5) <= 1
    assert kind_interleaved(list(pairs), random.Random(0), {}) == kind_interleaved(list(pairs), random.Random(0))


def test_bad_kind_weights_are_refused_with_the_entry_named(tmp_path):
    from pedgpt.errors import InputError
    from train.data.config import DataBuildConfig

    assert DataBuildConfig(out_dir=tmp_path, dfpo_kind_weights={"needless_refusal/en": 3}).dfpo_kind_weights == {
        "needless_refusal/en": 3.0}
    for bad, named in (({"refusal": 2}, "'refusal'"), ({"terse/fr": 2}, "'terse/fr'"), ({"terse/": 2}, "'terse/'"),
                       ({"terse": 0}, "'terse'"), ({"terse": "lots"}, "'terse'"), (["terse"], "mapping")):
        with pytest.raises(InputError, match=f"dfpo_kind_weights.*{named}"):
            DataBuildConfig(out_dir=tmp_path, dfpo_kind_weights=bad)
