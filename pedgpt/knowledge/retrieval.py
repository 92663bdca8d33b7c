"""Retrieval of cited facts for a question, and their rendering into a prompt.

    from pedgpt.knowledge import retrieve, format_facts_for_prompt
    facts = retrieve("小儿腹泻怎么治疗？", patient={"age_months": 14}, k=8)
    block = format_facts_for_prompt(facts, "zh")    # "[F1] 小儿腹泻 — 治疗: …"
    markers = citation_map(facts)                    # {"F1": "kb-…", ...}

Steps: (1) subjects — the entities the question names, each preceded by its pediatric form
(腹泻 → 小儿腹泻); a generic drug name (布洛芬) stands for its formulations, children's ones and
those holding the asked-about facts first; a question naming only symptoms gets the symptom's own
pediatric entry (发热 → 小儿发热: causes, department, examinations) and the likeliest pediatric
causes from the age-aware differential, re-ranked towards common conditions
(`assets/knowledge/common_pediatric.tsv`). (2) every subject's facts are scored: subject weight ×
predicate weight (what the question asks — 禁忌, 用法, 治疗 ... via `pedgpt.knowledge.intent` —
first) × value quality (adult-only dosing dropped for a child, readable and child-related values
up). (3) facts are picked greedily with a penalty on repeating the same subject and predicate, up
to `k` facts and `max_tokens`.

Evaluate: `.venv/bin/python tests/pedgpt/knowledge/kb_retrieval_eval.py` (precision@5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pedgpt.knowledge.ddx import MAX_AGE_MONTHS, DifferentialConfig
from pedgpt.knowledge.intent import CHILD_FORMULATION, intent_predicates, value_quality
from pedgpt.knowledge.model import Fact

__all__ = ["citation_map", "citations", "estimate_tokens", "format_facts_for_prompt", "intent_predicates",
           "retrieve"]

#: Default predicate order per entity kind (after the asked-about ones).
DEFAULT_PREDICATES = {
    "disease": ("常见症状", "临床症状及体征", "常见病因", "病因", "治疗", "药物治疗", "就诊科室", "检查",
                "并发症", "多发群体", "相关药物"),
    "drug": ("适应症", "用法用量", "禁忌", "注意事项", "不良反应", "药物相互作用", "成份"),
    "herb": ("功效", "功能主治", "性味", "用法用量", "禁忌"),
}
#: What a symptom's own entry (小儿发热) is worth citing for, when the question only names symptoms.
SYMPTOM_ENTRY_PREDICATES = ("常见病因", "病因", "治疗", "就诊科室", "检查", "并发症")
#: Predicates never worth a citation slot.
ADMINISTRATIVE = frozenset({"进入路径标准", "标准住院时间", "出院标准", "药品监管分级", "OTC类型", "贮藏", "有效期",
                            "规格", "汉语拼音", "性状", "是否处方药", "是否纳入医保", "上位关系", "下位关系",
                            "术前准备_天数", "术后住院_时间", "手术_时间", "分类", "药品类型", "用途分类", "ICD10",
                            "英文名", "英文名称", "别称", "同义词", "商品名", "通用名"})
#: Predicates listing findings, and findings too generic to be worth a citation slot.
SYMPTOM_PREDICATES = ("常见症状", "临床症状及体征")
GENERIC_FINDINGS = frozenset({"感染", "疼痛", "不适", "全身不适", "肿瘤", "紧张"})
#: Differential candidates kept for a symptom-only question.
SYMPTOM_CANDIDATES = 3
#: Prior of the curated common pediatric conditions, and of iatrogenic/surgical conditions.
COMMON_BOOST, SURGICAL_PENALTY = 1.6, 0.3
SURGICAL = re.compile(r"术后|术中|手术|切除|切开|移植|麻醉|插管|放疗|化疗|透析|医源")
#: Differential weights for retrieval: commonness counts more here than in the diagnosis tab,
#: because a lay question about a symptom is far more often about a common condition.
RETRIEVAL_DDX = DifferentialConfig(focus_weight=0.4, prior_weight=0.6)
PEDIATRIC_PREFIXES = ("小儿", "儿童", "婴幼儿", "婴儿", "新生儿")
#: Weight of an asked-about predicate (by rank), of a default one (by rank), of anything else.
WANTED_WEIGHT, WANTED_STEP, DEFAULT_WEIGHT, DEFAULT_STEP, OTHER_WEIGHT = 3.0, 0.2, 1.0, 0.05, 0.3
#: Multipliers per fact already chosen with the same (subject, predicate) / the same subject.
REPEAT_PREDICATE, REPEAT_SUBJECT = 0.7, 0.9
#: Multiplier of raw drug lists (相关药物) unless the question asks for exactly that: a list of brand
#: names answers "what to do" worse than a treatment statement or a department.
DRUG_LIST_WEIGHT = 0.5
#: Predicates a differential candidate never contributes (its drug list says nothing about the child).
CANDIDATE_SKIP = frozenset({"相关药物", "多发群体"})
#: Facts scoring below this are not cited even when slots are left (another population's 多发群体,
#: boilerplate): fewer citations beat noisy ones.
MIN_SCORE = 0.15
#: At most this many values per (subject, predicate) considered.
PER_PREDICATE = 8
#: Weight of a general (possibly adult) entry next to its pediatric forms, relative to them.
GENERAL_WEIGHT = 0.5
#: Weight of an entry consulted only for the asked-about facts its pediatric form lacks.
BORROW_WEIGHT = 0.8
#: How many of the asked-about predicates must be missing before a related entry is consulted.
CORE_PREDICATES = 2
#: Oldest age (months) for which adult-only dosing text is still kept out.
ADULT_MONTHS = 216


@dataclass(frozen=True)
class Subject:
    """An entity facts are taken from, with its weight and the predicates it may contribute."""

    name: str
    """Entity name."""
    weight: float
    """Relative importance (1 = the entity the question is about)."""
    predicates: tuple[str, ...] = ()
    """Only these predicates (empty: any)."""
    evidence: tuple[str, ...] = ()
    """Fact ids of the symptoms that made it a candidate: its only citable symptom facts."""


def estimate_tokens(text: str) -> int:
    """Conservative token estimate: one per CJK character, ~1.3 per Latin word, one per symbol."""
    cjk = len(re.findall(r"[\u3400-\u9fff]", text))
    words = len(re.findall(r"[A-Za-z0-9]+", text))
    symbols = len(re.findall(r"[^\sA-Za-z0-9\u3400-\u9fff]", text))
    return cjk + int(words * 1.3 + 0.99) + symbols


def _patient_value(patient, key: str):
    if patient is None:
        return None
    if isinstance(patient, Mapping):
        return patient.get(key)
    return getattr(patient, key, None)


def _age(patient) -> float | None:
    age = _patient_value(patient, "age_months")
    return age if isinstance(age, (int, float)) and 0 <= age <= MAX_AGE_MONTHS else None  # never fails on age


class _Info(NamedTuple):
    """What retrieval needs of an entity (Index.entity also reads its aliases: slower)."""

    name: str
    kind: str
    pediatric: bool


def _lookup(index, text: str) -> _Info | None:
    """Entity name, kind and pediatric flag for a name or alias, else None."""
    from pedgpt.knowledge.linking import linker_for

    name = index.resolve(text)
    if name is None:
        return None
    kind, pediatric = linker_for(index).entities[name]
    return _Info(name, kind, pediatric)


def _pediatric_variants(index, entity, limit: int = 2) -> list[str]:
    """Pediatric entries of the same kind named after `entity` (腹泻 → 小儿腹泻, 婴幼儿腹泻)."""
    found: list[str] = []
    for prefix in PEDIATRIC_PREFIXES:
        variant = _lookup(index, prefix + entity.name)
        if variant is not None and variant.pediatric and variant.kind == entity.kind \
                and variant.name not in found and variant.name != entity.name:
            found.append(variant.name)
    return found[:limit]


def pediatric_first(index, names: list[str]) -> list[str]:
    """Each entity preceded by its pediatric forms when the graph has them (肺炎 → 小儿肺炎)."""
    out: list[str] = []
    for name in names:
        entity = _lookup(index, name)
        if entity is not None and not entity.pediatric:
            out.extend(v for v in _pediatric_variants(index, entity) if v not in out)
        if name not in out:
            out.append(name)
    return out


def drug_family(index, name: str, wanted: list[str], limit: int = 2) -> list[str]:
    """Formulations sharing `name`'s generic stem (布洛芬: 布洛芬颗粒, 小儿布洛芬栓 ...), best first:
    those holding the asked-about predicates, then children's formulations, then the richest."""
    stems = [r[0] for r in index._rows("SELECT a.norm FROM aliases a JOIN entities e ON e.id = a.entity_id "
                                       "WHERE e.name = ? AND a.source = '药名词干'", (name,))]
    if not stems:
        return [name]
    marks = ",".join("?" * len(stems))
    members = index._rows("SELECT DISTINCT e.id, e.name, e.pediatric, e.n_facts FROM aliases a JOIN entities e "
                          f"ON e.id = a.entity_id WHERE a.norm IN ({marks}) AND e.kind = 'drug'", tuple(stems))
    holding: dict[int, int] = {}
    if wanted and members:
        ids = [m[0] for m in members]
        rows = index._rows(f"SELECT DISTINCT entity_id, predicate FROM facts WHERE entity_id IN "
                           f"({','.join('?' * len(ids))}) AND predicate IN ({','.join('?' * len(wanted))})",
                           (*ids, *wanted))
        for entity_id, predicate in rows:  # the first asked-about predicate counts most
            holding[entity_id] = holding.get(entity_id, 0) + len(wanted) - wanted.index(predicate)
    ranked = sorted(members, key=lambda m: (-holding.get(m[0], 0), -(bool(m[2]) or bool(CHILD_FORMULATION.search(m[1]))),
                                            -m[3], m[1]))
    return [m[1] for m in ranked[:limit]] or [name]


