"""Tables: shipped ones load and are sourced; malformed ones fail loudly with a clear message."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pedgpt.paths import asset
from pedgpt.safety import tables
from pedgpt.safety.schema import (ContraindicationTable, DrugTable, FindingTable, TableError, TriageRuleTable)


def test_safety_tables_load_and_count():
    counts = tables.load_all()
    assert counts["drugs"] >= 6 and counts["contraindications"] >= 10 and counts["triage_rules"] >= 40


def test_safety_tables_every_entry_has_source_and_tag():
    for rule in tables.contraindications():
        assert rule.source and rule.tag in ("V", "R") and rule.rule.zh and rule.rule.en
    for drug in tables.drugs():
        assert drug.names.zh and drug.names.en
        for regimen in drug.regimens:
            for name in ("per_dose_min", "per_dose_max", "interval_hours_min", "max_daily_per_kg"):
                for value in getattr(regimen, name):
                    assert value.source and value.tag in ("V", "R")
    for rule in tables.triage_rule_table().rules:
        assert rule.source and rule.tag in ("V", "R") and rule.text.zh and rule.text.en


def test_safety_tables_required_drugs_and_rules_present():
    ids = {d.id for d in tables.drugs()}
    assert {"paracetamol", "ibuprofen", "amoxicillin", "ors", "zinc", "aspirin", "codeine", "tramadol"} <= ids
    rule_ids = {r.id for r in tables.contraindications()}
    assert {"CI-1", "CI-2-codeine", "CI-2-tramadol", "CI-2zh", "CI-3", "CI-3zh", "CI-4-dehydration",
            "CI-4-chickenpox"} <= rule_ids


def _broken_copy(tmp_path, name, mutate):
    path = tmp_path / name
    shutil.copy(asset("safety", name), path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_safety_tables_missing_source_fails(tmp_path):
    path = _broken_copy(tmp_path, "contraindications.yaml",
                        lambda d: d["contraindications"][0].pop("source"))
    with pytest.raises(TableError, match="contraindications.yaml.*source"):
        tables.load_table(path, ContraindicationTable)


def test_safety_tables_bad_tag_fails(tmp_path):
    def mutate(d):
        d["drugs"][0]["regimens"][0]["per_dose_max"][0]["tag"] = "X"
    with pytest.raises(TableError, match="drugs.yaml"):
        tables.load_table(_broken_copy(tmp_path, "drugs.yaml", mutate), DrugTable)


def test_safety_tables_inverted_range_fails(tmp_path):
    def mutate(d):
        d["drugs"][0]["regimens"][0]["per_dose_min"][0]["v"] = 99
    with pytest.raises(TableError, match="exceeds"):
        tables.load_table(_broken_copy(tmp_path, "drugs.yaml", mutate), DrugTable)


def test_safety_tables_bad_regex_fails(tmp_path):
    def mutate(d):
        d["findings"][0]["zh"].append("(unclosed")
    with pytest.raises(TableError, match="regular expression"):
        tables.load_table(_broken_copy(tmp_path, "triage_findings.yaml", mutate), FindingTable)


def test_safety_tables_unknown_level_fails(tmp_path):
    def mutate(d):
        d["rules"][0]["level"] = "soon"
    with pytest.raises(TableError, match="triage_rules.yaml"):
        tables.load_table(_broken_copy(tmp_path, "triage_rules.yaml", mutate), TriageRuleTable)


def test_safety_tables_dangling_reference_fails(tmp_path):
    path = _broken_copy(tmp_path, "contraindications.yaml",
                        lambda d: d["contraindications"][0].update(drugs=["unobtainium"]))
    table = tables.load_table(path, ContraindicationTable)
    with pytest.raises(TableError, match="unobtainium"):
        tables._check_contraindication_refs(table, tables.drug_table(), tables.finding_table())


def test_safety_tables_unreadable_yaml_fails(tmp_path):
    path = tmp_path / "drugs.yaml"
    path.write_text("drugs: [unclosed", encoding="utf-8")
    with pytest.raises(TableError, match="cannot read"):
        tables.load_table(path, DrugTable)


def test_safety_tables_resolve_and_suggest():
    assert tables.resolve_drug(" Motrin ").id == "ibuprofen"
    assert tables.resolve_drug("nope") is None
    assert "ibuprofen" in tables.suggest_drugs("ibuprofn")


def test_safety_tables_module_check_runs():
    from pedgpt.safety.__main__ import main

    assert main() == 0


def test_safety_tables_names_for_contraindication():
    rule = next(r for r in tables.contraindications() if r.id == "CI-3")
    names = tables.names_for(rule)
    assert "小儿氨酚黄那敏" in names["zh"] and "dextromethorphan" in names["en"] and "Robitussin" in names["brands"]
