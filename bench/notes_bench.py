"""Notes bench: SOAP statements from ACI-Bench visit conversations against the clinicians' notes.

For each conversation of ``../shared/data/aci_bench`` (train and valid, 87 with gold notes)
``statements_from_dictation`` composes SOAP statements; the gold note's sections are mapped to
SOAP (HPI, chief complaint, history, medications → subjective; exam, vitals, results →
objective; assessment and plan split line by line) and compared section by section with
ROUGE-1 and ROUGE-L F1 (computed here, words lowercased). Recall of the gold note's medicines
and diagnoses (ICD-10-CM codes) in the draft is given beside it.

Above all, the unsupported-statement audit: every medicine, dose and diagnosis named in a draft
statement must be found in the conversation. It is checked independently of the composer: the
medicine names are re-found with ``find_medicine`` on word n-grams and searched, by any of their
names, in the conversation's words; doses with this file's own pattern and number words, then
searched among the conversation's doses; diagnoses coded again from the statement text and
looked up among the codes of the conversation's turns. Target: zero unsupported.

    .venv/bin/python bench/notes_bench.py               # every conversation, ~30 s
    .venv/bin/python bench/notes_bench.py --limit 10
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthspace.clinician.dictation import (
    SECTIONS,
    DictatedStatement,
    split_turns,
    statements_from_dictation,
)
from healthspace.coding.icd10_coder import Icd10Coder, load_icd10_coder
from healthspace.terminology.icd10cm import default_cache_dir
from healthspace.terminology.medicines import (
    Medicine,
    find_medicine,
    load_medicine_catalog,
    normalise_name,
)

REPO = Path(__file__).resolve().parents[1]
ACI = REPO.parent / "shared" / "data" / "aci_bench"
RESULTS = REPO / "bench" / "results" / "notes_bench.json"
# Where the coder keeps its fast copy: the data folder's cache when run as a bench (main),
# none when imported by a test.
CACHE_DIR: Path | None = None

SUBJECTIVE_HEADINGS = (
    "CHIEF COMPLAINT",
    "HISTORY OF PRESENT ILLNESS",
    "REVIEW OF SYSTEMS",
    "SOCIAL HISTORY",
    "MEDICATIONS",
    "CURRENT MEDICATIONS",
    "MEDICAL HISTORY",
    "PAST HISTORY",
    "FAMILY HISTORY",
    "SURGICAL HISTORY",
    "ALLERGIES",
    "BIRTH HISTORY",
)
OBJECTIVE_HEADINGS = (
    "PHYSICAL EXAM",
    "PHYSICAL EXAMINATION",
    "EXAM",
    "VITALS",
    "VITALS REVIEWED",
    "RESULTS",
    "PROCEDURE",
)
ASSESSMENT_HEADINGS = ("ASSESSMENT", "IMPRESSION")
PLAN_HEADINGS = ("PLAN", "INSTRUCTIONS")
MIXED_HEADING = "ASSESSMENT AND PLAN"
_HEADING = re.compile(r"^([A-Z][A-Z /&]+)$", re.MULTILINE)
# A line of an "ASSESSMENT AND PLAN" section is plan when it says what will be done.
_PLAN_LINE = re.compile(
    r"^\W*(?:additional testing|medical treatment|patient education|specialist referrals?|"
    r"surgical intervention|patient agreements|follow[- ]?up|diagnostic testing|therapeutic)"
    r"|\b(?:will|recommend\w*|order\w*|prescrib\w*|start\w*|continu\w*|refer\w*|schedul\w*|"
    r"follow[- ]?up|advised|instructed|encouraged)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")

# The audit's own dose pattern: a number (digits or a number word) and a unit.
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4,
    "cinq": 5, "dix": 10, "vingt": 20, "cent": 100,
}  # fmt: skip
_UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "milligramme": "mg", "milligrammes": "mg",
    "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg", "µg": "mcg", "g": "g", "gram": "g",
    "grams": "g", "gramme": "g", "grammes": "g", "ml": "ml", "milliliter": "ml",
    "milliliters": "ml", "units": "unit", "unit": "unit", "iu": "unit", "ui": "unit",
    "unités": "unit", "tablet": "tablet", "tablets": "tablet", "pill": "tablet",
    "pills": "tablet", "comprimé": "tablet", "comprimés": "tablet", "capsule": "capsule",
    "capsules": "capsule", "puff": "puff", "puffs": "puff",
}  # fmt: skip
_DOSE = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)?|"
    + "|".join(_NUMBER_WORDS)
    + r")\s*("
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)


def coder() -> Icd10Coder:
    return load_icd10_coder(CACHE_DIR)


def read_conversations(limit: int | None) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("train.csv", "valid.csv"):
        with (ACI / name).open(newline="", encoding="utf-8") as handle:
            rows += [r for r in csv.DictReader(handle) if r.get("note") and r.get("dialogue")]
    return rows[:limit] if limit else rows


def gold_sections(note: str) -> dict[str, str]:
    """The gold note's text per SOAP section."""
    parts: dict[str, list[str]] = {section: [] for section in SECTIONS}
    marks = list(_HEADING.finditer(note))
    for index, mark in enumerate(marks):
        heading = mark.group(1).strip()
        end = marks[index + 1].start() if index + 1 < len(marks) else len(note)
        body = note[mark.end() : end].strip()
        if heading in SUBJECTIVE_HEADINGS:
            parts["subjective"].append(body)
        elif heading in OBJECTIVE_HEADINGS:
            parts["objective"].append(body)
        elif heading in ASSESSMENT_HEADINGS:
            parts["assessment"].append(body)
        elif heading in PLAN_HEADINGS:
            parts["plan"].append(body)
        elif heading == MIXED_HEADING:
            for line in body.splitlines():
                target = "plan" if _PLAN_LINE.search(line) else "assessment"
                parts[target].append(line)
    return {section: "\n".join(lines) for section, lines in parts.items()}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence length, bit-parallel (Allison-Dix), O(len(a)·len(b)/64)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for index, word in enumerate(a):
        masks[word] = masks.get(word, 0) | (1 << index)
    full = (1 << len(a)) - 1
    row = full
    for word in b:
        match = row & masks.get(word, 0)
        row = ((row + match) | (row - match)) & full
    return len(a) - bin(row).count("1")


