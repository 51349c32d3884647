"""Retrieval benchmark: does search find the document that answers a question, and how fast?

Why: answers are only as good as the passages search hands them. Two query sets: the MedQuAD
questions in ../shared/data/medquad (each answered by its focus topic, so every MedQuAD article
with that focus counts as right), and bench/data/everyday_queries.json, French and English
phrasings written for Healthspace with the documents that answer them. Prints recall@1,
recall@5 and MRR (over the top 10) for BM25 alone and, when an embedding package is installed,
hybrid; plus queries per second and p50/p95 latency. Writes bench/results/retrieval_bench.json.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from healthspace.knowledge.corpora import load_corpus
from healthspace.knowledge.folding import fold
from healthspace.knowledge.registry import DOCUMENT_PROVIDERS
from healthspace.knowledge.search import SearchEngine, engine_for
from healthspace.knowledge.search.engine import Mode

BENCH = Path(__file__).resolve().parent
MEDQUAD = BENCH.parents[1] / "shared" / "data" / "medquad"
EVERYDAY = BENCH / "data" / "everyday_queries.json"
RESULTS = BENCH / "results" / "retrieval_bench.json"
DEPTH = 10  # results looked at per query (MRR is over these)
TARGET_RECALL_AT_5 = 0.9
TARGET_P50_MS = 10.0


@dataclass(frozen=True)
class Query:
    text: str
    lang: str | None
    relevant: Callable[[str, str], bool]  # (document id, title) → answers the query?
    label: str


def _folded(text: str) -> str:
    return " ".join(fold(text).split())


def medquad_queries(engine: SearchEngine) -> list[Query]:
    """Every MedQuAD question that has an answer, with the articles sharing its focus."""
    by_focus: dict[str, set[str]] = {}
    for document in engine.documents:
        if document.id.startswith("medquad:"):
            by_focus.setdefault(_folded(document.title["en"]), set()).add(document.id)
    queries = []
    for path in sorted(MEDQUAD.rglob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        focus_element = root.find("Focus")
        if focus_element is None:
            focus_element = root.find("doctitle-focus")
        focus = _folded("".join(focus_element.itertext())) if focus_element is not None else ""
        expected = frozenset(by_focus.get(focus, ()))
        if not expected:
            continue  # a topic the importer skipped (no answers): not covered
        for pair in (*root.iter("QAPair"), *root.iter("pair")):
            question = pair.find("Question")
            if question is None:
                question = pair.find("question")
            answer = pair.find("Answer")
            if answer is None:
                answer = pair.find("answer")
            if question is None or answer is None or not "".join(answer.itertext()).strip():
                continue
            text = " ".join("".join(question.itertext()).split())
            queries.append(
                Query(text, "en", lambda doc_id, _t, e=expected: doc_id in e, f"medquad:{focus}")
            )
    return queries


def everyday_queries(engine: SearchEngine) -> tuple[list[Query], list[str]]:
    """The everyday phrasings whose expected documents exist, and those that are not covered."""
    data = orjson.loads(EVERYDAY.read_bytes())
    ids = {document.id for document in engine.documents}
    titles = {_folded(t) for document in engine.documents for t in document.title.values()}
    covered: list[Query] = []
    uncovered: list[str] = []
    for item in data["queries"]:
        expected_ids = frozenset(item.get("expected", ())) & ids
        expected_titles = frozenset(_folded(t) for t in item.get("expected_titles", ())) & titles
        if not expected_ids and not expected_titles:
            uncovered.append(item["query"])
            continue

        def relevant(
            doc_id: str,
            title: str,
            e_ids: frozenset[str] = expected_ids,
            e_titles: frozenset[str] = expected_titles,
        ) -> bool:
            return doc_id in e_ids or _folded(title) in e_titles

        covered.append(Query(item["query"], item.get("lang"), relevant, item["query"]))
    return covered, uncovered


def evaluate(engine: SearchEngine, queries: Sequence[Query], mode: Mode) -> dict[str, Any]:
    """recall@1, recall@5, MRR@10 and latency of one query set in one mode."""
    hits_at_1 = hits_at_5 = 0
    reciprocal = 0.0
    latencies: list[float] = []
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for query in queries:
        t0 = time.perf_counter()
        results = engine.search(query.text, lang=query.lang, limit=DEPTH, mode=mode)  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - t0) * 1000)
        rank = next(
            (n for n, hit in enumerate(results, 1) if query.relevant(hit.id, hit.title)), None
        )
        if rank is not None:
            hits_at_1 += rank == 1
            hits_at_5 += rank <= 5
            reciprocal += 1.0 / rank
        if rank is None or rank > 5:
            misses.append(
                {"query": query.text, "rank": rank, "top3": [h.title for h in results[:3]]}
            )
    elapsed = time.perf_counter() - started
    n = max(len(queries), 1)
    latencies.sort()
    return {
        "queries": len(queries),
        "recall_at_1": round(hits_at_1 / n, 4),
        "recall_at_5": round(hits_at_5 / n, 4),
        "mrr_at_10": round(reciprocal / n, 4),
        "qps": round(len(queries) / elapsed, 1) if elapsed else None,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
        "misses": misses[:25],
    }


def machine() -> dict[str, Any]:
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=BENCH, capture_output=True, text=True).stdout.strip()
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--questions", type=int, default=None, help="Sample this many MedQuAD questions (all)."
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bm25-only", action="store_true", help="Skip hybrid even if possible.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not MEDQUAD.is_dir():
        print(
            f"retrieval bench: {MEDQUAD} is absent (it comes with ../shared/data).", file=sys.stderr
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="hs-retrieval-") as folder:
        home = Path(folder)
        t0 = time.perf_counter()
        info, _ = load_corpus(home, "medquad", [MEDQUAD])
        corpus_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine = engine_for(home)
        cold_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        SearchEngine(engine.documents, cache_dir=home / "cache", embedder=None)
        warm_seconds = time.perf_counter() - t0

        medquad = medquad_queries(engine)
        if args.questions is not None and args.questions < len(medquad):
            medquad = random.Random(args.seed).sample(medquad, args.questions)
        everyday, uncovered = everyday_queries(engine)

        modes: list[Mode] = ["bm25"]
        dense_seconds = None
        if engine.embedder is not None and not args.bm25_only:
            t0 = time.perf_counter()
            engine.dense()
            dense_seconds = time.perf_counter() - t0
            modes.append("hybrid")

        engine.search("warm up", mode=modes[-1])
        results: dict[str, Any] = {}
        for mode in modes:
            results[mode] = {
                "medquad": evaluate(engine, medquad, mode),
                "everyday": evaluate(engine, everyday, mode),
            }

    report = {
        "machine": machine(),
        "index": {
            "documents": len(engine.documents),
            "providers": sorted(DOCUMENT_PROVIDERS),
            "medquad_articles": info.documents,
            "embedder": engine.embedder.name if engine.embedder else None,
            "corpus_load_seconds": round(corpus_seconds, 2),
            "cold_build_seconds": round(cold_seconds, 2),
            "warm_start_seconds": round(warm_seconds, 2),
            "dense_build_seconds": round(dense_seconds, 2) if dense_seconds else None,
        },
        "everyday_uncovered": uncovered,
        "targets": {"recall_at_5": TARGET_RECALL_AT_5, "p50_ms": TARGET_P50_MS},
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))

    index = report["index"]
    print(
        f"index: {index['documents']} documents ({', '.join(index['providers'])} + "
        f"{info.documents} MedQuAD articles); cold build {index['cold_build_seconds']} s, "
        f"warm start {index['warm_start_seconds']} s"
        + (f", dense vectors {index['dense_build_seconds']} s" if dense_seconds else "")
    )
    print(
        f"{'mode':7} {'set':9} {'n':>5} {'R@1':>6} {'R@5':>6} {'MRR':>6} {'qps':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for mode, sets in results.items():
        for name, r in sets.items():
            print(
                f"{mode:7} {name:9} {r['queries']:5d} {r['recall_at_1']:6.3f} "
                f"{r['recall_at_5']:6.3f} {r['mrr_at_10']:6.3f} {r['qps']:7.1f} "
                f"{r['p50_ms']:7.2f} {r['p95_ms']:7.2f}"
            )
    if uncovered:
        print(f"{len(uncovered)} everyday queries not covered by the current content.")
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