def _lacks(index, name: str, wanted: list[str]) -> bool:
    """Whether an entity lacks what the question asks first (治疗 for "怎么治疗", though it may
    have the 就诊科室 that intent also accepts); nothing asked: never lacks."""
    return bool(wanted) and not index.facts(name, wanted[:CORE_PREDICATES])


def _drug_subjects(index, item, wanted: list[str], base: float) -> list[Subject]:
    """A drug named by its generic stem (布洛芬) stands for its best formulations; a named
    formulation without the asked-about facts borrows them from its siblings."""
    if item.surface != item.name:
        names = drug_family(index, item.name, wanted)
    elif _lacks(index, item.name, wanted):
        names = [item.name] + drug_family(index, item.name, wanted, limit=1)
    else:
        names = [item.name]
    return [Subject(name, base * 0.85 ** j) for j, name in enumerate(dict.fromkeys(names))]


def _disease_subjects(index, name: str, wanted: list[str], base: float) -> list[Subject]:
    """The pediatric forms of a disease first (腹泻 → 小儿腹泻), the general entry after them (it
    may hold adult content); a pediatric entry without the asked-about facts borrows only those
    from its general or other pediatric form (小儿肺炎 → 肺炎: 治疗)."""
    entity = _lookup(index, name)
    if entity is None:
        return []
    if not entity.pediatric:
        variants = _pediatric_variants(index, entity)
        out = [Subject(v, base * 0.85 ** j) for j, v in enumerate(variants)]
        return out + [Subject(entity.name, base * (GENERAL_WEIGHT if variants else 1.0))]
    out = [Subject(entity.name, base)]
    if _lacks(index, entity.name, wanted):
        missing = tuple(p for p in wanted if not index.facts(entity.name, [p]))
        related = [r for r in _general_forms(index, index.entity(entity.name)) + _pediatric_variants(index, entity)
                   if index.facts(r, missing)]
        out += [Subject(r, base * BORROW_WEIGHT, missing) for r in related[:1]]
    return out


