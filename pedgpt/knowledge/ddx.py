"""Knowledge-based differential diagnosis (ddx): rank diseases by how well their listed findings explain the given ones.

    from pedgpt.knowledge import differential
    for c in differential(["发热", "咳嗽", "喘息"], age_months=10):
        print(c.name, c.score, c.matched, c.unmatched)

Score (deterministic, explainable). Every finding and every disease symptom is normalised to
weighted canonical terms (`pedgpt.knowledge.symptoms`). A term's weight is its inverse document
frequency over all diseases, `idf(t) = ln(1 + N / df(t))`, so "感染" counts little and "杨梅舌" a lot.
For finding i, `m_i` is the best idf × weight it shares with the disease and `b_i` the best it
could share at all; then

    coverage = Σ m_i / Σ b_i                (how much of the presentation the disease explains)
    focus    = Σ m_i / Σ idf(disease terms)  (how much of the disease the presentation shows)
    named    = Σ b_i over findings named in the disease's name (腹泻 → 小儿腹泻) / Σ b_i
    common   = ln(1 + mentions) / ln(1 + max mentions)   (how often the graph mentions the disease)
    score    = coverage × (1 + w_f·√focus + w_n·named + w_p·common) / (1 + w_f + w_n + w_p) × age × sex

with the weights of `DifferentialConfig`.

Age: outside a disease's population bands (多发群体; name: 新生儿/婴儿/…) the score shrinks with
the distance (relative to twice the band's width, at least two years) and is dropped below
`age_cutoff` — neonatal conditions vanish for a 10-year-old, a 25-month-old still gets "2岁以下"
diseases. A band that fits a young patient closely gets `age_boost`. Sex only nudges (`sex_nudge`).
Ties break on pediatric flag, then name, so the ranking is fully deterministic.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from pedgpt.errors import InputError
from pedgpt.knowledge import symptoms
from pedgpt.knowledge.build import MIN_HEAD_DF, MIN_VOCAB_DF
from pedgpt.knowledge.classify import is_english, normalise_english, stem
from pedgpt.knowledge.model import Candidate
from pedgpt.knowledge.resources import english_zh


@dataclass(frozen=True)
class DifferentialConfig:
    """Tunable weights of the differential score (defaults tuned on CMeKG 0.2.5: ~97 % of seeded
    3-symptom subsets of pediatric diseases rank their disease in the top 5)."""

    focus_weight: float = 1.2
    """Weight of "focus" (share of the disease's own findings that were given)."""
    focus_power: float = 0.5
    """Exponent on focus (<1 flattens the penalty on diseases with long symptom lists)."""
    name_weight: float = 0.3
    """Weight of findings that name the disease (腹泻 for 小儿腹泻, 惊厥 for 热性惊厥)."""
    prior_weight: float = 0.2
    """Weight of the commonness prior (how often the graph mentions the disease or its stem)."""
    age_boost: float = 1.08
    """Multiplier for diseases whose age band (≤ 6 years wide) contains the patient's age."""
    age_cutoff: float = 0.25
    """Age factor below which a disease is dropped from the list."""
    age_min_spread: float = 24.0
    """Outside a band the age factor falls by 1 per max(this, 2 × band width) months: a neonatal
    band (0–2 months) is gone by two years, "幼儿" (1–3 y) barely dents a 2-month-old."""
    sex_nudge: tuple[float, float] = (1.05, 0.9)
    """Multipliers when a disease's population names the patient's sex / only the other sex."""
    adult_penalty: float = 0.8
    """Multiplier for diseases not flagged pediatric (only with `pediatric_only=False`)."""
    negative_penalty: float = 0.75
    """Multiplier per denied finding ("无发热") that the disease lists."""

    def __post_init__(self) -> None:
        for name in ("focus_weight", "name_weight", "prior_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not 0 < self.focus_power <= 2:
            raise ValueError("focus_power must be in (0, 2]")
        if self.age_boost < 1 or not 0 <= self.age_cutoff < 1 or self.age_min_spread <= 0:
            raise ValueError("age_boost must be >= 1, age_cutoff in [0, 1), age_min_spread > 0")
        if not all(0 < v <= 2 for v in self.sex_nudge) or not 0 < self.adult_penalty <= 1:
            raise ValueError("sex_nudge values must be in (0, 2] and adult_penalty in (0, 1]")
        if not 0 < self.negative_penalty <= 1:
            raise ValueError("negative_penalty must be in (0, 1]")


DEFAULT_CONFIG = DifferentialConfig()

#: Oldest accepted age (months): pediatrics plus young adults seen in transition clinics.
MAX_AGE_MONTHS = 300
#: Weight of a look-alike term used for an otherwise unknown finding.
NEAR = 0.6
#: Predicates listed as recommended examinations, in order.
EXAM_PREDICATES = ("检查", "实验室检查", "辅助检查", "影像学检查", "筛查")
_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")
_ENGLISH_CONNECTIVES = re.compile(r"\b(?:and|with|plus)\b", re.IGNORECASE)
#: A disease's own finding is offered as "also ask about" when curated or listed by this many
#: diseases (single-disease strings are mostly fragments); disease names listed as symptoms are not.
UNMATCHED_MIN_DF = 3
#: At most this many unmatched symptoms / examinations per candidate.
MAX_UNMATCHED, MAX_EXAMS = 8, 8


@dataclass
class _Disease:
    entity_id: int
    name: str
    pediatric: bool
    bands: list[tuple[int, int]]
    sex: str
    refs: int = 0
    forms: dict[str, tuple[float, str]] = field(default_factory=dict)
    mass: float = 0.0
    common: float = 0.0


@dataclass(frozen=True)
class Finding:
    """One given finding, normalised."""

    text: str
    """As given."""
    forms: dict[str, float]
    """Weighted canonical terms known to at least one disease."""


class DifferentialModel:
    """In-memory view of the index's `symptom_forms` (~100k rows, loaded once per index)."""

    def __init__(self, index) -> None:
        self.idf: dict[str, float] = {}
        rows = index._rows("SELECT id, name, pediatric, bands, sex, refs FROM entities WHERE kind = 'disease'")
        self.diseases = {r[0]: _Disease(r[0], r[1], bool(r[2]), [tuple(b) for b in json.loads(r[3])], r[4], r[5])
                         for r in rows}
        for entity_id, term, weight, fact in index._rows("SELECT entity_id, term, weight, fact_id FROM symptom_forms"):
            self.diseases[entity_id].forms[term] = (weight, fact)
        self.diseases = {k: d for k, d in self.diseases.items() if d.forms}
        self.postings: dict[str, list[int]] = {}
        for disease in self.diseases.values():
            for term in disease.forms:
                self.postings.setdefault(term, []).append(disease.entity_id)
        self.disease_names = frozenset(d.name for d in self.diseases.values())
        total = len(self.diseases)
        primary: dict[str, int] = {}
        for term, df, primary_df in index._rows("SELECT term, df, primary_df FROM symptom_vocab"):
            self.idf[term] = math.log(1.0 + total / df)
            primary[term] = primary_df
        known = frozenset(symptoms.known_terms())
        # Same vocabularies as the build used for disease symptoms (see build._write_symptoms).
        self.vocabulary = frozenset(t for t, n in primary.items() if n >= MIN_VOCAB_DF and len(t) >= 2) | known
        self.heads = frozenset(t for t, n in primary.items() if n >= MIN_HEAD_DF and len(t) >= 2) | known
        top = math.log1p(max((d.refs for d in self.diseases.values()), default=0)) or 1.0
        for disease in self.diseases.values():
            disease.mass = sum(self.idf.get(t, 0.0) * w for t, (w, _) in disease.forms.items())
            disease.common = math.log1p(disease.refs) / top

    def idf_for_df(self, df: int) -> float:
        """The idf a term listed by `df` diseases gets."""
        return math.log(1.0 + len(self.diseases) / df)

    def finding(self, text: str) -> Finding:
        """Normalised finding; English findings go through the curated en→zh table first."""
        if is_english(text):
            text_zh = english_zh().get(normalise_english(text))
            if text_zh is None:
                return Finding(text, {})
            forms = symptoms.expand(symptoms.canonical(text_zh), self.vocabulary, self.heads)
            return Finding(text, {t: w for t, w in forms.items() if t in self.idf})
        forms = symptoms.expand(symptoms.canonical(text), self.vocabulary, self.heads)
        known = {t: w for t, w in forms.items() if t in self.idf}
        return Finding(text, known or self._near_forms(symptoms.canonical(text)))

    def _near_forms(self, text: str) -> dict[str, float]:
        """Last resort for an unknown wording: shared terms that differ by a character or two
        with the same characters in order ("果酱样便" ~ "果酱样血便"), at weight `NEAR`."""
        near: dict[str, float] = {}
        for term, idf in self.idf.items():
            if len(term) >= 3 and abs(len(term) - len(text)) <= 1 and idf <= self.idf_for_df(3) \
                    and (_subsequence(text, term) or _subsequence(term, text)):
                near[term] = NEAR
        return near if len(near) <= 3 else {}  # several look-alikes: too ambiguous to guess


def _subsequence(short: str, long: str) -> bool:
    """Whether the characters of `short` appear in `long` in order."""
    chars = iter(long)
    return all(char in chars for char in short)


def model_for(index) -> DifferentialModel:
    model = index._cache.get("differential")
    if model is None:
        model = DifferentialModel(index)
        index._cache["differential"] = model
    return model


def split_findings(symptom_list) -> list[str]:
    """Accept a list or one string separated by commas / 、/ ；(CLI and UI input); Chinese items
    are further split on connectives (伴, 及, 和, 甚至 ...) like the graph's own symptom strings."""
    if isinstance(symptom_list, str):
        symptom_list = [symptom_list]
    out: list[str] = []
    for item in symptom_list:
        for part in _LIST_SEPARATORS.split(str(item)):
            # "发热3天伴咳嗽" and "runny nose and cough" are two findings each.
            pieces = _ENGLISH_CONNECTIVES.split(part) if is_english(part) else symptoms.pieces(part)
            for piece in (p.strip() for p in pieces):
                if piece and piece not in out:
                    out.append(piece)
    return out


def _age_factor(disease: _Disease, age_months: float | None, cfg: DifferentialConfig) -> float:
    """1 inside a band (`age_boost` for a narrow one), shrinking with the distance outside it."""
    if age_months is None or not disease.bands:
        return 1.0
    best = 0.0
    for low, high in disease.bands:
        if low <= age_months <= high:
            factor = cfg.age_boost if high - low <= 72 else 1.0
        else:
            distance = low - age_months if age_months < low else age_months - high
            factor = max(0.0, 1.0 - distance / max(cfg.age_min_spread, 2.0 * (high - low)))
        best = max(best, factor)
    return best if best >= cfg.age_cutoff else 0.0


def _sex_factor(disease: _Disease, sex: str | None, cfg: DifferentialConfig) -> float:
    if not sex or not disease.sex:
        return 1.0
    return cfg.sex_nudge[0] if disease.sex == sex else cfg.sex_nudge[1]


def _match(finding: Finding, disease: _Disease, idf: dict[str, float]) -> tuple[float, str | None, str | None]:
    """(credit, matched disease term, fact id) of the best shared term."""
    best, term_hit, fact = 0.0, None, None
    for term, weight in finding.forms.items():
        hit = disease.forms.get(term)
        if hit is not None:
            credit = idf[term] * weight * hit[0]
            if credit > best:
                best, term_hit, fact = credit, term, hit[1]
    return best, term_hit, fact


def score_disease(findings: list[Finding], disease: _Disease, idf: dict[str, float],
                  cfg: DifferentialConfig = DEFAULT_CONFIG) -> tuple[float, list]:
    """Score in [0, 1] (before age/sex factors) and per-finding (finding, credit, term, fact id)."""
    ideals = [max((idf[t] * w for t, w in f.forms.items()), default=0.0) for f in findings]
    matches = [(f, *_match(f, disease, idf)) for f in findings]
    gained = sum(m[1] for m in matches)
    if gained <= 0 or sum(ideals) <= 0:
        return 0.0, matches
    coverage = gained / sum(ideals)
    focus = min(1.0, gained / disease.mass) if disease.mass else 0.0
    core = stem(disease.name)
    named = sum(b for f, b, m in zip(findings, ideals, matches) if m[2] and m[2] in core) / sum(ideals)
    bonus = cfg.focus_weight * focus ** cfg.focus_power + cfg.name_weight * named + cfg.prior_weight * disease.common
    return coverage * (1 + bonus) / (1 + cfg.focus_weight + cfg.name_weight + cfg.prior_weight), matches


def differential(symptoms_given, age_months: float | None = None, sex: str | None = None, k: int = 10,
                 pediatric_only: bool = True, index=None, config: DifferentialConfig | None = None,
                 prior=None) -> list[Candidate]:
    """Top-`k` diseases for the given findings (list or comma-separated string), best first.

    `prior`: optional callable, disease name → multiplier of its score (retrieval favours common
    conditions with it); applied before the top `k` are taken.

    Negated findings ("无发热", "no fever") lower the diseases that list them. Raises `InputError`
    when no positive finding is recognised (the message names the closest known terms).
    """
    from pedgpt.knowledge.index import load_index

    index = index or load_index()
    model = model_for(index)
    texts = split_findings(symptoms_given)
    if not texts:
        raise InputError("no symptoms given")
    sex = _check_inputs(age_months, sex, k)
    cfg = config or DEFAULT_CONFIG
    positives, negatives = _partition(model, texts)
    if not positives:
        raise InputError(no_match_message(index, [t for t in texts if not negated(t)] or texts))
    scored = []
    pool = sorted({i for f in positives for t in f.forms for i in model.postings.get(t, ())})
    for disease in (model.diseases[i] for i in pool):
        if pediatric_only and not disease.pediatric:
            continue
        contradicted = [f.text for f in negatives if _match(f, disease, model.idf)[2] is not None]
        factor = (_age_factor(disease, age_months, cfg) * _sex_factor(disease, sex, cfg)
                  * cfg.negative_penalty ** len(contradicted))
        if not disease.pediatric:
            factor *= cfg.adult_penalty
        if prior is not None:
            factor *= prior(disease.name)
        if factor == 0.0:
            continue
        value, matches = score_disease(positives, disease, model.idf, cfg)
        if value > 0:
            scored.append((round(value * factor, 6), disease, matches, contradicted))
    scored.sort(key=lambda s: (-s[0], not s[1].pediatric, s[1].name))
    return [_candidate(index, model, *item) for item in scored[:k]]


_NEGATION_ZH = re.compile(r"^(?:无|不|没有|没|未|否认)")
_NEGATION_EN = re.compile(r"^(?:no|not|without|denies|negative for)\s+", re.IGNORECASE)


def negated(text: str) -> str | None:
    """The finding a negated text denies ("无发热" → "发热", "no fever" → "fever"), else None."""
    pattern = _NEGATION_EN if is_english(text) else _NEGATION_ZH
    rest = pattern.sub("", text, count=1).strip()
    return rest if rest and rest != text.strip() else None


def _partition(model: DifferentialModel, texts: list[str]) -> tuple[list[Finding], list[Finding]]:
    """Recognised positive findings, and recognised denied ones (a text like "不适" that is itself
    a known finding stays positive)."""
    positives, negatives = [], []
    for text in texts:
        finding = model.finding(text)
        denied = negated(text)
        if denied and not (finding.forms and text in finding.forms):
            inner = model.finding(denied)
            if inner.forms:
                negatives.append(Finding(text, inner.forms))
            continue
        if finding.forms:
            positives.append(finding)
    return positives, negatives


def unrecognised(symptoms_given, index=None) -> list[str]:
    """Given findings that match no disease symptom, each with its closest known terms."""
    from pedgpt.knowledge.index import load_index
    from pedgpt.knowledge.suggest import closest_terms

    index = index or load_index()
    model = model_for(index)
    out = []
    for text in split_findings(symptoms_given):
        denied = negated(text)
        if not model.finding(text).forms and not (denied and model.finding(denied).forms):
            near = closest_terms(index, text, model.idf, limit=3)
            out.append(f"{text} (closest: {'、'.join(near) if near else 'none'})")
    return out


def _check_inputs(age_months, sex, k) -> str | None:
    if age_months is not None and not 0 <= age_months <= MAX_AGE_MONTHS:
        raise InputError(f"age must be between 0 and {MAX_AGE_MONTHS} months, got {age_months:g}")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    if sex is None or sex == "":
        return None
    sex = str(sex).upper()
    if sex not in ("F", "M"):
        raise InputError(f"sex must be F or M, got {sex!r}")
    return sex


def no_match_message(index, texts: list[str]) -> str:
    from pedgpt.knowledge.suggest import closest_terms

    hints = []
    for text in texts:
        near = closest_terms(index, text, model_for(index).idf, limit=5)
        hints.append(f"{text} (closest: {'、'.join(near) if near else 'none'})")
    return "no match in the knowledge base for " + "; ".join(hints)


def _candidate(index, model: DifferentialModel, value: float, disease: _Disease, matches,
               contradicted: list[str]) -> Candidate:
    matched, fact_ids = [], []
    hit_terms = set()
    for finding, credit, term, fact in matches:
        if term is None:
            continue
        hit_terms.add(term)
        matched.append(finding.text if term == finding.text else f"{finding.text}→{term}")
        fact_ids.append(fact)
    unmatched = _unmatched(model, disease, hit_terms)
    extra = index.facts(disease.name, ("就诊科室",) + EXAM_PREDICATES)
    departments = [f for f in extra if f.predicate == "就诊科室"]
    exams = [f for f in extra if f.predicate != "就诊科室"][:MAX_EXAMS]
    fact_ids += [f.id for f in departments + exams]
    return Candidate(name=disease.name, score=round(value, 4), matched=tuple(matched), unmatched=tuple(unmatched),
                     examinations=tuple(dict.fromkeys(f.value for f in exams)),
                     department="、".join(dict.fromkeys(f.value for f in departments)),
                     facts=tuple(dict.fromkeys(fact_ids)), contradicted=tuple(contradicted))


def _unmatched(model: DifferentialModel, disease: _Disease, hit: set[str]) -> list[str]:
    """The disease's own clean findings not given, most specific first (to ask about next)."""
    known = symptoms.known_terms()
    rare = model.idf_for_df(UNMATCHED_MIN_DF)  # idf of terms too rare to trust
    own = [t for t, (w, _) in disease.forms.items() if w >= 1.0 and t not in hit and t in model.idf
           and (t in known or (model.idf[t] <= rare and t not in model.disease_names))]
    own.sort(key=lambda t: (-model.idf[t], t))
    return own[:MAX_UNMATCHED]