def f1(overlap: int, candidate: int, reference: int) -> float:
    if not overlap or not candidate or not reference:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


def rouge(candidate: str, reference: str) -> tuple[float, float]:
    """ROUGE-1 F1 and ROUGE-L F1 of two texts."""
    cand, ref = words(candidate), words(reference)
    counts: dict[str, int] = {}
    for word in ref:
        counts[word] = counts.get(word, 0) + 1
    overlap = 0
    for word in cand:
        if counts.get(word, 0) > 0:
            counts[word] -= 1
            overlap += 1
    return f1(overlap, len(cand), len(ref)), f1(lcs_length(cand, ref), len(cand), len(ref))


# -- the audit: independent of the composer --------------------------------------------


def medicines_named(text: str) -> set[str]:
    """Catalog medicines named in ``text``: ``find_medicine`` on every word n-gram (1-4)."""
    tokens = re.findall(r"[^\W_]+", text)
    found: set[str] = set()
    for size in range(1, 5):
        for start in range(len(tokens) - size + 1):
            medicine = find_medicine(" ".join(tokens[start : start + size]))
            # A lone unit or form ("mg") is no name; find_medicine needs a real name word.
            if medicine is not None and any(ch.isalpha() for ch in tokens[start]):
                found.add(medicine.id)
    return found


def medicine_said(medicine: Medicine, conversation_words: str) -> bool:
    """Whether any name of ``medicine`` appears, as whole words, in the conversation."""
    for name in medicine.names:
        key = normalise_name(name)
        if key and re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", conversation_words):
            return True
    return False


