"""Per-entity attributes derived at build time: kind, aliases, pediatric flag, age band and sex.

All rules read only the entity's own name and predicates, so they are deterministic and testable
on a hand-made graph.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pedgpt.knowledge.resources import age_groups, pediatric_extra

#: Predicates whose values are other names of the entity.
ALIAS_PREDICATES = ("别称", "又称", "同义词", "英文名", "英文名称", "英文别名", "外文名", "商品名", "通用名")
#: Predicates that mark a medicine / a disease / a crude herb.
DRUG_PREDICATES = frozenset({"成份", "药品类型", "OTC类型", "规格", "用法用量", "适应症", "功能主治",
                             "药品监管分级", "贮藏", "有效期", "通用名"})
DISEASE_PREDICATES = frozenset({"常见症状", "临床症状及体征", "就诊科室", "ICD10", "常见病因", "并发症",
                                "病因", "多发群体", "诊断依据_症状", "诊断依据_临床表现"})
HERB_PREDICATES = frozenset({"界", "门", "纲", "性味", "入药部位", "采收时间"})
EXAM_SUFFIXES = ("检查", "试验", "测定", "检测", "计数", "造影", "扫描", "穿刺", "活检", "听诊", "筛查")
#: Name prefixes that make an entity pediatric, and that are interchangeable as aliases.
PEDIATRIC_NAME_WORDS = ("新生儿", "早产儿", "婴幼儿", "婴儿", "幼儿", "小儿", "儿童", "少儿", "患儿")
INTERCHANGEABLE_PREFIXES = ("小儿", "儿童", "婴幼儿", "幼儿")
PEDIATRIC_DEPARTMENT = re.compile(r"儿科|小儿|新生儿|儿外|儿童")
FEMALE = re.compile(r"女|妇|孕|产妇|妊娠")
MALE = re.compile(r"男")
_RANGE = re.compile(r"(\d+)\s*[～~\-—至到]\s*(\d+)\s*岁")
_UNDER = re.compile(r"(?:小于|不足|未满)?\s*(\d+)\s*岁\s*(?:以下|以内|之内|前)|(?:小于|不足|未满)\s*(\d+)\s*岁")
_MONTH_YEAR = re.compile(r"(\d+)\s*个?月\s*[～~\-—至到]\s*(\d+)\s*岁")
_MONTHS_UNDER = re.compile(r"(\d+)\s*个?月\s*(?:以下|以内|之内|内)")
_OVER = re.compile(r"(\d+)\s*岁\s*(?:以上|之后|后)")
ADULT_MONTHS = 216


@dataclass(frozen=True)
class Profile:
    """Derived attributes of one entity."""

    kind: str
    """Entity kind (see `pedgpt.knowledge.model.KINDS`)."""
    pediatric: bool
    """Pediatric by name, population or department."""
    age_min: int | None
    """Youngest month of the union of the entity's age bands (None: no age information)."""
    age_max: int | None
    """Oldest month of that union (None: no age information)."""
    bands: tuple[tuple[int, int], ...]
    """The individual age bands (months), for exact filtering."""
    sex: str
    """"F" or "M" when the population names only one sex, else ""."""


def kind_of(name: str, predicates: dict[str, list[str]]) -> str:
    keys = set(predicates)
    if keys & DISEASE_PREDICATES and not keys & {"成份", "药品类型", "规格"}:
        return "disease"
    if keys & HERB_PREDICATES:
        return "herb"
    if keys & DRUG_PREDICATES:
        return "drug"
    if name.endswith(EXAM_SUFFIXES):
        return "exam"
    return "other"


def normalise_english(text: str) -> str:
    """Lower-case, NFKC, dashes and punctuation to single spaces: "Hand—foot" → "hand foot"."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.strip()


def is_english(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{3}", text)) and not re.search(r"[\u4e00-\u9fff]", text)


_DOSAGE_FORM = re.compile(
    r"(?:[（(][^）)]*[）)])*(?:缓释|控释|肠溶|分散|咀嚼|泡腾|含|口崩|口腔崩解|薄膜衣|糖衣)?"
    r"(?:片|胶囊|软胶囊|颗粒|颗粒剂|干混悬剂|混悬液|混悬剂|口服液|口服溶液|溶液|糖浆|滴剂|注射液|"
    r"注射剂|栓|散|丸|乳膏|软膏|凝胶|喷雾剂|气雾剂|滴眼液|滴耳液|滴鼻液|贴剂|贴膏|合剂|酊|搽剂)"
    r"(?:[（(][^）)]*[）)])*$")


def drug_stem(name: str) -> str:
    """The active-ingredient part of a medicine name ("阿莫西林胶囊" → "阿莫西林"), else ""."""
    stem = _DOSAGE_FORM.sub("", name)
    stem = re.sub(r"^注射用", "", stem)
    return stem if stem != name and len(stem) >= 2 else ""


def aliases_of(name: str, predicates: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(alias, source predicate) pairs, plus pediatric-prefix variants (小儿X ↔ 儿童X) and, for
    medicines, the name without its dosage form (阿莫西林胶囊 → 阿莫西林)."""
    found: list[tuple[str, str]] = []
    for predicate in ALIAS_PREDICATES:
        for value in predicates.get(predicate, []):
            value = value.strip()
            if value and value != name and len(value) <= 60:
                found.append((value, predicate))
    for prefix in INTERCHANGEABLE_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix) + 1:
            stem = name[len(prefix):]
            found.extend((other + stem, "前缀变体") for other in INTERCHANGEABLE_PREFIXES if other != prefix)
            break
    if kind_of(name, predicates) == "drug" and drug_stem(name):
        found.append((drug_stem(name), "药名词干"))
    return found