def _general_forms(index, entity) -> list[str]:
    """Entries named like a pediatric entity or one of its aliases without the pediatric prefix
    (小儿感冒, alias 小儿急性上呼吸道感染 → 感冒's entry, 急性上呼吸道感染)."""
    out: list[str] = []
    for name in (entity.name,) + entity.aliases:
        prefix = next((p for p in PEDIATRIC_PREFIXES if name.startswith(p)), None)
        resolved = index.resolve(name[len(prefix):]) if prefix else None
        if resolved and resolved != entity.name and resolved not in out:
            out.append(resolved)
    return out


def _entity_subjects(index, linked, wanted: list[str]) -> list[Subject]:
    """Subjects for the entities a question names, in order of mention."""
    subjects: list[Subject] = []
    for rank, item in enumerate(linked):
        base = 0.85 ** rank
        if item.kind == "drug":
            subjects += _drug_subjects(index, item, wanted, base)
        else:
            subjects += _disease_subjects(index, item.name, wanted, base)
    return _unique(subjects)


def _unique(subjects: list[Subject]) -> list[Subject]:
    seen: set[str] = set()
    out = []
    for subject in subjects:
        if subject.name not in seen:
            seen.add(subject.name)
            out.append(subject)
    return out


def _symptom_entries(index, findings: list[str]) -> list[str]:
    """The pediatric entries named after the findings themselves (发热 → 小儿发热), if any."""
    out = []
    for term in findings:
        for prefix in PEDIATRIC_PREFIXES + ("",):
            entity = _lookup(index, prefix + term)
            if entity is not None and entity.kind == "disease" and entity.pediatric and entity.name not in out:
                out.append(entity.name)
                break
    return out