def doses_named(text: str) -> set[str]:
    """Doses as "<number> <unit>", number words turned into digits, units into one spelling."""
    found = set()
    for number, unit in _DOSE.findall(text):
        value = _NUMBER_WORDS.get(number.lower()) or number.replace(",", ".")
        found.add(f"{value} {_UNITS[unit.lower()]}")
    return found


@dataclass
class ConversationFacts:
    medicine_words: str
    doses: set[str]
    codes: set[str]


def conversation_facts(dialogue: str) -> ConversationFacts:
    icd = coder()
    codes: set[str] = set()
    # Each turn, and each sentence of it: the coder reads across a "?" ("nausea ? vomiting ?"
    # codes as nausea with vomiting), so a sentence alone may name a code its turn does not.
    pieces = [dialogue[start:end] for start, end, _speaker in split_turns(dialogue)]
    pieces += [p for piece in list(pieces) for p in re.split(r"[.?!;]\s", piece)]
    for piece in pieces:
        codes.update(s.code for s in icd.suggest(piece, lang="en", include_all=True))
    return ConversationFacts(normalise_name(dialogue), doses_named(dialogue), codes)


@dataclass
class Audit:
    statements: int = 0
    checked_medicines: int = 0
    checked_doses: int = 0
    checked_diagnoses: int = 0
    unsupported: list[dict[str, str]] = field(default_factory=list)


def audit(
    encounter: str, statements: Iterable[DictatedStatement], facts: ConversationFacts, into: Audit
) -> None:
    icd = coder()
    catalog = load_medicine_catalog()
    for statement in statements:
        into.statements += 1
        problems = []
        for medicine_id in medicines_named(statement.text):
            into.checked_medicines += 1
            medicine = catalog.medicine(medicine_id)
            if medicine is None or not medicine_said(medicine, facts.medicine_words):
                problems.append(f"medicine {medicine_id}")
        for dose in doses_named(statement.text):
            into.checked_doses += 1
            if dose not in facts.doses:
                problems.append(f"dose {dose}")
        for suggestion in icd.suggest(statement.text, lang="en", include_all=True):
            into.checked_diagnoses += 1
            if suggestion.code not in facts.codes:
                problems.append(f"diagnosis {suggestion.code}")
        for problem in problems:
            into.unsupported.append(
                {"encounter": encounter, "statement": statement.text, "problem": problem}
            )


# -- recall of the gold note's medicines and diagnoses ----------------------------------


