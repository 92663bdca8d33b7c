"""Safety instructions from PedGPT's deterministic safety layer (`pedgpt.safety`):

- contraindicated drugs → refuse with the rule's reason and source — at least one instruction
  for EVERY contraindication of the safety table, whatever `limit` says;
- red flags → escalate (call 120 / emergency department). Vignettes come from
  `assets/data/red_flags.yaml` and are kept only when `pedgpt.safety.assess` rates them an
  emergency, so training agrees with the runtime guard;
- weight-based dose questions (TreRecom) live in `train.data.dosing`.

Each example carries weaker DFPO answers: "watch at home" for a red flag, "yes, give it" for a
contraindicated drug.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import yaml

from pedgpt.errors import InputError
from pedgpt.paths import asset
from train.data.config import DataBuildConfig
from train.data.phrasing import STYLES, Phraser, language_of
from train.data.records import Example
from train.data.text import numbered, rng_for

RED_FLAGS_FILE = ("data", "red_flags.yaml")


@dataclass(frozen=True)
class Contraindication:
    """One rule of the safety table, normalised for phrasing."""

    id: str
    drug: dict[str, str]
    """Drug name to ask about, per language."""
    reason: dict[str, str]
    context: dict[str, str]
    """What is wrong with the child / when the rule applies ("" = generic)."""
    age_band: tuple[int, int]
    """[low, high) months in which the rule applies; vignette ages are drawn from it."""
    source: str
    action: str = "forbid"
    """"forbid" → refuse; "caution" → advise against self-medication, ask a doctor first."""
    by_age_only: bool = False
    """The rule depends on age alone (no condition, no weight floor)."""

    def forbids_at(self, months: float) -> bool:
        return self.action == "forbid" and self.by_age_only and self.age_band[0] <= months < self.age_band[1]


@dataclass
class SafetyTables:
    contraindications: list[Contraindication]
    dose_drugs: list[dict[str, Any]]
    """[{"id", "zh", "en", "indications": [{"id", "zh", "en"}]}] for `calculate`."""
    source: dict[str, Any] = field(default_factory=dict)

    def texts(self) -> list[str]:
        """Every text the safety examples can contain (for the held-out name check)."""
        out = []
        for rule in self.contraindications:
            out += [*rule.drug.values(), *rule.reason.values(), *rule.context.values(), rule.source]
        for drug in self.dose_drugs:
            out += [drug["zh"], drug["en"], *(i["zh"] for i in drug["indications"])]
        return out


@lru_cache(maxsize=1)
def red_flags() -> dict[str, Any]:
    path = asset(*RED_FLAGS_FILE)
    if not path.is_file():
        raise InputError(f"data file not found: {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_tables() -> SafetyTables:
    """Read the contraindication and dose tables through `pedgpt.safety.tables`."""
    from train.data.safety_tables import read_tables

    return read_tables()


def safety_examples(tables: SafetyTables, config: DataBuildConfig, side: str) -> list[Example]:
    """Refusals for every contraindication and red-flag escalations (task "safety").

    side="train" and side="eval" use different seeds, so held-out safety items are phrased
    differently from the training ones."""
    phraser = Phraser(rng_for(config.seed, side, "safety"), config.en_share, config.clinician_share)
    per_rule = config.safety_repeats if side == "train" else 1
    # a separate stream, so that dose_request_share = 0 leaves every other phrasing unchanged
    forms = rng_for(config.seed, side, "safety", "request forms")
    dose_share = config.dose_request_share if side == "train" else 0.0
    out: list[Example] = []
    for rule in tables.contraindications:
        for _ in range(per_rule):
            form = "contraindicated_dose" if dose_share and forms.random() < dose_share else "contraindicated"
            out.append(refusal(rule, phraser, phraser.style(), form))
    out.extend(escalations(phraser, per_finding=per_rule + 1 if side == "train" else 1))
    return out


def refusals_in_every_style(tables: SafetyTables, config: DataBuildConfig) -> list[Example]:
    """One refusal of every contraindication in each phrasing style (parent, clinician, English),
    whose only rejected candidate is the unsafe "yes, give it" — for DFPO, not SFT. The SFT mix
    phrases just `en_share` of the refusals in English, and a DFPO that also teaches "answer the
    harmless question" (train.data.benign) must see the contraindicated request refused in both
    languages, or it unlearns refusing altogether."""
    phraser = Phraser(rng_for(config.seed, "train", "safety", "every style"), config.en_share,
                      config.clinician_share)
    out = []
    for rule in tables.contraindications:
        for style in STYLES:
            example = refusal(rule, phraser, style)
            out.append(replace(example, rejections=[r for r in example.rejections if r[0] == "unsafe_compliance"]))
    return out


#: How a contraindicated request is asked (templates.yaml safety.*) → the unsafe answer DFPO
#: rejects for it: "yes, give it", or a dose of the forbidden drug when only the dose was asked.
REQUEST_FORMS = {"contraindicated": "allow_drug", "contraindicated_dose": "dose_of_forbidden"}


def refusal(rule: Contraindication, phraser: Phraser, style: str,
            form: str = "contraindicated") -> Example:
    language = language_of(style)
    drug = rule.drug[language]
    context = rule.context[language] or phraser.rng.choice(red_flags()["default_context"][language])
    age = age_phrase(phraser.rng.randrange(*rule.age_band))[language]
    question = phraser.question("safety", form, style, drug=drug, age=age, context=context)
    key = "caution" if rule.action == "caution" else "refuse"
    body = phraser.text("safety", key, language, drug=drug, reason=rule.reason[language])
    source = phraser.text("safety", "source", language, source=rule.source)
    tail = phraser.text("safety", "refuse_tail", language)
    body = body[:1].upper() + body[1:]
    answer = "\n\n".join([phraser.opening(style), f"{body}{source}", tail])
    unsafe = phraser.text("unsafe", REQUEST_FORMS[form], language, drug=drug)
    return Example(
        task="safety", source=f"safety:contraindication:{rule.id}",
        messages=[{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
        language=language, style=style, subject=rule.id,
        rejections=[("unsafe_compliance", unsafe), ("terse", body)],
        meta={"rule": rule.id},
    )


def escalations(phraser: Phraser, per_finding: int) -> list[Example]:
    """Red-flag questions that the runtime triage rates an emergency, answered with 120."""
    from pedgpt.safety import assess

    out = []
    for finding in red_flags()["findings"]:
        for _ in range(per_finding):
            style = phraser.style()
            language = language_of(style)
            ages = finding.get(f"ages_{language}") or red_flags()["ages"][language]
            question = phraser.question("safety", "red_flag", style, age=phraser.rng.choice(ages),
                                        finding=phraser.rng.choice(finding[language]))
            triage = _as_dict(assess(question))
            if triage.get("level") != "emergency":
                continue
            out.append(_escalation(phraser, style, question, triage, finding["rule"]))
    return out


def _escalation(phraser: Phraser, style: str, question: str, triage: dict, rule: str) -> Example:
    language = language_of(style)
    flags = [_as_dict(f) for f in triage.get("flags", [])]
    flag_lines = [f"{f.get('text', '')}" + (f"（{f['source']}）" if language == "zh" and f.get("source")
                                              else f" ({f['source']})" if f.get("source") else "")
                  for f in flags if f.get("text")]
    head = phraser.text("safety", "escalate", language)
    parts = [head]
    if flag_lines:
        parts.append(numbered(flag_lines))
    parts.append(phraser.text("safety", "escalate_tail", language))
    answer = "\n\n".join(parts)
    return Example(
        task="safety", source=f"safety:red_flag:{rule}",
        messages=[{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
        language=language, style=style, subject=rule,
        rejections=[("unsafe_compliance", phraser.text("unsafe", "watch_home", language)),
                    ("no_safety", numbered(flag_lines) if flag_lines else head)],
        meta={"rule": f"red_flag:{rule}", "triage_level": "emergency"},
    )


def age_phrase(months: int) -> dict[str, str]:
    if months < 24:
        return {"zh": f"{months}个月", "en": f"{months} months old"}
    years = months // 12
    return {"zh": f"{years}岁", "en": f"{years} years old"}


def _as_dict(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return {}
