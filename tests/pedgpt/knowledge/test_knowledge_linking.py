"""Entity linking: colloquial and formal Chinese, English, aliases, and text with no entity."""

from __future__ import annotations

from pedgpt.knowledge import link_entities


def _names(text, index):
    return [(item.name, item.via) for item in link_entities(text, index)]


def test_colloquial_chinese(tiny_index):
    found = link_entities("孩子拉肚子两天了，还发烧", tiny_index)
    assert [(f.name, f.kind) for f in found] == [("腹泻", "disease"), ("发热", "symptom")]
    assert found[0].surface == "拉肚子" and found[0].via == "alias"
    assert found[1].surface == "发烧" and found[1].via == "colloquial"
    text = "孩子拉肚子两天了，还发烧"
    assert all(text[f.start:f.end] == f.surface for f in found)


def test_colloquial_symptoms_only(tiny_index):
    names = [f.name for f in link_entities("宝宝吐奶，没精神，耳朵疼，流鼻涕", tiny_index)]
    assert names == ["呕吐", "精神萎靡", "耳痛", "流涕"]


def test_formal_name_and_longest_match(tiny_index):
    found = link_entities("小儿腹泻需要做粪便检查吗", tiny_index)
    assert found[0].name == "小儿腹泻" and found[0].via == "name" and found[0].pediatric
    assert "腹泻" not in [f.name for f in found]  # the longer entity wins over its part


def test_pediatric_prefix_alias(tiny_index):
    found = link_entities("小儿急性中耳炎怎么治疗？", tiny_index)
    assert [(f.name, f.via) for f in found] == [("儿童急性中耳炎", "alias")]


def test_english_terms(tiny_index):
    found = link_entities("My daughter has fever, diarrhea and acute otitis media", tiny_index)
    assert [(f.name, f.via) for f in found] == [("发热", "english"), ("腹泻", "english"),
                                                ("儿童急性中耳炎", "english")]
    assert found[2].surface == "acute otitis media"


def test_mixed_language(tiny_index):
    names = [f.name for f in link_entities("3岁孩子 cough 三天，伴有发热", tiny_index)]
    assert names == ["发热", "咳嗽"] or names == ["咳嗽", "发热"]


def test_text_without_medical_entities(tiny_index):
    assert link_entities("今天天气很好，我们去公园玩。", tiny_index) == []
    assert link_entities("The weather is nice and we all went to the park.", tiny_index) == []
    assert link_entities("", tiny_index) == []


def test_duplicates_collapse(tiny_index):
    found = link_entities("发烧，发热，还是发烧", tiny_index)
    assert [f.name for f in found] == ["发热"]
