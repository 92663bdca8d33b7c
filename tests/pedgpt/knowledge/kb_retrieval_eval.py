"""Retrieval evaluation set: realistic pediatric questions and the facts a good answer needs.

    .venv/bin/python tests/pedgpt/knowledge/kb_retrieval_eval.py            # precision@5 on the real index
    .venv/bin/python tests/pedgpt/knowledge/kb_retrieval_eval.py -v         # ... with every miss
    .venv/bin/python tests/pedgpt/knowledge/kb_retrieval_eval.py --module /path/old_retrieval.py

Each line of `retrieval_eval.jsonl`: the question, the patient's age, the entities whose facts
are relevant ("*布洛芬*" = any entity whose name contains 布洛芬) and the predicates that answer
the question (empty: any clinical predicate of those entities). A retrieved fact is relevant when
both match; adult-only dosing text is never relevant (the consultations are about children).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

EVAL_FILE = Path(__file__).with_name("retrieval_eval.jsonl")


def load_cases(path: Path = EVAL_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _entity_ok(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*") and pattern.endswith("*"):
            if pattern.strip("*") in name:
                return True
        elif name == pattern:
            return True
    return False


def relevant(fact, case: dict) -> bool:
    from pedgpt.knowledge.intent import adult_only

    if fact.predicate in ("用法用量", "用量") and adult_only(fact.value):
        return False
    if not _entity_ok(fact.entity, case["entities"]):
        return False
    return not case["predicates"] or fact.predicate in case["predicates"]


def evaluate(retrieve, index, n: int = 5) -> dict:
    """precision@n over the set, per-case results and median latency (ms)."""
    per_case, latencies = [], []
    for case in load_cases():
        patient = {"age_months": case["age_months"]} if case.get("age_months") is not None else None
        start = time.perf_counter()
        facts = retrieve(case["q"], patient=patient, k=8, index=index)
        latencies.append((time.perf_counter() - start) * 1000)
        top = facts[:n]
        hits = [relevant(f, case) for f in top]
        per_case.append({"q": case["q"], "precision": sum(hits) / n, "facts": [f.text for f in top], "hits": hits})
    return {"precision": statistics.mean(c["precision"] for c in per_case), "cases": per_case,
            "median_ms": statistics.median(latencies), "n": n}


def _retrieve_from(module_path: str | None):
    if module_path is None:
        from pedgpt.knowledge import retrieve

        return retrieve
    spec = importlib.util.spec_from_file_location("retrieval_under_test", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.retrieve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", help="retrieval module file to evaluate instead of the installed one")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    from pedgpt.knowledge import load_index
    from pedgpt.knowledge.linking import warm_up

    index = load_index()
    warm_up(index)
    result = evaluate(_retrieve_from(args.module), index)
    for case in result["cases"]:
        if args.verbose and case["precision"] < 1:
            print(f"{case['precision']:.1f}  {case['q']}")
            for text, hit in zip(case["facts"], case["hits"]):
                print(f"      {'+' if hit else '-'} {text[:90]}")
    print(f"precision@{result['n']} = {result['precision']:.3f} over {len(result['cases'])} questions; "
          f"median latency {result['median_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
