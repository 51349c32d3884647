"""Summary bench: how fast ``healthspace summary`` answers, and how that grows with the record.

Records: the largest Synthea person in ``../shared/data/synthea_smart`` (largest file by the
manifest's ``bytes``), the largest Synthea bundle in ``../shared/data/synthea`` (by file size)
and generated 10-year records from ``build_large_bundle`` at 1,000, 5,000 and 20,000
resources, each imported once (not timed) into an empty SQLite record (or the PostgreSQL
database given). Then, per record, ``summarize`` is timed two ways:

* cold: the first call after a change to the record (the Patient re-imported with one element
  changed, not timed), so the sealed summary cache is gone and the whole record is read,
  decrypted, parsed and summarized (``--cold-runs`` times);
* warm: ``--runs`` calls once the cache holds the summary (two unmeasured calls first): the
  revisions, one sealed payload, its audit entry, and parsing the summary JSON.

Plus the two halves of a cold call measured separately: the vault read (fetch, decrypt and
parse every resource, audited) and the pure summary over the parsed resources. Target: warm
p50 under 100 ms at 20,000 resources.

    .venv/bin/python bench/summary_bench.py                     # ~2 minutes
    .venv/bin/python bench/summary_bench.py --runs 5 --sizes 1000 5000
    .venv/bin/python bench/summary_bench.py --profile     # plus where a cold call spends its time
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
from healthspace.clinician.summary_refresher import SummaryRefresher
from healthspace.clinician.summary_service import build_summary, read_practitioners, summarize
from healthspace.collector import collector_paused
from healthspace.config import Settings
from healthspace.demo.person import build_large_bundle

REPO = Path(__file__).resolve().parents[1]
SYNTHEA = REPO.parent / "shared" / "data" / "synthea_smart"
SYNTHEA_BULK = REPO.parent / "shared" / "data" / "synthea"
RESULTS = REPO / "bench" / "results" / "summary_bench.json"
ACTOR = "bench"
TARGET_P50_MS = 100.0
TARGET_SIZE = 20_000


def largest_synthea() -> Path:
    """The synthea_smart bundle with the most bytes according to the manifest."""
    with (SYNTHEA / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return SYNTHEA / max(rows, key=lambda row: int(row["bytes"]))["file"]


def largest_synthea_bundle() -> Path | None:
    """The largest bundle file under ``../shared/data/synthea``, if the folder is there."""
    files = [p for p in SYNTHEA_BULK.rglob("*.json") if p.is_file()]
    return max(files, key=lambda p: p.stat().st_size) if files else None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def timed(
    run: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None, warmup: int = 2
) -> dict[str, float]:
    """p50/p95/min in milliseconds over ``runs`` calls (``warmup`` unmeasured calls first);
    ``before`` runs untimed before each measured call."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return stats(times)


def stats(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "min_ms": round(min(times), 2),
    }


def touch(hs: Healthspace, person: str) -> None:
    """A real change to the record: the Patient re-imported with ``active`` flipped."""
    patient = hs.vault.resources(ACTOR, person, "Patient")[0]
    patient["active"] = not patient.get("active", False)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
    report = hs.importer.import_uploads([("touch.json", orjson.dumps(bundle))], ACTOR)
    assert report.persons == [person] and not report.errors, report


def measure(hs: Healthspace, person: str, label: str, runs: int, cold_runs: int) -> dict[str, Any]:
    record = hs.vault.resources(ACTOR, person)
    practitioners = read_practitioners(hs, ACTOR, record)
    cold = timed(lambda: summarize(hs, ACTOR, person), cold_runs, lambda: touch(hs, person), 0)
    warm = timed(lambda: summarize(hs, ACTOR, person), runs)
    uncached = timed(lambda: build_summary(hs, ACTOR, person), cold_runs, warmup=1)
    # The halves measured as summarize runs them: with the cyclic collector paused.
    with collector_paused():
        read = timed(lambda: hs.vault.resources(ACTOR, person), cold_runs, warmup=1)
        pure = timed(lambda: summarize_resources(record, practitioners), cold_runs, warmup=1)
    row = {
        "record": label,
        "resources": len(record),
        "cold": cold,
        "warm": warm,
        "uncached_build": uncached,
        "vault_read": read,
        "pure_summary": pure,
        "read_share_of_cold_p50": round(read["p50_ms"] / cold["p50_ms"], 2),
    }
    print(
        f"{label:<34} {len(record):>6} res  warm p50 {warm['p50_ms']:6.1f} p95 "
        f"{warm['p95_ms']:6.1f} ms | cold p50 {cold['p50_ms']:7.1f} p95 {cold['p95_ms']:7.1f} ms"
        f" (read {read['p50_ms']:6.1f} + pure {pure['p50_ms']:6.1f})",
        flush=True,
    )
    return row