def stem(name: str) -> str:
    """The name without a leading pediatric word ("小儿腹泻" → "腹泻"); the name itself otherwise."""
    for word in PEDIATRIC_NAME_WORDS:
        if name.startswith(word) and len(name) > len(word) + 1:
            return name[len(word):]
    return name


def _numeric_bands(text: str) -> list[tuple[int, int, bool]]:
    """Explicit ages: "5～15岁", "6月至3岁", "2岁以下", "3个月以内", "40岁以上"."""
    bands: list[tuple[int, int, bool]] = []
    for match in _MONTH_YEAR.finditer(text):
        high = int(match.group(2)) * 12 + 11
        bands.append((int(match.group(1)), high, True))
    text = _MONTH_YEAR.sub(" ", text)
    for match in _RANGE.finditer(text):
        low, high = int(match.group(1)) * 12, int(match.group(2)) * 12 + 11
        bands.append((low, high, low < ADULT_MONTHS))
    text = _RANGE.sub(" ", text)
    for match in _MONTHS_UNDER.finditer(text):
        bands.append((0, int(match.group(1)), True))
    text = _MONTHS_UNDER.sub(" ", text)
    for match in _UNDER.finditer(text):
        high = int(match.group(1) or match.group(2)) * 12
        bands.append((0, high, high <= ADULT_MONTHS))
    text = _UNDER.sub(" ", text)
    for match in _OVER.finditer(text):
        bands.append((int(match.group(1)) * 12, 1500, False))
    return bands


def age_bands(text: str) -> list[tuple[int, int, bool]]:
    """Age bands (min, max months, pediatric) named in a population phrase or entity name.

    Explicit ages win over population words in the same phrase ("10岁以下儿童" is 0–10 y, not
    all of childhood)."""
    numeric = _numeric_bands(text)
    if numeric:
        return numeric
    bands: list[tuple[int, int, bool]] = []
    rest = text
    for group in age_groups():  # longest first; consume matched text so 儿童 does not re-match
        if group.term in rest:
            bands.append((group.min_months, group.max_months, group.pediatric))
            rest = rest.replace(group.term, " ")
    return bands


def _narrowest(bands: list[tuple[int, int, bool]]) -> int:
    return min(high - low for low, high, _ in bands)


def profile(name: str, predicates: dict[str, list[str]]) -> Profile:
    kind = kind_of(name, predicates)
    populations = predicates.get("多发群体", []) + predicates.get("发病性别倾向", [])
    bands = [b for text in populations for b in age_bands(text)]
    name_bands = [b for b in age_bands(name) if b[2]] if any(w in name for w in PEDIATRIC_NAME_WORDS) else []
    if name_bands and (not bands or _narrowest(name_bands) < _narrowest(bands)):
        bands = name_bands  # "新生儿黄疸": the name is more specific than its population words
    departments = " ".join(predicates.get("就诊科室", []))
    pediatric = (bool(name_bands) or any(b[2] for b in bands) or bool(PEDIATRIC_DEPARTMENT.search(departments))
                 or name in pediatric_extra())
    pediatric = pediatric and kind in ("disease", "other", "exam", "drug")
    spans = tuple(sorted({(b[0], b[1]) for b in bands}))
    sexes = {s for text in populations for s, rx in (("F", FEMALE), ("M", MALE)) if rx.search(text)}
    return Profile(kind=kind, pediatric=pediatric,
                   age_min=min((s[0] for s in spans), default=None),
                   age_max=max((s[1] for s in spans), default=None),
                   bands=spans, sex=sexes.pop() if len(sexes) == 1 else "")
