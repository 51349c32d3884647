"""Summary bench: how fast ``healthspace summary`` answers, and how that grows with the record.

Records: the largest Synthea person in ``../shared/data/synthea_smart`` (largest file by the
manifest's ``bytes``) and generated 10-year records from ``build_large_bundle`` at 2,000, 5,000,
10,000 and 20,000 resources, each imported once (not timed) into an empty SQLite record (or
the PostgreSQL database given). Then, per record, ``summarize`` runs ``--runs`` times warm
(after two unmeasured runs): p50 and p95 of the whole call, and of its two halves measured
separately, the vault read (fetch, decrypt and parse every resource, audited) and the pure
summary over the parsed resources. Target: p50 under 100 ms at 20,000 resources.

    .venv/bin/python bench/summary_bench.py                     # ~2 minutes
    .venv/bin/python bench/summary_bench.py --runs 5 --sizes 2000 5000
    .venv/bin/python bench/summary_bench.py --profile     # plus where the largest spends its time
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from healthspace.bootstrap import Healthspace, build
from healthspace.clinician.summary import summarize_resources
from healthspace.clinician.summary_service import read_practitioners, summarize
from healthspace.collector import collector_paused
from healthspace.config import Settings
from healthspace.demo.person import build_large_bundle

REPO = Path(__file__).resolve().parents[1]
SYNTHEA = REPO.parent / "shared" / "data" / "synthea_smart"
RESULTS = REPO / "bench" / "results" / "summary_bench.json"
ACTOR = "bench"
TARGET_P50_MS = 100.0
TARGET_SIZE = 20_000


def largest_synthea() -> Path:
    """The synthea_smart bundle with the most bytes according to the manifest."""
    with (SYNTHEA / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return SYNTHEA / max(rows, key=lambda row: int(row["bytes"]))["file"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def timed(run: Callable[[], Any], runs: int) -> dict[str, float]:
    """p50/p95/min in milliseconds over ``runs`` warm calls (two warm-up calls first)."""
    for _ in range(2):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "min_ms": round(min(times), 2),
    }


def measure(hs: Healthspace, person: str, label: str, runs: int) -> dict[str, Any]:
    record = hs.vault.resources(ACTOR, person)
    practitioners = read_practitioners(hs, ACTOR, record)
    total = timed(lambda: summarize(hs, ACTOR, person), runs)
    # The halves measured as summarize runs them: with the cyclic collector paused.
    with collector_paused():
        read = timed(lambda: hs.vault.resources(ACTOR, person), runs)
        pure = timed(lambda: summarize_resources(record, practitioners), runs)
    row = {
        "record": label,
        "resources": len(record),
        "summarize": total,
        "vault_read": read,
        "pure_summary": pure,
        "read_share_of_p50": round(read["p50_ms"] / total["p50_ms"], 2),
    }
    print(
        f"{label:<34} {len(record):>6} res  summarize p50 {total['p50_ms']:8.1f} ms"
        f"  p95 {total['p95_ms']:8.1f} ms  | read p50 {read['p50_ms']:7.1f}"
        f"  pure p50 {pure['p50_ms']:7.1f}",
        flush=True,
    )
    return row


def profile(hs: Healthspace, person: str) -> list[dict[str, Any]]:
    """The ten functions where one summarize call spends most of its own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    summarize(hs, ACTOR, person)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO()).sort_stats("tottime")
    top = []
    for (path, line, name), (_, calls, tottime, cumtime, _) in list(stats.stats.items()):  # type: ignore[attr-defined]
        top.append(
            {
                "function": f"{Path(path).name}:{line}:{name}",
                "calls": calls,
                "tottime_ms": round(tottime * 1000, 1),
                "cumtime_ms": round(cumtime * 1000, 1),
            }
        )
    return sorted(top, key=lambda r: r["tottime_ms"], reverse=True)[:10]


def growth(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 per 1,000 resources and the log-log slope between the smallest and largest record
    (1.0 means linear growth)."""
    generated = sorted(
        (r for r in rows if r["record"].startswith("generated")), key=lambda r: r["resources"]
    )
    if len(generated) < 2:
        return {}
    small, large = generated[0], generated[-1]
    slope = math.log(large["summarize"]["p50_ms"] / small["summarize"]["p50_ms"]) / math.log(
        large["resources"] / small["resources"]
    )
    return {
        "log_log_slope": round(slope, 2),
        "p50_ms_per_1000_resources": {
            str(r["resources"]): round(r["summarize"]["p50_ms"] / r["resources"] * 1000, 2)
            for r in generated
        },
    }


def machine(database_url: str | None) -> dict[str, Any]:
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
        "database": "postgresql" if database_url else "sqlite",
        "commit": commit,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    parser.add_argument("--database-url", default=None, help="a postgresql:// URL (default SQLite)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not SYNTHEA.exists():
        print(f"{SYNTHEA} is absent: the shared samples come with the project's workspace")
        return 1

    with tempfile.TemporaryDirectory() as home:
        hs = build(Settings(home=Path(home), database_url=args.database_url, actor=ACTOR))
        rows = []
        try:
            largest = largest_synthea()
            report = hs.importer.import_paths([largest], ACTOR)
            rows.append(
                measure(hs, report.persons[0], f"synthea largest ({largest.name[:18]}…)", args.runs)
            )
            persons: dict[int, str] = {}
            for size in args.sizes:
                bundle = build_large_bundle(2026 + size, size)
                report = hs.importer.import_uploads([("large.json", orjson.dumps(bundle))], ACTOR)
                persons[size] = report.persons[0]
                rows.append(measure(hs, persons[size], f"generated {size}", args.runs))
            top = profile(hs, persons[max(persons)]) if args.profile and persons else []
        finally:
            hs.close()

    target_row = next((r for r in rows if r["record"] == f"generated {TARGET_SIZE}"), None)
    result = {
        "bench": "summary",
        "runs": args.runs,
        "machine": machine(args.database_url),
        "records": rows,
        "growth": growth(rows),
        "target": {
            "p50_ms_at_20000": TARGET_P50_MS,
            "measured_p50_ms": target_row["summarize"]["p50_ms"] if target_row else None,
            "met": bool(target_row and target_row["summarize"]["p50_ms"] < TARGET_P50_MS),
        },
        "profile_top_tottime": top,
    }
    print(json.dumps({"growth": result["growth"], "target": result["target"]}, indent=2))
    for row in top:
        print(f"  {row['tottime_ms']:8.1f} ms  {row['calls']:>7}  {row['function']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
