"""Import benchmark: Healthspace's import against a bare orjson + executemany baseline.

Why: the import must stay within 3x of the fastest loader of the same files, use memory bounded
by the largest single file rather than the batch, and read one person's record as fast with 500
persons loaded as with 5. Each measured phase runs in its own spawned process, so the peak RSS
(``ru_maxrss``) it reports belongs to that phase alone. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gzip
import multiprocessing
import os
import platform
import pstats
import random
import resource
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson

from healthspace.bootstrap import Healthspace, build
from healthspace.config import Settings

BENCH = Path(__file__).resolve().parent
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TARGET_RATIO = 3.0
# A full batch's peak RSS may exceed that of a few files holding the largest one by this much.
MEMORY_SLACK = 1.25
FHIR_SUFFIXES = (".json", ".ndjson", ".json.gz", ".ndjson.gz")
Result = dict[str, Any]


# -- inputs and databases ----------------------------------------------------------------------


def input_files(limit: int | None) -> list[Path]:
    """Every Synthea bundle and NDJSON file, then the first ``limit`` synthea_smart bundles."""
    synthea = sorted(p for p in (SHARED / "synthea").rglob("*") if p.name.endswith(FHIR_SUFFIXES))
    smart = sorted((SHARED / "synthea_smart" / "bundles").glob("*.json.gz"))
    return synthea + smart[:limit]


def unzipped_size(path: Path) -> int:
    """Size once gunzipped, from the gzip trailer (ISIZE), so no file needs inflating."""
    if path.name.endswith(".gz"):
        with path.open("rb") as handle:
            handle.seek(-4, os.SEEK_END)
            return int(struct.unpack("<I", handle.read(4))[0])
    return path.stat().st_size


def peak_rss_mb() -> float:
    """This process's peak resident memory; Linux reports KiB, macOS bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def libpq_url(url: str) -> str:
    """psycopg takes the libpq spelling, not SQLAlchemy's."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_database(url: str | None) -> Iterator[str | None]:
    """An empty database: SQLite in a temp folder (None), or a PostgreSQL schema dropped after."""
    if url is None:
        yield None
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def open_healthspace(home: Path, database_url: str | None) -> Healthspace:
    """Wired by ``bootstrap.build`` as the CLI is, so the bench measures what users run."""
    key = base64.b64encode(os.urandom(32)).decode()
    return build(Settings(home=home, master_key=key, actor="bench", database_url=database_url))


# -- phases: each runs in a fresh spawned process, on a fresh database -------------------------


def phase_import(database_url: str | None, files: list[Path], profile: bool = False) -> Result:
    """Healthspace's own import of ``files`` into an empty record."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(database_url) as url:
        hs = open_healthspace(Path(tmp), url)
        rss_before = peak_rss_mb()
        profiler = cProfile.Profile()
        start, cpu = time.perf_counter(), time.process_time()
        with profiler if profile else nullcontext():
            report = hs.importer.import_paths(files, "bench")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        hs.close()
    count = sum(report.imported.values()) + report.unchanged
    result = figures(files, count, seconds, cpu, rss_before) | {
        "unchanged": report.unchanged,
        "persons": len(report.persons),
        "errors": len(report.errors),
    }
    if profile:
        result["hot_spots"] = hot_spots(profiler)
    return result