def _likely_causes(index, findings: list[str], patient) -> list:
    """Differential candidates re-ranked towards common conditions and away from surgical ones."""
    from pedgpt.errors import InputError
    from pedgpt.knowledge.ddx import differential
    from pedgpt.knowledge.resources import common_pediatric

    sex = _patient_value(patient, "sex")
    sex = sex.upper() if isinstance(sex, str) and sex.upper() in ("F", "M") else None
    common = common_pediatric()

    def prior(name: str) -> float:
        factor = COMMON_BOOST if name in common else 1.0
        return factor * (SURGICAL_PENALTY if SURGICAL.search(name) else 1.0)

    try:
        return differential(findings, age_months=_age(patient), sex=sex, k=SYMPTOM_CANDIDATES, index=index,
                            config=RETRIEVAL_DDX, prior=prior)
    except InputError:
        return []


def _symptom_subjects(index, findings: list[str], patient, wanted: list[str]) -> list[Subject]:
    """A symptom-only question: the symptom's own entry and the likeliest pediatric causes."""
    entries = _symptom_entries(index, findings[:2])
    # One finding: its entry is the answer's core; several: the causes that explain them all are.
    subjects = [Subject(name, (1.0 if len(findings) == 1 else 0.6) * 0.85 ** i,
                        tuple(dict.fromkeys(wanted + list(SYMPTOM_ENTRY_PREDICATES))))
                for i, name in enumerate(entries)]
    for rank, candidate in enumerate(_likely_causes(index, findings, patient)):
        matched = tuple(candidate.facts[:len(candidate.matched)])  # matched-symptom facts come first
        weight = (1.0 if len(findings) > 1 else 0.9) * 0.8 ** rank
        subjects.append(Subject(candidate.name, weight, evidence=matched))
    return _unique(subjects)


def _is_finding(model, item) -> bool:
    """A symptom term, or a non-pediatric disease entry named like a common finding (皮疹, 腹痛)."""
    if item.kind == "symptom":
        return item.name in model.idf
    return item.kind == "disease" and not item.pediatric and item.name in model.heads


def _subjects(index, question: str, patient, wanted: list[str]) -> list[Subject]:
    from pedgpt.knowledge.ddx import model_for
    from pedgpt.knowledge.linking import link_entities

    linked = link_entities(question, index)
    model = model_for(index)
    entities = [item for item in linked if item.kind != "symptom"]
    # "出皮疹还发烧", "diarrhea and vomiting": entities that are findings too (皮疹, 腹泻), next to
    # other findings, describe a presentation — its causes are what matter, not the word's entry.
    if len(linked) > 1 and all(_is_finding(model, item) for item in linked):
        entities = []
    if entities:
        return _entity_subjects(index, entities, wanted)
    findings = [item.name for item in linked if item.name in model.idf]
    # Words that are rarely a finding ("还可" of "精神还可以") only count when nothing else does.
    findings = [name for name in findings if name in model.heads] or findings
    subjects = _symptom_subjects(index, findings, patient, wanted) if findings else []
    if not subjects:  # "哮喘发作" is a term no disease lists: the entity inside it (哮喘) still helps
        inner = [name for item in linked for name in [_contained_entity(index, item.name)] if name]
        subjects = _entity_subjects(index, [_Mention(n, n, _lookup(index, n).kind) for n in dict.fromkeys(inner)], wanted)
    return subjects


@dataclass(frozen=True)
class _Mention:
    """An entity found inside a longer term (the fields `_entity_subjects` reads of a LinkedEntity)."""

    surface: str
    name: str
    kind: str


def _contained_entity(index, term: str) -> str | None:
    """The longest disease or drug entity named inside `term` (哮喘发作 → 哮喘's entry), else None."""
    for size in range(len(term) - 1, 1, -1):
        for start in range(len(term) - size + 1):
            entity = _lookup(index, term[start:start + size])
            if entity is not None and entity.kind in ("disease", "drug"):
                return entity.name
    return None