def gold_recall(
    note: str, sections: dict[str, str], statements: list[DictatedStatement]
) -> tuple[int, int, int, int]:
    """(gold medicines, found, gold diagnosis codes, found) for one note."""
    icd = coder()
    draft = "\n".join(s.text for s in statements)
    gold_medicines = medicines_named(note)
    draft_medicines = medicines_named(draft)
    gold_text = sections["assessment"] + "\n" + sections["plan"]
    gold_codes = {s.code for s in icd.suggest(gold_text, lang="en")}
    draft_codes = {
        s.code
        for s in icd.suggest(
            "\n".join(s.text for s in statements if s.section == "assessment"), lang="en"
        )
    }
    return (
        len(gold_medicines),
        len(gold_medicines & draft_medicines),
        len(gold_codes),
        len(gold_codes & draft_codes),
    )


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not ACI.exists():
        print(f"{ACI} is absent: the ACI-Bench sample comes with the project's workspace; skipped")
        return 0

    global CACHE_DIR
    CACHE_DIR = default_cache_dir()
    rows = read_conversations(args.limit)
    started = time.perf_counter()
    statements_from_dictation("warm up", cache_dir=CACHE_DIR)  # loads the coder
    load_seconds = time.perf_counter() - started

    times: list[float] = []
    scores: dict[str, dict[str, list[float]]] = {
        section: {"rouge1": [], "rougeL": []} for section in (*SECTIONS, "note")
    }
    counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
    recall = [0, 0, 0, 0]
    audited = Audit()
    for row in rows:
        dialogue = row["dialogue"]
        begin = time.perf_counter()
        statements = statements_from_dictation(dialogue, "en", cache_dir=CACHE_DIR)
        times.append(time.perf_counter() - begin)
        sections = gold_sections(row["note"])
        for section in SECTIONS:
            drafted = [s.text for s in statements if s.section == section]
            counts[section] += len(drafted)
            if not sections[section].strip():
                continue  # the gold note has no such section: nothing to compare with
            r1, rl = rouge("\n".join(drafted), sections[section])
            scores[section]["rouge1"].append(r1)
            scores[section]["rougeL"].append(rl)
        r1, rl = rouge("\n".join(s.text for s in statements), row["note"])
        scores["note"]["rouge1"].append(r1)
        scores["note"]["rougeL"].append(rl)
        for index, value in enumerate(gold_recall(row["note"], sections, statements)):
            recall[index] += value
        audit(row["encounter_id"], statements, conversation_facts(dialogue), audited)

    table: dict[str, dict[str, Any]] = {
        section: {
            "notes": len(values["rouge1"]),
            "statements": counts.get(section, sum(counts.values())),
            "rouge1_f1": round(statistics.mean(values["rouge1"]), 3) if values["rouge1"] else None,
            "rougeL_f1": round(statistics.mean(values["rougeL"]), 3) if values["rougeL"] else None,
        }
        for section, values in scores.items()
    }
    total = sum(times)
    result: dict[str, Any] = {
        "bench": "notes",
        "dataset": "ACI-Bench train+valid (wyim/aci-bench, CC BY 4.0)",
        "conversations": len(rows),
        "machine": machine(),
        "coder_load_seconds": round(load_seconds, 2),
        "time_per_note_ms": {
            "mean": round(statistics.mean(times) * 1000, 1),
            "p50": round(statistics.median(times) * 1000, 1),
            "max": round(max(times) * 1000, 1),
        },
        "throughput_notes_per_second": round(len(rows) / total, 2) if total else None,
        "peak_rss_mb": peak_rss_mb(),
        "sections": table,
        "recall": {
            "gold_medicines": recall[0],
            "medicine_recall": round(recall[1] / recall[0], 3) if recall[0] else None,
            "gold_diagnoses": recall[2],
            "diagnosis_recall": round(recall[3] / recall[2], 3) if recall[2] else None,
        },
        "audit": {
            "statements": audited.statements,
            "medicines_checked": audited.checked_medicines,
            "doses_checked": audited.checked_doses,
            "diagnoses_checked": audited.checked_diagnoses,
            "unsupported": len(audited.unsupported),
            "target_met": not audited.unsupported,
            "examples": audited.unsupported[:25],
        },
    }
    print(f"{'section':<12} {'notes':>5} {'stmts':>6} {'ROUGE-1':>8} {'ROUGE-L':>8}")
    for name, line in table.items():
        one = "-" if line["rouge1_f1"] is None else f"{line['rouge1_f1']:.3f}"
        longest = "-" if line["rougeL_f1"] is None else f"{line['rougeL_f1']:.3f}"
        print(f"{name:<12} {line['notes']:>5} {line['statements']:>6} {one:>8} {longest:>8}")
    print(
        f"medicine recall {result['recall']['medicine_recall']} of {recall[0]}, "
        f"diagnosis recall {result['recall']['diagnosis_recall']} of {recall[2]}"
    )
    print(
        f"audit: {audited.statements} statements, {audited.checked_medicines} medicines, "
        f"{audited.checked_doses} doses, {audited.checked_diagnoses} diagnoses checked; "
        f"unsupported {len(audited.unsupported)}"
    )
    for item in audited.unsupported[:10]:
        print(f"  {item['encounter']}: {item['problem']} in {item['statement']!r}")
    print(
        f"{result['time_per_note_ms']['p50']} ms per note (p50), "
        f"{result['throughput_notes_per_second']} notes/s, peak RSS {result['peak_rss_mb']} MB"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.output}")
    return 1 if audited.unsupported else 0


if __name__ == "__main__":
    sys.exit(main())