def figures(files: list[Path], count: int, seconds: float, cpu: float, rss: float) -> Result:
    """What every loading phase reports: throughput, and peak memory against the start.

    CPU time is given beside wall time because it varies less when other work shares the machine.
    """
    return {
        "files": len(files),
        "resources": count,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "resources_per_s": round(count / seconds),
        "rss_before_mb": round(rss, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def hot_spots(profiler: cProfile.Profile, top: int = 10) -> list[Result]:
    """The functions where the import spends its own time (tottime), most first."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})" if line else name,
            "calls": calls,
            "tottime_s": round(tottime, 3),
            "cumtime_s": round(cumtime, 3),
        }
        for (file, line, name), (_, calls, tottime, cumtime, _) in rows
    ]


def resources_of(path: Path) -> Iterator[dict[str, Any]]:
    """The resources of a Bundle or NDJSON file, parsed with orjson and nothing else."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if ".ndjson" in path.name:
        lines = (orjson.loads(line) for line in data.splitlines() if line.strip())
        yield from (r for r in lines if "resourceType" in r)  # not a Bulk Data log line
        return
    document = orjson.loads(data)
    if document.get("resourceType") != "Bundle":
        yield document
        return
    yield from (entry["resource"] for entry in document.get("entry", ()) if "resource" in entry)


def phase_baseline(database_url: str | None, files: list[Path]) -> Result:
    """The floor: parse, re-serialise, executemany into a plain table, one transaction per file."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(database_url) as url:
        if url:
            import psycopg

            connection: Any = psycopg.connect(libpq_url(url))
            connection.execute("CREATE TABLE bare (resource_type text, id text, json bytea)")
            connection.commit()
            insert, begin = "INSERT INTO bare VALUES (%s, %s, %s)", None
        else:
            connection = sqlite3.connect(Path(tmp) / "bare.db", isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("CREATE TABLE bare (resource_type text, id text, json blob)")
            insert, begin = "INSERT INTO bare VALUES (?, ?, ?)", "BEGIN"
        rss_before, count = peak_rss_mb(), 0
        start, cpu = time.perf_counter(), time.process_time()
        for path in files:
            rows = [(r["resourceType"], r.get("id"), orjson.dumps(r)) for r in resources_of(path)]
            if begin:
                connection.execute(begin)
            connection.cursor().executemany(insert, rows)
            connection.commit()
            count += len(rows)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        connection.close()
    return figures(files, count, seconds, cpu, rss_before)


def write_demo(_: str | None, folder: Path, target_resources: int | None) -> Result:
    """The demo person (or a large one) as a file, built outside the measured import's process."""
    from healthspace.demo.person import build_demo_bundle, build_large_bundle

    if target_resources is None:
        path, bundle = folder / "demo.json", build_demo_bundle()
    else:
        path, bundle = folder / "large-demo.json", build_large_bundle(2026, target_resources)
    path.write_bytes(orjson.dumps(bundle))
    return {"path": str(path)}


def demo_persons(folder: Path, count: int) -> list[Path]:
    """Two-year demo persons, one per seed: each seed gives ids of its own."""
    from healthspace.demo.person import build_demo_bundle

    folder.mkdir()
    for seed in range(count):
        (folder / f"{seed:04d}.json").write_bytes(orjson.dumps(build_demo_bundle(seed, years=2)))
    return sorted(folder.iterdir())


def time_queries(records: list[tuple[Healthspace, list[str]]], samples: int) -> list[Result]:
    """p50/p95 per record of reading a random person's Observations, then their whole record.

    The records take turns in a random order, so a burst of other work on the machine, or a
    full garbage collection (about 50 ms here), lands on either alike.
    """
    rng = random.Random(0)
    kinds = {"observations": "Observation", "record": None}
    times: list[dict[str, list[float]]] = [{kind: [] for kind in kinds} for _ in records]
    for _ in range(samples):
        turns = list(zip(records, times, strict=True))
        rng.shuffle(turns)
        for (hs, persons), record_times in turns:
            person_id = rng.choice(persons)
            for label, resource_type in kinds.items():
                start = time.perf_counter()
                hs.vault.resources("bench", person_id, resource_type)
                record_times[label].append((time.perf_counter() - start) * 1000)
    return [
        {"persons": len(persons), **{label: percentiles(t) for label, t in record_times.items()}}
        for (_, persons), record_times in zip(records, times, strict=True)
    ]


def percentiles(times_ms: list[float]) -> Result:
    """p50 for the usual read, p95 for the slow ones a user notices."""
    cuts = statistics.quantiles(times_ms, n=20)
    return {"p50_ms": round(cuts[9], 2), "p95_ms": round(cuts[18], 2)}


def phase_query(database_url: str | None, few: int, many: int, samples: int) -> Result:
    """Per-person read time in a record of ``few`` persons and in one of ``many``."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(database_url) as few_url,
        fresh_database(database_url) as many_url,
    ):
        paths = demo_persons(Path(tmp) / "persons", many)
        records = []
        for name, url, chosen in (("few", few_url, paths[:few]), ("many", many_url, paths)):
            hs = open_healthspace(Path(tmp) / name, url)
            persons = hs.importer.import_paths(chosen, "bench").persons
            if len(persons) != len(chosen):
                raise RuntimeError(f"{len(chosen)} demo bundles gave {len(persons)} persons")
            records.append((hs, persons))
        small, large = time_queries(records, samples)
        for hs, _ in records:
            hs.close()
    ratios = {
        k: round(large[k]["p50_ms"] / small[k]["p50_ms"], 2) for k in ("observations", "record")
    }
    return {"few": small, "many": large, "p50_ratio_many_to_few": ratios}


# -- orchestration ---------------------------------------------------------------------------


def run_phase(label: str, phase: Callable[..., Result], url: str | None, *args: Any) -> Result:
    """Run one phase in a new process; a failure is recorded, not fatal."""
    print(f"  {label} ...", end=" ", flush=True)
    start = time.perf_counter()
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            result = pool.submit(phase, url, *args).result()
    except Exception as exc:  # one broken phase must not hide the figures of the others
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(result.get("error", f"{time.perf_counter() - start:.1f} s"))
    return result


def describe_machine(database_url: str | None) -> Result:
    """Enough to compare runs; never the database URL (it may hold a password)."""
    database = f"sqlite {sqlite3.sqlite_version}"
    if database_url:
        import psycopg

        with psycopg.connect(libpq_url(database_url)) as connection:
            version = connection.info.server_version  # e.g. 150018 for 15.18
            database = f"postgresql {version // 10000}.{version % 10000}"
    git = ["git", "describe", "--always", "--dirty"]
    commit = subprocess.run(git, cwd=BENCH, capture_output=True, text=True).stdout.strip()
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": database,
        "orjson": orjson.__version__,
        "commit": commit or None,
    }


def compare(results: Result, largest_mb: float) -> Result:
    """The two targets: time against the bare baseline, and memory against the largest file."""
    full, subset, bare = results["healthspace"], results["subset"], results["baseline"]
    if any("error" in r for r in (full, subset, bare)):
        return {"error": "a phase failed, see its entry"}
    ratio = full["seconds"] / bare["seconds"]
    cpu_ratio = full["cpu_seconds"] / bare["cpu_seconds"]
    growth = full["peak_rss_mb"] - full["rss_before_mb"]
    return {
        "time_ratio": round(ratio, 2),
        "time_target": TARGET_RATIO,
        "time_target_met": ratio <= TARGET_RATIO,
        "cpu_time_ratio": round(cpu_ratio, 2),
        "largest_file_mb": round(largest_mb, 2),
        "import_growth_mb": round(growth, 1),
        "import_growth_per_largest_file": round(growth / largest_mb, 1),
        "peak_rss_full_to_subset": round(full["peak_rss_mb"] / subset["peak_rss_mb"], 2),
        "memory_target_met": full["peak_rss_mb"] <= MEMORY_SLACK * subset["peak_rss_mb"],
    }


def summarise(results: Result) -> str:
    """The figures a reader looks for first; the JSON file has them all."""
    lines = [f"\n{results['machine']}"]
    for key in ("baseline", "healthspace", "subset", "demo", "large_demo", "profile"):
        if (r := results.get(key)) is None:
            continue
        figures = r.get("error") or (
            f"{r['resources']:>7} resources in {r['seconds']:7.2f} s = {r['resources_per_s']:>6}/s,"
            f" peak RSS {r['peak_rss_mb']:.0f} MB (+{r['peak_rss_mb'] - r['rss_before_mb']:.0f})"
        )
        lines.append(f"{key:>12}: {figures}")
    c, q = results["comparison"], results.get("query", {"error": "not run"})
    if "error" not in c:
        lines += [
            f"time / bare baseline: {c['time_ratio']}x (≤ {TARGET_RATIO}x met: "
            f"{c['time_target_met']}); CPU time / bare baseline: {c['cpu_time_ratio']}x",
            f"import grew {c['import_growth_mb']} MB = {c['import_growth_per_largest_file']}x "
            f"the largest file; peak RSS full / subset {c['peak_rss_full_to_subset']} "
            f"(≤ {MEMORY_SLACK} met: {c['memory_target_met']})",
        ]
    for label in ("observations", "record") if "error" not in q else ():
        few, many = q["few"], q["many"]
        lines.append(
            f"read {label} p50/p95 ms: {few[label]['p50_ms']}/{few[label]['p95_ms']} with "
            f"{few['persons']} persons, {many[label]['p50_ms']}/{many[label]['p95_ms']} with "
            f"{many['persons']} (p50 ratio {q['p50_ratio_many_to_few'][label]})"
        )
    for spot in results.get("profile", {}).get("hot_spots", []):
        lines.append(f"{spot['tottime_s']:9.3f} s {spot['calls']:>8}  {spot['function']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every phase, print the summary and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="synthea_smart files to take (default: all)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite, temp folder)")
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "import_bench.json")
    parser.add_argument("--skip-query", action="store_true", help="skip the 5 vs 500 persons read")
    parser.add_argument("--persons", type=int, default=500, help="persons for the query phase")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile the import of N files")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the Synthea samples come with the project's workspace")
    url = args.database_url
    if url and not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        sys.exit("--database-url takes a PostgreSQL URL; leave it out for SQLite")

    files = input_files(args.limit)
    sizes = {path: unzipped_size(path) for path in files}
    largest = max(files, key=sizes.__getitem__)
    subset = [largest, *[p for p in files if p != largest][:4]]
    total_mb = sum(sizes.values()) / 1e6
    print(f"{len(files)} files, {total_mb:.0f} MB unzipped; largest: {largest.name}")
    results: Result = {
        "machine": describe_machine(url),
        "inputs": {"files": len(files), "unzipped_mb": round(total_mb, 1), "largest": largest.name},
    }
    results["baseline"] = run_phase("bare baseline", phase_baseline, url, files)
    results["healthspace"] = run_phase("healthspace import", phase_import, url, files)
    results["subset"] = run_phase("subset with the largest file", phase_import, url, subset)
    with tempfile.TemporaryDirectory() as tmp:
        for key, target in (("demo", None), ("large_demo", 20_000)):
            written = run_phase(f"write {key}", write_demo, url, Path(tmp), target)
            path = written.get("path")
            results[key] = run_phase(key, phase_import, url, [Path(path)]) if path else written
    results["comparison"] = compare(results, sizes[largest] / 1e6)
    if not args.skip_query:
        label = f"query, 5 and {args.persons} persons"
        results["query"] = run_phase(label, phase_query, url, 5, args.persons, 100)
    if args.profile:
        smart = [p for p in files if p.name.endswith(".json.gz")][: args.profile]
        results["profile"] = run_phase("profile", phase_import, url, smart, True)

    print(summarise(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(f"\nWritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
