"""Coding benchmark: ICD-10-CM load, index and search speed; coder speed and accuracy.

Why: search must answer in milliseconds once indexed, the coder must keep up with a clinic's
notes, and its accuracy must be known on sentences it was not tuned on. Run in a fresh process
(the first phase times reading the package). Prints JSON and writes bench/results/coding.json.

    .venv/bin/python bench/coding_bench.py
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
QUERIES = [
    "type 2 diabetes", "hypertension", "chest pain", "asthma", "heart failure",
    "atrial fibrillation", "pneumonia", "urinary tract infection", "low back pain", "migraine",
    "depression", "anxiety", "obesity", "chronic kidney disease stage 3a", "fracture femur",
    "copd", "covid", "hypothyroidism", "gout", "diab", "fever", "cough", "abdominal pain",
    "breast cancer", "E11", "I10", "unspecified", "sepsis", "stroke", "anemia",
]  # fmt: skip


def _timed(function: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    result = function()
    return result, time.perf_counter() - began


def bench_icd10cm() -> dict[str, Any]:
    from healthspace.terminology import icd10cm

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        table, figures["load_from_package_s"] = _timed(
            lambda: icd10cm.load_icd10cm.__wrapped__(cache)
        )
        index, figures["index_build_s"] = _timed(lambda: icd10cm._Index(table.codes))
        table.search("warm up")  # writes the index cache
        cached, figures["load_from_cache_s"] = _timed(
            lambda: icd10cm.load_icd10cm.__wrapped__(cache)
        )
        _, figures["index_load_from_cache_s"] = _timed(lambda: cached._index)
        figures["cache_mb"] = round(sum(p.stat().st_size for p in cache.iterdir()) / 1e6, 1)
    figures["codes"] = len(table)
    figures["billable"] = sum(1 for item in table if item.billable)
    figures["index_entries"] = len(index.entry_code)
    times = []
    for _ in range(10):
        for query in QUERIES:
            _, elapsed = _timed(lambda q=query: table.search(q, limit=20))
            times.append(elapsed)
    times.sort()
    figures["queries"] = len(times)
    figures["query_p50_ms"] = round(statistics.median(times) * 1000, 3)
    figures["query_p95_ms"] = round(times[int(len(times) * 0.95)] * 1000, 3)
    figures["query_max_ms"] = round(times[-1] * 1000, 3)
    for name in ("load_from_package_s", "index_build_s", "load_from_cache_s"):
        figures[name] = round(figures[name], 3)
    figures["index_load_from_cache_s"] = round(figures["index_load_from_cache_s"], 3)
    return figures


def _score(coder: Any, notes: list[dict[str, Any]], lang_given: bool) -> dict[str, Any]:
    true_positive = false_positive = false_negative = exact = 0
    misses = []
    for note in notes:
        lang = note["lang"] if lang_given else None
        found = {s.code for s in coder.suggest(note["text"], lang=lang)}
        gold = set(note["codes"])
        true_positive += len(found & gold)
        false_positive += len(found - gold)
        false_negative += len(gold - found)
        exact += found == gold
        if found != gold:
            misses.append(
                {
                    "text": note["text"],
                    "missing": sorted(gold - found),
                    "extra": sorted(found - gold),
                }
            )
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = true_positive / max(true_positive + false_negative, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {
        "notes": len(notes),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "exact_notes": exact,
        "misses": misses,
    }


def bench_coder() -> dict[str, Any]:
    from healthspace.coding.icd10_coder import load_icd10_coder

    figures: dict[str, Any] = {}
    coder, figures["coder_build_s"] = _timed(lambda: load_icd10_coder(None))
    _, figures["description_phrases_build_s"] = _timed(lambda: coder._description_matcher)
    dev = json.loads((REPO / "tests/coding/gold_notes.json").read_text("utf-8"))["notes"]
    held_out = json.loads((BENCH / "data/coding_heldout.json").read_text("utf-8"))["notes"]
    sentences = [n["text"] for n in dev + held_out]
    # A "note" of about 1,500 characters: eight sentences run together, as in a consultation.
    notes = [" ".join(sentences[i : i + 8]) for i in range(0, len(sentences) - 8)]
    rounds = 5
    began = time.perf_counter()
    for _ in range(rounds):
        for note in notes:
            coder.suggest(note, include_all=True)
    elapsed = time.perf_counter() - began
    characters = sum(len(n) for n in notes) * rounds
    figures["notes_per_s"] = round(len(notes) * rounds / elapsed, 1)
    figures["mean_note_chars"] = round(characters / (len(notes) * rounds))
    figures["chars_per_s"] = round(characters / elapsed)
    figures["coder_build_s"] = round(figures["coder_build_s"], 3)
    figures["description_phrases_build_s"] = round(figures["description_phrases_build_s"], 3)
    figures["lexicon_phrases"] = coder._lexicon_matcher.size
    figures["description_phrases"] = coder._description_matcher.size
    figures["accuracy_dev_lang_given"] = _score(coder, dev, lang_given=True)
    figures["accuracy_dev_lang_guessed"] = _score(coder, dev, lang_given=False)
    figures["accuracy_heldout_lang_given"] = _score(coder, held_out, lang_given=True)
    figures["accuracy_heldout_lang_guessed"] = _score(coder, held_out, lang_given=False)
    return figures


def main() -> None:
    result = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or "?"},
        "icd10cm": bench_icd10cm(),
        "coder": bench_coder(),
    }
    out = BENCH / "results" / "coding.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
