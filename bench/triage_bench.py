"""Triage bench: how often ``healthspace triage`` gives the right level, and how it errs.

Two sets of vignettes, each with a gold level:

- ``../shared/data/triage/semigran_dev.jsonl``: 15 of the 45 vignettes of Semigran et al., BMJ
  2015, graded on three levels. Ours map onto them as that folder's README says: emergency ->
  emergency; urgent and non_urgent -> non_emergency; self_care -> self_care.
- ``bench/data/triage_vignettes*.json``: short patient-style messages in English and French,
  graded on Healthspace's four levels. ``triage_vignettes.json`` was written before the rules;
  the others were written later as held-out sets. A held-out set's first run is its honest
  figure and is kept in its ``first_run``: once a general gap it revealed is closed, the set is
  no longer held out and a new one is written.

Over-triage is an answer more urgent than the gold, under-triage one less urgent (the dangerous
error). Targets: emergency recall 100%, accuracy at least 85%.

    .venv/bin/python bench/triage_bench.py                 # figures, and the misses
    .venv/bin/python bench/triage_bench.py --check         # exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthspace.safety.triage import triage
from healthspace.safety.triage_rules import LEVELS, load_triage_rules

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SEMIGRAN = SHARED_DATA / "triage" / "semigran_dev.jsonl"
OWN_SETS = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results" / "triage_bench.json"

TARGET_EMERGENCY_RECALL = 1.0
TARGET_ACCURACY = 0.85

# Semigran's three levels, most urgent first, and how Healthspace's four map onto them.
SEMIGRAN_LEVELS = ("emergency", "non_emergency", "self_care")
TO_SEMIGRAN = {
    "emergency": "emergency",
    "urgent": "non_emergency",
    "non_urgent": "non_emergency",
    "self_care": "self_care",
}


@dataclass(frozen=True)
class Vignette:
    id: str
    text: str
    gold: str
    lang: str
    group: str


@dataclass(frozen=True)
class Outcome:
    vignette: Vignette
    predicted: str  # on the set's own scale
    level: str  # Healthspace's level
    red_flags: tuple[str, ...]
    rules: tuple[str, ...]
    seconds: float


def load_semigran(path: Path) -> list[Vignette]:
    vignettes = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            vignettes.append(Vignette(item["id"], item["text"], item["gold"], "en", "semigran"))
    return vignettes


# (key, title, file) of Healthspace's own sets, in the order they were written.
OWN = (
    (
        "healthspace_vignettes",
        "Healthspace vignettes, written before the rules",
        "triage_vignettes",
    ),
    ("healthspace_everyday", "Everyday wording, first held-out set", "triage_vignettes_blind"),
    ("healthspace_holdout", "Second held-out set", "triage_vignettes_holdout"),
    ("healthspace_holdout2", "Third held-out set", "triage_vignettes_holdout2"),
)


def load_own(path: Path) -> tuple[list[Vignette], dict[str, Any] | None]:
    """The vignettes of one of our sets and, for a held-out set, the figures of its first run."""
    data = json.loads(path.read_text("utf-8"))
    vignettes = [
        Vignette(v["id"], v["text"], v["gold"], v["lang"], v["group"]) for v in data["vignettes"]
    ]
    return vignettes, data.get("first_run")


def run(vignettes: Sequence[Vignette], to_scale: Callable[[str], str]) -> list[Outcome]:
    outcomes = []
    for vignette in vignettes:
        country = "FR" if vignette.lang == "fr" else None
        started = time.perf_counter()
        result = triage(vignette.text, vignette.lang, country)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        outcomes.append(
            Outcome(
                vignette,
                to_scale(result.level),
                result.level,
                result.red_flags,
                tuple(m.rule.id for m in result.matches),
                seconds,
            )
        )
    return outcomes


def measure(outcomes: Sequence[Outcome], levels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, emergency recall, over- and under-triage, confusion matrix, latency."""
    rank = {level: index for index, level in enumerate(levels)}
    total = len(outcomes)
    correct = sum(o.predicted == o.vignette.gold for o in outcomes)
    over = sum(rank[o.predicted] < rank[o.vignette.gold] for o in outcomes)
    under = sum(rank[o.predicted] > rank[o.vignette.gold] for o in outcomes)
    emergencies = [o for o in outcomes if o.vignette.gold == "emergency"]
    caught = sum(o.predicted == "emergency" for o in emergencies)
    confusion = {
        gold: {
            predicted: sum(o.vignette.gold == gold and o.predicted == predicted for o in outcomes)
            for predicted in levels
        }
        for gold in levels
    }
    recall_by_level = {
        gold: _ratio(confusion[gold][gold], sum(confusion[gold].values())) for gold in levels
    }
    times = sorted(o.seconds * 1000 for o in outcomes)
    return {
        "cases": total,
        "accuracy": _ratio(correct, total),
        "emergency_recall": _ratio(caught, len(emergencies)),
        "emergencies": len(emergencies),
        "over_triage_rate": _ratio(over, total),
        "under_triage_rate": _ratio(under, total),
        "recall_by_level": recall_by_level,
        "confusion": confusion,
        "latency_ms": {
            "p50": round(statistics.median(times), 2) if times else None,
            "p95": round(times[int(0.95 * (len(times) - 1))], 2) if times else None,
        },
        "misses": [
            {
                "id": o.vignette.id,
                "gold": o.vignette.gold,
                "predicted": o.predicted,
                "level": o.level,
                "rules": list(o.rules),
            }
            for o in outcomes
            if o.predicted != o.vignette.gold
        ],
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def report(name: str, figures: dict[str, Any], show_misses: bool) -> None:
    print(f"\n{name} ({figures['cases']} vignettes)")
    print(f"  accuracy          {_percent(figures['accuracy'])}")
    print(
        f"  emergency recall  {_percent(figures['emergency_recall'])} "
        f"of {figures['emergencies']} emergencies"
    )
    print(f"  over-triage       {_percent(figures['over_triage_rate'])}")
    print(f"  under-triage      {_percent(figures['under_triage_rate'])}")
    print(f"  latency p50       {figures['latency_ms']['p50']} ms")
    first = figures.get("first_run")
    if first:
        print(
            f"  first run         accuracy {_percent(first['accuracy'])}, emergency recall "
            f"{_percent(first['emergency_recall'])}, over {_percent(first['over_triage_rate'])}, "
            f"under {_percent(first['under_triage_rate'])}"
        )
    levels = list(figures["confusion"])
    width = max(len(level) for level in levels) + 2
    print("  confusion (rows: gold, columns: predicted)")
    print("  " + " " * width + "".join(f"{level[:12]:>14}" for level in levels))
    for gold in levels:
        cells = "".join(f"{figures['confusion'][gold][p]:>14}" for p in levels)
        print(f"  {gold:<{width}}{cells}")
    if show_misses and figures["misses"]:
        print("  misses:")
        for miss in figures["misses"]:
            rules = ", ".join(miss["rules"]) or "no rule"
            print(f"    {miss['id']}: gold {miss['gold']}, got {miss['predicted']} ({rules})")


def meets_targets(figures: dict[str, Any]) -> bool:
    recall = figures["emergency_recall"]
    return (recall is None or recall >= TARGET_EMERGENCY_RECALL) and (
        figures["accuracy"] is not None and figures["accuracy"] >= TARGET_ACCURACY
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)

    if not SEMIGRAN.exists():
        print(f"{SEMIGRAN} is absent: the shared vignettes come with the project's workspace.")
        return 2
    rules = load_triage_rules()
    sets: dict[str, dict[str, Any]] = {}
    semigran = measure(
        run(load_semigran(SEMIGRAN), lambda level: TO_SEMIGRAN[level]), SEMIGRAN_LEVELS
    )
    report("Semigran 2015 development set (3 levels)", semigran, not args.quiet)
    sets["semigran_dev"] = semigran
    for key, title, name in OWN:
        vignettes, first_run = load_own(OWN_SETS / f"{name}.json")
        figures = measure(run(vignettes, lambda level: level), LEVELS)
        if first_run is not None:
            figures["first_run"] = first_run
        report(f"{title} (4 levels)", figures, not args.quiet)
        sets[key] = figures

    results: dict[str, Any] = {
        "rules_version": rules.version,
        "rules": len(rules.rules),
        "concepts": len(rules.concepts),
        "targets": {"emergency_recall": TARGET_EMERGENCY_RECALL, "accuracy": TARGET_ACCURACY},
        "sets": sets,
        "meets_targets": {key: meets_targets(figures) for key, figures in sets.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nwritten to {args.output}")
    if args.check and not all(results["meets_targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