def _predicate_weight(predicate: str, wanted: list[str], defaults: tuple[str, ...]) -> float:
    if predicate in wanted:
        weight = WANTED_WEIGHT - WANTED_STEP * wanted.index(predicate)
        return weight * (1.0 if wanted[0] == predicate else DRUG_LIST_WEIGHT) if predicate == "相关药物" else weight
    if predicate in defaults:
        return DEFAULT_WEIGHT - DEFAULT_STEP * defaults.index(predicate)
    return OTHER_WEIGHT


def _scored(index, subject: Subject, wanted: list[str], adult_ok: bool) -> list[tuple[float, Fact]]:
    """(score, fact) for every citable fact of one subject (a few best values per predicate)."""
    from pedgpt.knowledge.ddx import model_for

    entity = _lookup(index, subject.name)
    if entity is None:
        return []
    defaults = DEFAULT_PREDICATES.get(entity.kind, DEFAULT_PREDICATES["disease"])
    if subject.predicates:  # a restricted subject ranks its own predicates in its own order
        defaults = subject.predicates
    groups: dict[str, list[Fact]] = {}
    for fact in index.facts(entity.name):
        if subject.evidence and fact.predicate in CANDIDATE_SKIP:
            continue
        if fact.predicate not in ADMINISTRATIVE and (not subject.predicates or fact.predicate in subject.predicates):
            groups.setdefault(fact.predicate, []).append(fact)
    out = []
    for predicate, facts in groups.items():
        weight = subject.weight * _predicate_weight(predicate, wanted, defaults)
        if predicate in SYMPTOM_PREDICATES:
            facts = _findings_order(facts, model_for(index))
            if subject.evidence:
                facts = [f for f in facts if f.id in subject.evidence] or facts[:1]
            rated = [(0.97 ** rank, fact) for rank, fact in enumerate(facts)]
        else:
            rated = sorted(((value_quality(f, wanted, adult_ok), f) for f in facts), key=lambda r: -r[0])
        out.extend((weight * quality, fact) for quality, fact in rated[:PER_PREDICATE] if quality > 0)
    return out


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


def _select(pool: list[tuple[float, Fact]], k: int, max_tokens: int) -> list[Fact]:
    """Greedy pick of the best remaining fact, discounting repeats of a subject, a predicate and a value."""
    chosen: list[Fact] = []
    budget = max_tokens
    pool = list(pool)
    while pool and len(chosen) < k:
        def adjusted(item: tuple[float, Fact]) -> float:
            fact = item[1]
            same_pred = sum(1 for c in chosen if c.entity == fact.entity and c.predicate == fact.predicate)
            same_subject = sum(1 for c in chosen if c.entity == fact.entity)
            same_value = any(c.predicate == fact.predicate and c.value == fact.value for c in chosen)
            return item[0] * REPEAT_PREDICATE ** same_pred * REPEAT_SUBJECT ** same_subject * (0.3 if same_value else 1)
        best = max(range(len(pool)), key=lambda i: (adjusted(pool[i]), -i))
        fact = pool.pop(best)[1]
        cost = estimate_tokens(fact.text) + 4  # marker and newline
        if cost <= budget:
            budget -= cost
            chosen.append(fact)
    return chosen


def retrieve(question: str, patient=None, k: int = 8, max_tokens: int = 400, index=None) -> list[Fact]:
    """Up to `k` facts (≤ `max_tokens` estimated tokens when rendered) relevant to `question`.

    `patient` may be a mapping or object with `age_months` / `sex` (age ranks the causes of a
    symptom-only question; adult-only dosing is left out below 18 years or when the age is
    unknown). Returns [] when nothing in the question links to the knowledge base.
    """
    from pedgpt.knowledge.index import load_index

    if k < 1 or max_tokens < 1:
        return []
    index = index or load_index()
    wanted = intent_predicates(question or "")
    subjects = _subjects(index, question or "", patient, wanted)
    age = _age(patient)
    adult_ok = age is not None and age >= ADULT_MONTHS
    pool = [item for subject in subjects for item in _scored(index, subject, wanted, adult_ok)
            if item[0] >= MIN_SCORE]
    pool.sort(key=lambda item: -item[0])  # stable: equal scores keep subject and source order
    return _select(pool, k, max_tokens)


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
