"""`pedgpt kb`: search the CMeKG knowledge base, run the knowledge-based differential, show stats.

    pedgpt kb search 小儿急性中耳炎 [--json]
    pedgpt kb differential --symptoms 发热,咳嗽,喘息 [--age-months 10] [--sex F] [--json]
    pedgpt kb stats [--json]

The first call builds the index under PEDGPT_HOME (about a minute); later calls open it instantly.
"""

from __future__ import annotations

import argparse

from pedgpt.cli.common import add_json_flag, emit_json, number

#: Facts shown per entity by `kb search`, and entities shown.
SEARCH_FACTS, SEARCH_ENTITIES = 40, 5


def register(subparsers) -> None:
    parser = subparsers.add_parser("kb", help="knowledge base (CMeKG): search, differential, stats",
                                   description="Pediatric knowledge base from CMeKG.")
    sub = parser.add_subparsers(dest="kb_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True

    search = sub.add_parser("search", help="entities mentioned in TEXT and their facts")
    search.add_argument("text", metavar="TEXT", help="entity name, alias, or free text (Chinese or English)")
    search.add_argument("--limit", type=number(int, "--limit"), default=SEARCH_FACTS,
                        help=f"facts per entity (default {SEARCH_FACTS})")
    add_json_flag(search)
    search.set_defaults(func=_search)

    diff = sub.add_parser("differential", help="rank pediatric diseases by the given findings")
    diff.add_argument("--symptoms", required=True, help="findings separated by commas, e.g. 发热,咳嗽,喘息")
    diff.add_argument("--age-months", type=number(float, "--age-months"), default=None)
    diff.add_argument("--sex", choices=["F", "M", "f", "m"], default=None)
    diff.add_argument("--k", type=number(int, "--k"), default=10, help="candidates to list (default 10)")
    diff.add_argument("--all-diseases", action="store_true", help="also rank diseases not flagged pediatric")
    add_json_flag(diff)
    diff.set_defaults(func=_differential)

    stats = sub.add_parser("stats", help="index size, counts, build time and query latency")
    add_json_flag(stats)
    stats.set_defaults(func=_stats)


def _search(args: argparse.Namespace) -> int:
    from pedgpt.errors import InputError
    from pedgpt.knowledge.search import search

    if args.limit < 1:
        raise InputError("--limit must be at least 1")
    result = search(args.text, facts_per_entity=args.limit, max_entities=SEARCH_ENTITIES)
    if args.json:
        emit_json(result)
        return 0
    for entity in result["entities"]:
        flag = " [儿科]" if entity["pediatric"] else ""
        aliases = f" ({'、'.join(entity['aliases'][:6])})" if entity["aliases"] else ""
        print(f"{entity['name']}{flag}{aliases}")
        for fact in entity["facts"]:
            print(f"  {fact['id']}  {fact['predicate']}: {fact['value']}")
    if result.get("suggestions"):
        print("did you mean: " + "、".join(result["suggestions"]))
    return 0


def _differential(args: argparse.Namespace) -> int:
    from pedgpt.knowledge.ddx import differential, unrecognised

    candidates = differential(args.symptoms, age_months=args.age_months, sex=args.sex, k=args.k,
                              pediatric_only=not args.all_diseases)
    unknown = unrecognised(args.symptoms)
    if args.json:
        emit_json({"candidates": [c.to_dict() for c in candidates], "unrecognised": unknown})
        return 0
    if unknown:
        print("not recognised (ignored): " + "; ".join(unknown))
    for rank, cand in enumerate(candidates, start=1):
        print(f"{rank:2d}. {cand.name}  {cand.score:.3f}  [{cand.department or '—'}]")
        print(f"    matched: {'、'.join(cand.matched)}")
        if cand.contradicted:
            print(f"    against: {'、'.join(cand.contradicted)}")
        if cand.unmatched:
            print(f"    also ask about: {'、'.join(cand.unmatched)}")
        if cand.examinations:
            print(f"    examinations: {'、'.join(cand.examinations)}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from pedgpt.knowledge.search import stats_with_latency

    stats = stats_with_latency()
    if args.json:
        emit_json(stats)
        return 0
    print(f"index:            {stats['path']}")
    print(f"source:           pycmekg {stats['pycmekg_version']} (schema {stats['schema_version']})")
    print(f"entities:         {stats['entities']:,} ({stats['pediatric']:,} pediatric, "
          f"{stats['pediatric_diseases']:,} pediatric diseases)")
    print(f"facts:            {stats['facts']:,}   aliases: {stats['aliases']:,}")
    print(f"index build time: {stats['build_seconds']:.1f} s (built {stats['built_at']})")
    print(f"index size:       {stats['index_bytes'] / 1e6:.1f} MB")
    print(f"open time:        {stats['open_ms']:.1f} ms")
    for name, value in stats["latency_ms"].items():
        print(f"latency {name + ':':<9} {value:.1f} ms (median of {stats['latency_runs']}, after warm-up)")
    print(f"warm-up:          {stats['warmup_ms']:.0f} ms (first linking/differential call)")
    return 0
