"""Retrieval of cited facts for a question, and their rendering into a prompt.

    from pedgpt.knowledge import retrieve, format_facts_for_prompt
    facts = retrieve("小儿腹泻怎么治疗？", patient={"age_months": 14}, k=8)
    block = format_facts_for_prompt(facts, "zh")    # "[F1] 小儿腹泻 — 治疗: …"
    markers = citation_map(facts)                    # {"F1": "kb-…", ...}

Steps: link entities in the question; put the pediatric form of each entity first (腹泻 →
小儿腹泻); when only symptoms are mentioned, take the top diseases of the knowledge-based
differential instead; pick each entity's facts by the question's intent (病因 → 常见病因, 用量 →
用法用量, ...) with clean values first; interleave entities; stop at `k` facts or `max_tokens`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pedgpt.knowledge.ddx import MAX_AGE_MONTHS
from pedgpt.knowledge.model import Fact

#: Default predicate order per entity kind (the intent's predicates go first).
DEFAULT_PREDICATES = {
    "disease": ("常见症状", "临床症状及体征", "常见病因", "病因", "就诊科室", "检查", "治疗", "药物治疗",
                "并发症", "多发群体", "相关药物"),
    "drug": ("适应症", "用法用量", "禁忌", "注意事项", "不良反应", "药物相互作用", "成份"),
    "herb": ("功效", "功能主治", "性味", "用法用量", "禁忌"),
}
#: Question keywords → predicates they ask about (checked in order; several may apply).
INTENTS = (
    (r"症状|表现|症候|symptom|sign", ("常见症状", "临床症状及体征")),
    (r"病因|原因|为什么|怎么引起|cause|why", ("常见病因", "病因", "高危因素")),
    (r"治疗|怎么办|怎么治|如何治|处理|treat|manage", ("治疗", "药物治疗", "辅助治疗", "相关药物")),
    (r"检查|化验|诊断|test|exam|diagnos", ("检查", "实验室检查", "辅助检查", "影像学检查")),
    (r"科室|挂什么科|哪个科|department", ("就诊科室",)),
    (r"并发症|后遗症|complication", ("并发症",)),
    (r"剂量|用量|用法|怎么吃|吃多少|dose|dosage", ("用法用量", "禁忌", "注意事项")),
    (r"禁忌|不能|慎用|contraindicat", ("禁忌", "注意事项")),
    (r"副作用|不良反应|side effect|adverse", ("不良反应",)),
    (r"适应症|治什么|用于|indicat", ("适应症", "功能主治")),
    (r"传染|传播|contagious|transmi", ("传染性", "传播途径")),
    (r"预防|prevent", ("预防",)),
    (r"药|medicine|drug", ("相关药物", "药物治疗")),
)
#: Values per predicate: for a predicate the question asks about / for the others.
PER_PREDICATE = (6, 2)
#: Predicates never worth a citation slot.
ADMINISTRATIVE = frozenset({"进入路径标准", "标准住院时间", "出院标准", "药品监管分级", "OTC类型", "贮藏", "有效期",
                            "规格", "汉语拼音", "性状", "是否处方药", "是否纳入医保", "上位关系", "下位关系",
                            "术前准备_天数", "术后住院_时间", "手术_时间", "分类", "药品类型", "用途分类"})
#: Predicates listing findings, and findings too generic to be worth a citation slot.
SYMPTOM_PREDICATES = ("常见症状", "临床症状及体征")
GENERIC_FINDINGS = frozenset({"感染", "疼痛", "不适", "全身不适", "肿瘤", "紧张"})
#: How many differential candidates stand in for a symptom-only question.
SYMPTOM_CANDIDATES = 3
PEDIATRIC_PREFIXES = ("小儿", "儿童", "婴幼儿", "婴儿", "新生儿")


def estimate_tokens(text: str) -> int:
    """Conservative token estimate: one per CJK character, ~1.3 per Latin word, one per symbol."""
    cjk = len(re.findall(r"[\u3400-\u9fff]", text))
    words = len(re.findall(r"[A-Za-z0-9]+", text))
    symbols = len(re.findall(r"[^\sA-Za-z0-9\u3400-\u9fff]", text))
    return cjk + int(words * 1.3 + 0.99) + symbols


def intent_predicates(question: str) -> list[str]:
    found: list[str] = []
    lowered = question.lower()
    for pattern, predicates in INTENTS:
        if re.search(pattern, lowered):
            found.extend(p for p in predicates if p not in found)
    return found


def _patient_value(patient, key: str):
    if patient is None:
        return None
    if isinstance(patient, Mapping):
        return patient.get(key)
    return getattr(patient, key, None)


def pediatric_first(index, names: list[str]) -> list[str]:
    """Each entity preceded by its pediatric form when the graph has one (肺炎 → 小儿肺炎)."""
    out: list[str] = []
    for name in names:
        entity = index.entity(name)
        if entity is not None and not entity.pediatric:
            for prefix in PEDIATRIC_PREFIXES:
                variant = index.entity(prefix + name)
                if variant is not None and variant.pediatric and variant.name not in out:
                    out.append(variant.name)
                    break
        if name not in out:
            out.append(name)
    return out


def _subjects(index, question: str, patient) -> list[str]:
    from pedgpt.knowledge.ddx import differential, model_for
    from pedgpt.knowledge.linking import link_entities

    linked = link_entities(question, index)
    entities = [item.name for item in linked if item.kind != "symptom"]
    if entities:
        return pediatric_first(index, entities)
    findings = [item.name for item in linked if item.name in model_for(index).idf]
    if not findings:
        return []
    sex = _patient_value(patient, "sex")
    age = _patient_value(patient, "age_months")
    age = age if isinstance(age, (int, float)) and 0 <= age <= MAX_AGE_MONTHS else None  # retrieval never fails on age
    candidates = differential(findings, age_months=age, sex=sex if sex in ("F", "M", "f", "m") else None,
                              k=SYMPTOM_CANDIDATES, index=index)
    return [c.name for c in candidates]


def _ranked_facts(index, name: str, wanted: list[str]) -> list[Fact]:
    """An entity's facts: asked-about predicates first, clean values first, a few per predicate."""
    from pedgpt.knowledge.ddx import model_for

    entity = index.entity(name)
    if entity is None:
        return []
    order = wanted + [p for p in DEFAULT_PREDICATES.get(entity.kind, DEFAULT_PREDICATES["disease"])
                      if p not in wanted]
    # Then whatever else the entity has (川崎病 only has 诊断依据_* and 临床症状及体征), minus
    # administrative predicates that never answer a clinical question.
    present = dict.fromkeys(f.predicate for f in index.facts(entity.name))
    order += [p for p in present if p not in order and p not in ADMINISTRATIVE]
    ranked: list[Fact] = []
    for predicate in order:
        facts = index.facts(entity.name, [predicate])
        if predicate in SYMPTOM_PREDICATES:
            facts = _findings_order(facts, model_for(index))
        else:
            facts.sort(key=lambda f: len(f.value) > 30)  # stable: keep source order otherwise
        limit = PER_PREDICATE[0] if predicate in wanted or not wanted else PER_PREDICATE[1]
        ranked.extend(facts[:limit])
    return ranked


