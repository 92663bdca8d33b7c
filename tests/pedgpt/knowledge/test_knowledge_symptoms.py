"""Symptom normalisation (pure functions over the curated tables)."""

from __future__ import annotations

from pedgpt.knowledge import symptoms
from pedgpt.knowledge.classify import age_bands, drug_stem, stem

VOCAB = frozenset({"发热", "呕吐", "恶心", "嗜睡", "昏迷", "喘息", "腹痛", "蛋白尿", "水肿", "咳嗽"})


def test_pieces_split_lists_and_trim_fragments():
    assert symptoms.pieces("恶心、呕吐") == ["恶心", "呕吐"]
    assert symptoms.pieces("嗜睡甚至昏迷") == ["嗜睡", "昏迷"]
    assert symptoms.pieces("腹痛等") == ["腹痛"]
    assert symptoms.pieces("眼充血（结膜炎）") == ["眼充血", "结膜炎"]


def test_canonical_synonyms_and_lay_words():
    assert symptoms.canonical("发烧") == "发热"
    assert symptoms.canonical("拉肚子") == "腹泻"
    assert symptoms.canonical("声嘶") == "声音嘶哑"
    assert symptoms.canonical("ＣＲＰ") == "CRP"  # NFKC


def test_expand_specific_implies_general_with_less_weight():
    forms = symptoms.expand("高热", VOCAB, VOCAB)
    assert forms["高热"] == 1.0 and 0 < forms["发热"] < 1.0
    assert symptoms.expand("干咳", VOCAB, VOCAB)["咳嗽"] < 1.0


def test_expand_phrases_but_not_negations_or_known_terms():
    assert "喘息" in symptoms.expand("反复发作的喘息", VOCAB, VOCAB)
    assert "发热" not in symptoms.expand("无发热", VOCAB, VOCAB)
    heads = VOCAB | {"急促"}
    assert set(symptoms.expand("大量蛋白尿", VOCAB | {"大量蛋白尿"}, heads)) >= {"大量蛋白尿", "蛋白尿"}


def test_fragments_are_never_findings():
    assert symptoms.primary_terms("呼吸、心跳急促") == ["心跳急促"]
    assert symptoms.expand("手", VOCAB, VOCAB) == {}


def test_age_bands_from_population_words_and_numbers():
    assert age_bands("新生儿") == [(0, 2, True)]
    assert age_bands("2岁以下婴幼儿") == [(0, 24, True)]
    assert age_bands("6月至3岁儿童") == [(6, 47, True)]
    assert age_bands("学龄前儿童") == [(36, 84, True)]
    assert age_bands("老年人")[0][2] is False


def test_name_stems():
    assert stem("小儿腹泻") == "腹泻" and stem("新生儿黄疸") == "黄疸" and stem("腹泻") == "腹泻"
    assert drug_stem("阿莫西林胶囊") == "阿莫西林"
    assert drug_stem("布洛芬混悬液") == "布洛芬"
    assert drug_stem("腹泻") == ""
