"""Retrieval ranking on a small clinical graph: intent → predicates, adult dosing, drug families,
symptom questions (the symptom's own entry, common and pediatric causes first), "怎么办" → 治疗."""

from __future__ import annotations

import pytest

from pedgpt.knowledge import retrieve
from pedgpt.knowledge.index import KnowledgeIndex
from pedgpt.knowledge.intent import adult_only, intent_predicates, value_quality
from pedgpt.knowledge.model import Fact

_COLD_SYMPTOMS = ["发热", "流涕", "鼻塞", "咳嗽", "喷嚏"]
GRAPH = {
    "布洛芬缓释胶囊": {
        "适应症": ["头痛", "发热"], "用法用量": ["口服", "成人，一次1粒，一日2次"],
        "不良反应": ["恶心"], "药物相互作用": ["利尿剂"],
    },
    "布洛芬颗粒": {
        "适应症": ["发热"], "禁忌": ["对阿司匹林过敏的哮喘患者禁用"],
        "注意事项": ["对本品过敏者禁用，过敏体质者慎用", "请将本品放在儿童不能接触的地方"],
        "用法用量": ["1～3岁儿童一次半袋"],
    },
    "小儿发热": {"常见病因": ["病毒感染"], "就诊科室": ["儿科"], "检查": ["血常规检查"],
                 "常见症状": ["发热", "烦躁"], "治疗": ["物理降温"]},
    "小儿感冒": {"常见症状": _COLD_SYMPTOMS, "常见病因": ["病毒"], "治疗": ["对症治疗为主，多饮水"],
                 "就诊科室": ["儿科"], "多发群体": ["婴幼儿"]},
    "小儿嗜血杆菌脑膜炎": {"常见症状": _COLD_SYMPTOMS + ["颈强直", "惊厥"], "就诊科室": ["儿科"],
                          "多发群体": ["婴幼儿"]},
    "心包切开术后综合征": {"常见症状": ["发热", "流涕", "胸痛"], "就诊科室": ["心胸外科"], "多发群体": ["儿童"]},
    "腹泻": {"常见症状": ["腹泻", "腹痛"], "相关药物": ["Tab.SMZco", "蒙脱石散"], "治疗": ["补液"]},
    "小儿腹泻": {"常见症状": ["腹泻", "呕吐", "发热"], "常见病因": ["病毒"], "相关药物": ["乳酸菌素片", "口服补液盐"],
                 "治疗": ["口服补液盐预防脱水", "继续喂养"], "就诊科室": ["儿科"], "多发群体": ["婴幼儿"]},
    "小儿肺炎": {"常见症状": ["发热", "咳嗽", "气促"], "就诊科室": ["儿科"], "检查": ["胸部X线检查"]},
    "肺炎": {"常见症状": ["发热", "咳嗽"], "药物治疗": ["抗生素"], "就诊科室": ["呼吸内科"]},
}


@pytest.fixture(scope="module")
def clinic_index(tmp_path_factory) -> KnowledgeIndex:
    return KnowledgeIndex.from_graph(GRAPH, tmp_path_factory.mktemp("kb-rank") / "clinic.sqlite")


def test_contraindication_intent_uses_the_formulation_that_has_it(clinic_index):
    facts = retrieve("布洛芬的禁忌是什么", k=4, index=clinic_index)
    assert facts[0].entity == "布洛芬颗粒" and facts[0].predicate == "禁忌"
    assert {f.predicate for f in facts} <= {"禁忌", "注意事项", "适应症", "用法用量"}
    assert any(f.predicate == "注意事项" and "禁用" in f.value for f in facts)


def test_adult_only_dosing_is_left_out_for_children(clinic_index):
    for patient in (None, {"age_months": 36}):
        facts = retrieve("布洛芬缓释胶囊怎么吃，用量多少", patient=patient, k=8, index=clinic_index)
        assert not any(f.value.startswith("成人") for f in facts)
        assert any(f.predicate == "用法用量" for f in facts)
    adult = retrieve("布洛芬缓释胶囊怎么吃，用量多少", patient={"age_months": 240}, k=8, index=clinic_index)
    assert any(f.value.startswith("成人") for f in adult)


