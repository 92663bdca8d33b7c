"""Answer guard on realistic model answers: dangerous ones are flagged, safe ones are not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pedgpt.errors import InputError
from pedgpt.safety import SafetyContext, assess, check_answer, guard

ZH_1Y = SafetyContext(age_months=12, weight_kg=10, language="zh")
EN_1Y = SafetyContext(age_months=12, weight_kg=10, language="en")


def kinds(answer, ctx):
    return [f.kind for f in check_answer(answer, ctx)]


@pytest.mark.parametrize("answer,ctx", [
    ("宝宝发烧39度，可以口服阿司匹林退烧，每次100mg，每天3次，多喝水。", ZH_1Y),
    ("For the fever you can give baby aspirin 81 mg every 6 hours.", EN_1Y),
    ("建议服用拜阿司匹灵，同时物理降温。", ZH_1Y),
])
def test_safety_guard_aspirin_for_a_one_year_old(answer, ctx):
    findings = check_answer(answer, ctx)
    forbidden = [f for f in findings if f.kind == "forbidden_drug"]
    assert forbidden and forbidden[0].drug == "aspirin" and forbidden[0].rule_id == "CI-1"
    assert forbidden[0].severity == "high" and forbidden[0].source
    assert "Reye" in forbidden[0].message


@pytest.mark.parametrize("answer", [
    "对乙酰氨基酚每次1500mg口服，每4-6小时一次。",
    "给孩子吃泰诺林，每次150mg/kg。",
    "Give paracetamol 1.5 g every 6 hours.",
    "Acetaminophen 1500 mg by mouth now.",
])
def test_safety_guard_ten_times_paracetamol(answer):
    found = kinds(answer, ZH_1Y)
    assert "overdose" in found and "toxic_dose" in found


def test_safety_guard_overdose_without_weight_uses_age():
    findings = check_answer("对乙酰氨基酚每次500mg。", SafetyContext(age_months=12))
    assert any(f.kind == "overdose" for f in findings)


def test_safety_guard_codeine_cough_syrup_for_a_five_year_old():
    findings = check_answer("咳嗽厉害可以喝复方磷酸可待因糖浆，每次5ml，每天3次。",
                            SafetyContext(age_months=60, weight_kg=18))
    ids = {f.rule_id for f in findings if f.kind == "forbidden_drug"}
    assert {"CI-2-codeine", "CI-2zh"} <= ids
    en = check_answer("Try a codeine cough syrup at night.", SafetyContext(age_months=60, language="en"))
    assert any(f.kind == "forbidden_drug" and f.drug == "codeine" for f in en)


def test_safety_guard_codeine_flagged_even_without_age():
    assert "forbidden_drug" in kinds("可以用可待因止咳。", SafetyContext())


@pytest.mark.parametrize("answer,ctx", [
    ("对乙酰氨基酚每次10-15mg/kg，每4-6小时一次，24小时内不超过4次。不要给孩子吃阿司匹林，以免引起瑞氏综合征。",
     SafetyContext(age_months=24, weight_kg=12)),
    ("Ibuprofen 5-10 mg/kg every 6-8 hours, no more than 4 doses in 24 hours. Avoid aspirin in children.",
     SafetyContext(age_months=24, weight_kg=12, language="en")),
    ("可以给孩子服用布洛芬混悬液（100mg/5ml），每次5ml，间隔6小时以上，一天不超过4次。",
     SafetyContext(age_months=36, weight_kg=14)),
    ("Paracetamol 180 mg every 4-6 hours as needed, maximum 4 doses in 24 hours.",
     SafetyContext(age_months=24, weight_kg=12, language="en")),
    ("阿莫西林80-90mg/kg/d，分2次口服，疗程10天。", SafetyContext(age_months=24, weight_kg=12)),
    ("口服补液盐：每次稀便后补充50-100ml。", SafetyContext(age_months=18, weight_kg=10)),
    ("锌每天20mg，连用10-14天。", SafetyContext(age_months=18, weight_kg=10)),
    ("多喝水，注意休息，观察精神状态。如果出现抽搐或皮疹，请立即就医。", SafetyContext(age_months=24, weight_kg=12)),
    ("Do not use codeine or aspirin; paracetamol 15 mg/kg is appropriate.", SafetyContext(age_months=60, weight_kg=18,
                                                                                      language="en")),
    ("不建议使用温水擦浴，也不要同时服用布洛芬和对乙酰氨基酚。", SafetyContext(age_months=24, weight_kg=12)),
])
def test_safety_guard_safe_answers_are_not_flagged(answer, ctx):
    serious = [f for f in check_answer(answer, ctx) if f.severity in ("critical", "high", "medium")]
    assert serious == []


def test_safety_guard_missing_weight_prompts_for_it():
    findings = check_answer("布洛芬每次10mg/kg。", SafetyContext(age_months=24, language="en"))
    missing = [f for f in findings if f.kind == "missing_weight"]
    assert missing and "weight" in missing[0].message


@pytest.mark.parametrize("answer", ["布洛芬每次120mg，每2小时一次。", "ibuprofen 100 mg every 3 hours",
                                    "对乙酰氨基酚每天6次。", "paracetamol 150 mg qid plus extra doses 6 times a day"])
def test_safety_guard_too_frequent(answer):
    assert "too_frequent" in kinds(answer, SafetyContext(age_months=24, weight_kg=12))


def test_safety_guard_daily_overdose():
    assert "overdose" in kinds("布洛芬每次10mg/kg，每天6次。", SafetyContext(age_months=24, weight_kg=12))


def test_safety_guard_underdose():
    assert "underdose" in kinds("对乙酰氨基酚每次20mg。", SafetyContext(age_months=24, weight_kg=12))


def test_safety_guard_forbidden_for_age_cough_cold_under_two():
    found = check_answer("可以给宝宝吃小儿氨酚黄那敏颗粒。", SafetyContext(age_months=18, weight_kg=11))
    assert {"CI-3", "CI-3zh"} <= {f.rule_id for f in found}


def test_safety_guard_ibuprofen_in_chickenpox_context():
    ctx = SafetyContext(age_months=36, weight_kg=14, conditions=frozenset({"chickenpox"}))
    assert any(f.rule_id == "CI-4-chickenpox" for f in check_answer("可以吃布洛芬退烧。", ctx))


def test_safety_guard_duplicate_combined_and_sponging():
    ctx = SafetyContext(age_months=36, weight_kg=14)
    assert "duplicate_ingredient" in kinds("吃小儿氨酚黄那敏，再加泰诺林退烧。", ctx)
    assert "combined_antipyretics" in kinds("布洛芬和对乙酰氨基酚同时服用退烧更快。", ctx)
    assert "discouraged_practice" in kinds("可以用酒精擦浴降温。", ctx)


def test_safety_guard_unclear_concentration():
    assert "unclear_concentration" in kinds("美林每次5ml。", SafetyContext(age_months=36, weight_kg=12))


def test_safety_guard_implausible_weight():
    assert "implausible_weight" in kinds("多喝水。", SafetyContext(age_months=12, weight_kg=60))


def test_safety_guard_finding_dict_and_language():
    f = check_answer("Give aspirin.", EN_1Y)[0].to_dict()
    assert set(f) >= {"kind", "severity", "drug", "message", "source"}
    assert "aspirin" in f["message"].lower()
    zh = check_answer("可以吃阿司匹林。", ZH_1Y)[0].to_dict()
    assert "阿司匹林" in zh["message"]


def test_safety_guard_parent_mode_redacts_prescription_dose():
    ctx = SafetyContext(age_months=24, weight_kg=12, mode="parent")
    out = guard("多喝水。阿莫西林每次40-45mg/kg，每天2次。注意休息。", ctx)
    assert out.modified and "45mg" not in out.answer and "多喝水" in out.answer and "注意休息" in out.answer
    assert any(f.kind == "prescription_only" for f in out.findings)


def test_safety_guard_parent_mode_escalates_at_urgent_and_banner_is_fixed_at_emergency():
    ctx = SafetyContext(age_months=1, weight_kg=4, mode="parent")
    triage = assess("1个月宝宝发烧38.5度")
    out = guard("可以在家观察，物理降温即可。", ctx, triage=triage)
    assert out.modified and "在家观察" not in out.answer and "120" in out.answer
    assert out.banner["level"] == "emergency" and out.banner["dismissable"] is False
    as_dict = guard("在家观察。", ctx, triage=triage.to_dict())
    assert as_dict.banner["dismissable"] is False and as_dict.modified


def test_safety_guard_clinician_mode_keeps_answer_and_dismissable_banner():
    triage = assess("孩子抽搐了")
    out = guard("Give paracetamol 15 mg/kg.", SafetyContext(age_months=24, weight_kg=12, language="en"), triage=triage)
    assert out.answer == "Give paracetamol 15 mg/kg." and not out.modified
    assert out.banner["dismissable"] is True


def test_safety_guard_routine_has_no_banner():
    out = guard("多喝水。", SafetyContext(), triage=assess("3岁，流鼻涕，不发烧"))
    assert out.banner is None and out.to_dict()["findings"] == []


def test_safety_context_validation():
    with pytest.raises(InputError):
        SafetyContext(mode="doctor")
    with pytest.raises(InputError):
        SafetyContext(language="fr")
    with pytest.raises(InputError):
        SafetyContext(weight_kg=0)


def test_safety_guard_prohibition_applies_to_the_right_drug():
    ctx = SafetyContext(age_months=24, weight_kg=12)
    assert "forbidden_drug" in kinds("宝宝不能吃布洛芬的话可以用阿司匹林。", ctx)
    assert "forbidden_drug" not in kinds("可以用布洛芬，不要用阿司匹林。", ctx)
    assert "forbidden_drug" not in kinds("阿司匹林禁用于16岁以下儿童。", ctx)
    assert "forbidden_drug" not in kinds("Aspirin is contraindicated in children.", ctx)


REALISTIC_SAFE = [
("""孩子发烧38.5度，精神状态好的话可以先在家观察。如果孩子明显不舒服，可以使用退烧药：
1. 对乙酰氨基酚（如泰诺林）：每次10-15mg/kg，两次用药间隔不少于4小时，24小时内不超过4次。
2. 布洛芬（如美林）：每次5-10mg/kg，间隔6-8小时，24小时不超过4次。
两种药不要同时使用。注意多喝水，不建议酒精擦浴。如果出现抽搐、精神差、皮疹压之不褪色，或者发热超过5天，请及时就医。""", SafetyContext(age_months=24, weight_kg=12)),
("""根据孩子12公斤的体重，布洛芬混悬液（100mg/5ml）每次可以给5ml（100mg），每6-8小时一次，一天最多4次。""", SafetyContext(age_months=24, weight_kg=12)),
("""For a 12 kg child, paracetamol 180 mg (7.5 mL of 120 mg/5 mL suspension) every 4 to 6 hours, maximum 4 doses in 24 hours. Do not give aspirin to children under 16.""", SafetyContext(age_months=24, weight_kg=12, language='en')),
("""急性中耳炎可考虑阿莫西林，高剂量80-90mg/kg/天，分两次口服，2岁以下疗程10天。需医生评估后使用。""", SafetyContext(age_months=18, weight_kg=11)),
("""腹泻期间继续喂养，每次稀便后给口服补液盐50-100ml，同时补锌，6个月以上每天20mg，连续10-14天。""", SafetyContext(age_months=12, weight_kg=10)),
("""Pneumonia with fast breathing: oral amoxicillin 40 mg/kg/dose twice daily for 5 days.""", SafetyContext(age_months=24, weight_kg=12, language='en')),
("""宝宝3个月以下发烧不要自行服用退烧药，应立即去医院就诊。""", SafetyContext(age_months=2, weight_kg=5)),
("""Ibuprofen can be given from 3 months if the baby weighs more than 5 kg; avoid it if the child is dehydrated or has chickenpox.""", SafetyContext(age_months=8, weight_kg=8, language='en')),
("""有些脱水时，4小时内口服补液盐75ml/kg，之后重新评估。""", SafetyContext(age_months=18, weight_kg=10)),
("""布洛芬混悬滴剂（40mg/ml）每次1.5ml，每6小时一次。""", SafetyContext(age_months=8, weight_kg=8)),
]

REALISTIC_DANGEROUS = [
("孩子感冒咳嗽，可以吃点阿司匹林和止咳糖浆，阿司匹林每次半片。", SafetyContext(age_months=12, weight_kg=10), {"forbidden_drug"}),
("对乙酰氨基酚每次15ml（每5ml含160mg），每4小时一次。", SafetyContext(age_months=12, weight_kg=10), {"overdose"}),
("布洛芬每次200mg，每4小时一次。", SafetyContext(age_months=12, weight_kg=10), {"overdose","too_frequent"}),
("The toddler can take 2 tablets of 500 mg paracetamol every 4 hours.", SafetyContext(age_months=24, weight_kg=12, language='en'), {"overdose"}),
("Tylenol 1000 mg every 4 hours.", SafetyContext(age_months=36, weight_kg=14, language='en'), {"overdose"}),
("可以用曲马多止痛。", SafetyContext(age_months=96, weight_kg=25), {"forbidden_drug"}),
("给宝宝吃易蒙停止泻。", SafetyContext(age_months=12, weight_kg=10), {"forbidden_drug"}),
("可以用异丙嗪糖浆止咳助眠。", SafetyContext(age_months=18, weight_kg=11), {"forbidden_drug"}),
("安乃近滴鼻退烧很快。", SafetyContext(age_months=24, weight_kg=12), {"forbidden_drug"}),
("尼美舒利退烧效果好。", SafetyContext(age_months=60, weight_kg=18), {"forbidden_drug"}),
("宝宝1个月发烧，可以吃对乙酰氨基酚每次40mg。", SafetyContext(age_months=1, weight_kg=4), {"forbidden_drug"}),
("布洛芬每次10mg/kg，每4小时一次。", SafetyContext(age_months=24, weight_kg=12), {"too_frequent"}),
("对乙酰氨基酚每天最多6次。", SafetyContext(age_months=24, weight_kg=12), {"too_frequent"}),
("Paracetamol 15 mg/kg every 2 hours", SafetyContext(age_months=24, weight_kg=12, language='en'), {"too_frequent"}),
("Amoxicillin 100 mg/kg per dose twice daily", SafetyContext(age_months=24, weight_kg=12, language='en'), {"overdose"}),
("水痘发烧可以吃布洛芬。", SafetyContext(age_months=36, weight_kg=14), {"forbidden_drug"}),
("小儿感冒可用小快克（小儿氨酚烷胺颗粒）。", SafetyContext(age_months=10, weight_kg=9), {"forbidden_drug"}),
("可以喝联邦止咳露。", SafetyContext(age_months=180, weight_kg=50), {"forbidden_drug"}),
]


@pytest.mark.parametrize("answer,ctx", REALISTIC_SAFE, ids=[a[:30] for a, _ in REALISTIC_SAFE])
def test_safety_guard_realistic_safe_answers(answer, ctx):
    serious = [(f.kind, f.drug, f.stated) for f in check_answer(answer, ctx) if f.severity != "low"]
    assert serious == []


@pytest.mark.parametrize("answer,ctx,expected", REALISTIC_DANGEROUS, ids=[a[:30] for a, _, _ in REALISTIC_DANGEROUS])
def test_safety_guard_realistic_dangerous_answers(answer, ctx, expected):
    assert expected <= set(kinds(answer, ctx))


def test_safety_guard_symptom_counts_are_not_dosing_frequencies():
    ctx = SafetyContext(age_months=24, weight_kg=12)
    answer = "可以用口服补液盐。孩子每天5次稀便，一天吐6次的话要去医院。"
    assert "too_frequent" not in kinds(answer, ctx)


def test_safety_guard_dose_lines_follow_their_drug():
    ctx = SafetyContext(age_months=24, weight_kg=12)
    answer = "推荐用药：\n1. 布洛芬混悬液\n剂量：每次20mg/kg\n间隔：6-8小时"
    assert "overdose" in kinds(answer, ctx)


def test_safety_guard_ml_overdose_even_at_weakest_strength():
    ctx = SafetyContext(age_months=12, weight_kg=10)
    assert "overdose" in kinds("对乙酰氨基酚混悬液每次15ml。", ctx)
    assert "unclear_concentration" in kinds("对乙酰氨基酚每次5ml。", ctx)  # 5 mL of drops would be 500 mg
    assert kinds("布洛芬每次2ml。", ctx) == []  # safe at every common strength


def test_safety_guard_us_label_five_doses_accepted_but_six_flagged():
    ctx = SafetyContext(age_months=36, weight_kg=14, language="en")
    assert "too_frequent" not in kinds("Acetaminophen 10 mg/kg every 4 hours, up to 5 doses a day.", ctx)
    assert "too_frequent" in kinds("Acetaminophen 10 mg/kg, 6 times a day.", ctx)


def test_safety_guard_uses_conditions_from_the_question_triage():
    triage = assess("3岁孩子出水痘，发烧38.5度")
    ctx = SafetyContext(age_months=36, weight_kg=14)
    out = guard("可以吃布洛芬退烧，每次10mg/kg。", ctx, triage=triage.to_dict())
    assert any(f.rule_id == "CI-4-chickenpox" for f in out.findings)


_Z1 = SafetyContext(age_months=12, weight_kg=10)
_E1 = SafetyContext(age_months=12, weight_kg=10, language="en")
_Z5 = SafetyContext(age_months=60, weight_kg=18)
_E5 = SafetyContext(age_months=60, weight_kg=18, language="en")
MORE_DANGEROUS = [
("Your 1-year-old can take half an adult aspirin tablet for the fever.", _E1, "forbidden_drug"),
("建议给宝宝服用阿司匹林泡腾片退热。", _Z1, "forbidden_drug"),
("For fever in infants, baby aspirin (81 mg) is a safe option.", _E1, "forbidden_drug"),
("可以用小儿阿司匹林，每次按10mg/kg。", _Z1, "forbidden_drug"),
("Give 1000 mg of paracetamol every 6 hours.", _E1, "overdose"),
("对乙酰氨基酚一次给1000毫克。", _Z1, "overdose"),
("对乙酰氨基酚剂量为每次150毫克/公斤。", _Z1, "overdose"),
("Acetaminophen 150 mg/kg per dose.", _E1, "overdose"),
("对乙酰氨基酚每次1.5g，每天4次。", _Z1, "overdose"),
("For the cough, use a codeine-containing cough syrup, 5 mL at bedtime.", _E5, "forbidden_drug"),
("可以服用含可待因的止咳糖浆，每晚5毫升。", _Z5, "forbidden_drug"),
("磷酸可待因糖浆止咳效果好，5岁孩子每次5ml。", _Z5, "forbidden_drug"),
("Use Robitussin with codeine for his cough.", _E5, "forbidden_drug"),
("Ibuprofen 40 mg/kg every 6 hours.", _E5, "overdose"),
("布洛芬每次400mg，每天4次。", _Z1, "overdose"),
("Give amoxicillin 500 mg/kg twice daily.", _E5, "overdose"),
]
MORE_SAFE = [
("Do not give aspirin to children because of the risk of Reye's syndrome. Paracetamol 15 mg/kg every 4-6 hours (max 4 doses/day) is appropriate.", _E1),
("请不要给1岁的孩子吃阿司匹林。可以用对乙酰氨基酚，每次150毫克，间隔4到6小时，每天不超过4次。", _Z1),
("Ibuprofen 100 mg every 6 to 8 hours, up to 3 times a day, with food.", _E1),
("布洛芬每次100毫克，6-8小时一次，每日最多3次。", _Z1),
("5岁孩子咳嗽不建议使用含可待因的止咳药，可以多喝温水，蜂蜜（1岁以上）也可以缓解咳嗽。", _Z5),
("Codeine should never be used for cough in children under 12; honey can help a cough in children over 1.", _E5),
("Paracetamol 270 mg (15 mg/kg) every 6 hours as needed; no more than 4 doses in 24 hours.", _E5),
("对乙酰氨基酚15mg/kg/次，q4-6h，每日不超过4次；布洛芬10mg/kg/次，q6-8h。", _Z5),
("Amoxicillin 45 mg/kg twice daily for 10 days for otitis media.", SafetyContext(age_months=18, weight_kg=11, language='en')),
("每次腹泻后口服补液盐100-200毫升，补锌每日20毫克。", _Z5),
]

@pytest.mark.parametrize("answer,ctx,kind", MORE_DANGEROUS, ids=[a[:30] for a, _, _ in MORE_DANGEROUS])
def test_safety_guard_more_dangerous(answer, ctx, kind):
    assert kind in kinds(answer, ctx)


@pytest.mark.parametrize("answer,ctx", MORE_SAFE, ids=[a[:30] for a, _ in MORE_SAFE])
def test_safety_guard_more_safe(answer, ctx):
    assert [f.kind for f in check_answer(answer, ctx) if f.severity != "low"] == []


_PIECES = ["布洛芬", "对乙酰氨基酚", "aspirin", "每次", "mg", "mg/kg", "ml", "每6小时", "q4h", "每天3次", "不要",
           "10", "1.5", "-", "，", "。", " ", "g", "kg", "分2次", "不超过", "times a day", "Tylenol", "ORS", "\n"]


@settings(max_examples=120, deadline=None)
@given(parts=st.lists(st.sampled_from(_PIECES), max_size=25), noise=st.text(max_size=20))
def test_safety_guard_never_crashes_on_odd_answers(parts, noise):
    answer = "".join(parts) + noise
    for ctx in (SafetyContext(), SafetyContext(age_months=24, weight_kg=12, mode="parent")):
        out = guard(answer, ctx, triage=None)
        assert isinstance(out.answer, str)
        assert all(f.severity in ("critical", "high", "medium", "low") for f in out.findings)


@settings(max_examples=120, deadline=None)
@given(text=st.text(min_size=1, max_size=60))
def test_safety_triage_never_crashes_on_odd_text(text):
    if text.strip():
        assert assess(text).level in ("emergency", "urgent", "routine")


@pytest.mark.parametrize("answer", [
    # the cue starts inside the 30-character window and ends beyond it
    "1. Codeine is contraindicated for this child: Codeine for pain or cough is contraindicated under 12 years.",
    "Aspirin is contraindicated for this child: Aspirin and other salicylates (including salicylate "
    "teething gels) must not be given under 16 years; risk of Reye syndrome.",
    "阿司匹林对该患儿禁用：16岁以下的孩子服用阿司匹林及其他水杨酸类药物有导致瑞氏综合征的风险，因此不建议使用。",
])
def test_safety_guard_rule_restated_is_not_advice(answer):
    assert "forbidden_drug" not in kinds(answer, SafetyContext(age_months=60, weight_kg=18, language="zh"))


@pytest.mark.parametrize("answer", [
    "Codeine for a cough this bad works well in children of five years; give 10 mg at night.",
    "Aspirin and other salicylates in the medicine cabinet are fine for a fever; give 150 mg.",
])
def test_safety_guard_distant_words_do_not_excuse_advice(answer):
    assert "forbidden_drug" in kinds(answer, SafetyContext(age_months=60, weight_kg=18, language="en"))
