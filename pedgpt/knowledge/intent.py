"""What a question asks about (intent → CMeKG predicates) and how useful one fact value is for a child.

    from pedgpt.knowledge.intent import intent_predicates, value_quality
    intent_predicates("布洛芬的禁忌是什么")        # → ["禁忌", "注意事项"]
    value_quality(fact, wanted, adult_ok=False)    # 0 for "成人，一次1粒" in a pediatric consultation

Used by `pedgpt.knowledge.retrieval`; pure functions, no I/O.
"""

from __future__ import annotations

import re

from pedgpt.knowledge.model import Fact

#: Question wording → predicates it asks about (checked in order; several may apply). Patterns are
#: matched on the lower-cased question, Chinese lay and formal wording and English.
INTENTS = (
    (r"剂量|用量|用法|怎么吃|怎么用|怎么服|吃多少|吃几|用多少|一次.{0,4}多少|dose|dosage|how much|how often",
     ("用法用量", "用量", "注意事项")),
    (r"禁忌|禁用|不能用|不能吃|能不能(?:用|吃|给)|(?:可以|能)(?:用|吃|给|服)[^，。,.？?]{0,12}吗|慎用|contraindicat"
     r"|(?:can|should|is it safe).{0,30}(?:take|use|give|have)",
     ("禁忌", "注意事项")),
    (r"副作用|不良反应|毒副|side.?effect|adverse", ("不良反应",)),
    (r"适应症|治什么|干什么用|有什么用|(?<!副)作用|用于|indicat|used for|what is .* for", ("适应症", "功能主治", "主治")),
    (r"症状|表现|症候|什么样|symptom|sign", ("常见症状", "临床症状及体征")),
    (r"病因|原因|为什么|怎么引起|怎么回事|引起的|导致|cause|why", ("常见病因", "病因", "高危因素")),
    (r"治疗|怎么办|怎么治|如何治|怎么处理|如何处理|处理|护理|怎么缓解|treat|manage|what (?:should|can|do) (?:i|we)",
     ("治疗", "治疗方案", "药物治疗", "辅助治疗", "就诊科室", "检查", "相关药物")),
    (r"检查|化验|诊断|查什么|test|exam|diagnos", ("检查", "实验室检查", "辅助检查", "影像学检查", "诊断依据_实验室检查",
                                               "诊断依据_辅助检查", "诊断依据_影像学检查")),
    (r"科室|挂什么科|哪个科|看什么科|挂哪|department|specialist", ("就诊科室",)),
    (r"去医院|就医|看医生|急诊|严重吗|危险|要紧|doctor|hospital|emergency|serious|worried",
     ("就诊科室", "并发症", "检查", "治疗")),
    (r"并发症|后遗症|会不会引起|complication", ("并发症",)),
    (r"传染|传播|contagious|transmi|catch", ("传染性", "传播途径")),
    (r"预防|避免|prevent", ("预防",)),
    (r"什么药|吃药|用药|药物|medicine|medication|drug", ("药物治疗", "治疗方案", "治疗", "相关药物")),
)
#: Predicates holding dosing text (where adult-only values are dropped for children).
DOSING_PREDICATES = frozenset({"用法用量", "用量"})
#: Caution wording that makes a 注意事项 value answer a contraindication question.
CAUTION = re.compile(r"禁用|慎用|禁止|不宜|不得|忌|避免|不可|过敏")
#: Wording that makes a value about children (or weight-based, which is how children are dosed).
CHILD_WORDS = re.compile(r"儿童|小儿|婴|幼|新生儿|\d+\s*(?:个)?(?:岁|月龄|个月)|kg|公斤|体重|千克")
ADULT_WORDS = re.compile(r"成人|成年人|老年")
#: Drug names made for children (formulations dosed by volume or weight).
CHILD_FORMULATION = re.compile(r"小儿|儿童|婴|混悬|滴剂|颗粒|口服溶液|口服液|糖浆|干混悬|栓|散")
#: Values that only name a category, and values cut off mid-sentence by the graph's splitting.
GENERIC_VALUES = frozenset({"实验室检查", "影像学检查", "辅助检查", "体格检查", "其他检查", "其他辅助检查", "一般治疗",
                            "对症治疗", "药物治疗", "手术治疗", "其他", "无", "不详", "尚不明确", "治疗原发病"})
_TRUNCATED = re.compile(r"(?:有|如|包括|为|是|：|:|等)$")
#: Package-insert boilerplate in 注意事项 (storage, supervision, "ask your pharmacist"): true of every
#: drug, so it answers no question about this one.
BOILERPLATE = re.compile(r"不能接触|不能够触及|触及不到|接触不到|监护下使用|咨询医师或药师|请咨询|性状发生改变|"
                         r"放在|放置|贮藏|保存|请仔细阅读|按说明书")
#: Latin-only abbreviations in drug lists ("Tab.SMZco") are unreadable in a Chinese citation.
_LATIN_ONLY = re.compile(r"^[\x00-\x7f]+$")


def intent_predicates(question: str) -> list[str]:
    """Predicates the question asks about, most specific intent first (no duplicates)."""
    found: list[str] = []
    lowered = (question or "").lower()
    for pattern, predicates in INTENTS:
        if re.search(pattern, lowered):
            found.extend(p for p in predicates if p not in found)
    return found


def adult_only(value: str) -> bool:
    """Whether a value speaks of adults only ("成人，一次1粒"), with nothing for children."""
    return bool(ADULT_WORDS.search(value)) and not CHILD_WORDS.search(value)


def value_quality(fact: Fact, wanted: list[str], adult_ok: bool) -> float:
    """Usefulness of one value in [0, ~1.3]; 0 means never cite it (adult-only dosing for a child)."""
    value, predicate = fact.value, fact.predicate
    if predicate in DOSING_PREDICATES:
        if adult_only(value) and not adult_ok:
            return 0.0
        quality = 1.0 if re.search(r"\d", value) else 0.4  # "口服" alone says little
    elif predicate == "多发群体":
        quality = 1.0 if CHILD_WORDS.search(value) else 0.2  # "胖人", "老年人": not this patient
    elif predicate == "注意事项" and BOILERPLATE.search(value):
        return 0.1
    elif predicate == "注意事项" and "禁忌" in wanted:
        quality = 1.0 if CAUTION.search(value) else 0.3
    elif predicate == "相关药物":
        quality = 0.3 if _LATIN_ONLY.match(value) else 1.0
        quality *= 1.3 if CHILD_FORMULATION.search(value) else 1.0
    else:
        quality = 1.0
    if value in GENERIC_VALUES or _TRUNCATED.search(value):
        quality *= 0.3  # "检查: 实验室检查", "治疗: 常用的降温措施有" say nothing on their own
    if len(value) > 60:
        quality *= 0.7  # long passages cost the prompt budget several short facts would use
    if CHILD_WORDS.search(value) and predicate not in ("常见症状", "临床症状及体征"):
        quality *= 1.2
    return quality