def test_symptom_question_gives_the_symptom_entry_and_common_causes(clinic_index):
    facts = retrieve("我家宝宝1岁半，发烧了，要去医院吗？", patient={"age_months": 18}, k=8, index=clinic_index)
    entities = [f.entity for f in facts]
    assert entities[0] == "小儿发热"
    assert "心包切开术后综合征" not in entities
    assert {f.predicate for f in facts if f.entity == "小儿发热"} & {"就诊科室", "常见病因", "检查"}


def test_common_condition_outranks_a_rare_one_with_the_same_symptoms(clinic_index):
    facts = retrieve("孩子发烧还流鼻涕", patient={"age_months": 24}, k=8, index=clinic_index)
    entities = list(dict.fromkeys(f.entity for f in facts))
    assert "小儿感冒" in entities
    rare = "小儿嗜血杆菌脑膜炎"
    assert rare not in entities or entities.index("小儿感冒") < entities.index(rare)
    assert "心包切开术后综合征" not in entities


def test_what_to_do_prefers_treatment_over_drug_lists(clinic_index):
    facts = retrieve("孩子拉肚子两天了怎么办", k=6, index=clinic_index)
    assert facts[0].entity == "小儿腹泻" and facts[0].predicate == "治疗"
    assert "Tab.SMZco" not in {f.value for f in facts}
    drug_ranks = [i for i, f in enumerate(facts) if f.predicate == "相关药物"]
    treat_ranks = [i for i, f in enumerate(facts) if f.predicate == "治疗"]
    assert treat_ranks and (not drug_ranks or min(treat_ranks) < min(drug_ranks))


def test_pediatric_entry_borrows_only_missing_predicates_from_its_general_form(clinic_index):
    facts = retrieve("小儿肺炎用什么药", k=6, index=clinic_index)
    borrowed = [f for f in facts if f.entity == "肺炎"]
    assert borrowed and all(f.predicate == "药物治疗" for f in borrowed)
    assert facts[0].entity in ("小儿肺炎", "肺炎")


def test_intent_words_map_to_predicates():
    assert intent_predicates("布洛芬能不能给孩子用")[:2] == ["禁忌", "注意事项"]
    assert intent_predicates("有什么副作用")[0] == "不良反应"
    assert "适应症" not in intent_predicates("有什么副作用")
    assert intent_predicates("怎么办")[0] == "治疗"
    assert intent_predicates("挂什么科") == ["就诊科室"]
    assert intent_predicates("What is the dose?")[0] == "用法用量"


def test_value_quality_rules():
    dose = Fact("x", "d", "用法用量", "成人，一次1粒")
    assert adult_only(dose.value) and value_quality(dose, [], adult_ok=False) == 0
    assert value_quality(dose, [], adult_ok=True) > 0
    child = Fact("x", "d", "用法用量", "12岁以下儿童一次5ml")
    assert not adult_only(child.value) and value_quality(child, [], adult_ok=False) > 0.9
    caution = Fact("x", "d", "注意事项", "哮喘患者慎用")
    storage = Fact("x", "d", "注意事项", "放在阴凉处")
    assert value_quality(caution, ["禁忌"], False) > value_quality(storage, ["禁忌"], False)
    assert value_quality(Fact("x", "d", "检查", "实验室检查"), [], False) < 0.5


def test_dose_question_in_english_is_about_dosing_not_contraindications():
    predicates = intent_predicates("How much ibuprofen can I give my 3 year old?")
    assert predicates[0] == "用法用量" and "禁忌" in predicates
    assert intent_predicates("孩子得了手足口病能吃布洛芬吗")[0] == "禁忌"


def test_short_curated_english_word_links(tiny_index):
    from pedgpt.knowledge import link_entities

    names = [item.name for item in link_entities("my child has a rash and fever", tiny_index)]
    assert names[:2] == ["皮疹", "发热"]
    assert [item.name for item in link_entities("all is well", tiny_index)] == []