def after_import_in_the_app(hs: Healthspace, person: str, runs: int) -> dict[str, Any]:
    """As ``serve`` runs: a change, the background rebuild (``SummaryRefresher``), then the
    summary a clinician asks for. Measured: the rebuild's time after the import returns, and the
    request's latency once it is done. Run last: the refresher stays attached to ``hs``."""
    refresher = SummaryRefresher(hs)
    hs.importer.add_listener(refresher.schedule)
    background, request = [], []
    for _ in range(runs):
        touch(hs, person)
        start = time.perf_counter()
        assert refresher.wait_idle(timeout=120)
        background.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        summarize(hs, ACTOR, person)
        request.append((time.perf_counter() - start) * 1000)
    row = {"background_rebuild": stats(background), "request_after_rebuild": stats(request)}
    print(
        f"after an import in the app: rebuild p50 {row['background_rebuild']['p50_ms']:.1f} ms "
        f"(background), then request p50 {row['request_after_rebuild']['p50_ms']:.1f} ms",
        flush=True,
    )
    return row


def profile(hs: Healthspace, person: str) -> list[dict[str, Any]]:
    """The ten functions where one cold summarize call spends most of its own time."""
    touch(hs, person)
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
    """Per mode (cold, warm): p50 by record size and the log-log slope between the smallest and
    largest generated record (1.0 means linear growth, 0 flat)."""
    generated = sorted(
        (r for r in rows if r["record"].startswith("generated")), key=lambda r: r["resources"]
    )
    if len(generated) < 2:
        return {}
    small, large = generated[0], generated[-1]
    out: dict[str, Any] = {}
    for mode in ("cold", "warm"):
        slope = math.log(large[mode]["p50_ms"] / small[mode]["p50_ms"]) / math.log(
            large["resources"] / small["resources"]
        )
        out[mode] = {
            "log_log_slope": round(slope, 2),
            "p50_ms_by_resources": {str(r["resources"]): r[mode]["p50_ms"] for r in generated},
        }
    return out


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
    parser.add_argument("--runs", type=int, default=20, help="warm calls per record")
    parser.add_argument("--cold-runs", type=int, default=7, help="cold calls per record")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
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
            label = f"synthea_smart largest ({largest.name[:12]}…)"
            rows.append(measure(hs, report.persons[0], label, args.runs, args.cold_runs))
            bulk = largest_synthea_bundle()
            if bulk is not None:
                report = hs.importer.import_paths([bulk], ACTOR)
                label = f"synthea largest ({bulk.name[:12]}…)"
                rows.append(measure(hs, report.persons[0], label, args.runs, args.cold_runs))
            persons: dict[int, str] = {}
            for size in args.sizes:
                bundle = build_large_bundle(2026 + size, size)
                report = hs.importer.import_uploads([("large.json", orjson.dumps(bundle))], ACTOR)
                persons[size] = report.persons[0]
                rows.append(
                    measure(hs, persons[size], f"generated {size}", args.runs, args.cold_runs)
                )
            top = profile(hs, persons[max(persons)]) if args.profile and persons else []
            in_app = (
                after_import_in_the_app(hs, persons[max(persons)], args.cold_runs)
                if persons
                else {}
            )
        finally:
            hs.close()

    target_row = next((r for r in rows if r["record"] == f"generated {TARGET_SIZE}"), None)
    result = {
        "bench": "summary",
        "runs": args.runs,
        "cold_runs": args.cold_runs,
        "machine": machine(args.database_url),
        "records": rows,
        "growth": growth(rows),
        "target": {
            "warm_p50_ms_at_20000": TARGET_P50_MS,
            "measured_warm_p50_ms": target_row["warm"]["p50_ms"] if target_row else None,
            "measured_cold_p50_ms": target_row["cold"]["p50_ms"] if target_row else None,
            "met": bool(target_row and target_row["warm"]["p50_ms"] < TARGET_P50_MS),
        },
        "after_import_in_the_app": in_app,
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