def _findings_order(facts: list[Fact], model) -> list[Fact]:
    """Clean findings first, alternating the most distinctive (耳痛 for otitis) and the most
    common (发热): both kinds answer "what are the symptoms"; fragments and generic words last."""
    clean_idf = model.idf_for_df(3)
    clean = [f for f in facts if f.value in model.idf and model.idf[f.value] <= clean_idf
             and f.value not in GENERIC_FINDINGS and f.value not in model.disease_names]
    distinctive = sorted(clean, key=lambda f: (-model.idf[f.value], f.value))
    common = sorted(clean, key=lambda f: (model.idf[f.value], f.value))
    merged: list[Fact] = []
    for pair in zip(distinctive, common):
        merged.extend(f for f in pair if f not in merged)
    return merged + [f for f in facts if f not in merged]


def retrieve(question: str, patient=None, k: int = 8, max_tokens: int = 400, index=None) -> list[Fact]:
    """Up to `k` facts (≤ `max_tokens` estimated tokens when rendered) relevant to `question`.

    `patient` may be a mapping or object with `age_months` / `sex` (used when the question only
    names symptoms). Returns [] when nothing in the question links to the knowledge base.
    """
    from pedgpt.knowledge.index import load_index

    if k < 1 or max_tokens < 1:
        return []
    index = index or load_index()
    subjects = _subjects(index, question or "", patient)
    wanted = intent_predicates(question or "")
    queues = [_ranked_facts(index, name, wanted) for name in subjects]
    chosen: list[Fact] = []
    budget = max_tokens
    # Round-robin so every linked entity is represented; the first (pediatric) one leads.
    while any(queues) and len(chosen) < k:
        for queue in queues:
            if not queue or len(chosen) >= k:
                continue
            fact = queue.pop(0)
            cost = estimate_tokens(fact.text) + 4  # marker and newline
            if cost > budget:
                queue.clear()
                continue
            budget -= cost
            chosen.append(fact)
    return chosen


def citation_map(facts: list[Fact]) -> dict[str, str]:
    """Prompt marker → fact id: {"F1": "kb-…", "F2": ...} in the order the facts are rendered."""
    return {f"F{number}": fact.id for number, fact in enumerate(facts, start=1)}


def citations(facts: list[Fact]) -> list[dict]:
    """JSON-ready citation list: [{"marker": "F1", "id", "text"}, ...]."""
    return [{"marker": f"F{number}", "id": fact.id, "text": fact.text}
            for number, fact in enumerate(facts, start=1)]


_HEADERS = {
    "zh": ("以下是来自医学知识图谱 CMeKG 的相关事实。回答时请引用所依据事实的编号（如 [F1]）；"
           "若这些事实与问题无关或不足以回答，请明确说明。", "知识库中没有找到与问题相关的事实；请在回答中说明这一点，不要编造出处。"),
    "en": ("Relevant facts from the CMeKG medical knowledge graph. Cite the facts you rely on by their "
           "number (e.g. [F1]); if they are irrelevant or insufficient, say so.",
           "The knowledge base has no facts relevant to this question; say so in the answer and do not "
           "invent sources."),
}


def format_facts_for_prompt(facts: list[Fact], language: str = "zh") -> str:
    """The facts as a numbered block for the prompt; marker Fn cites `facts[n-1]` (see citation_map)."""
    header, empty = _HEADERS["en" if language == "en" else "zh"]
    if not facts:
        return empty
    lines = [header] + [f"[F{number}] {fact.text}" for number, fact in enumerate(facts, start=1)]
    return "\n".join(lines)
