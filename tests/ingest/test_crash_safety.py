"""Nothing half-written, ever: an import killed with SIGKILL in the middle of a file leaves the
database intact and holding none of that file, and the same file then imports completely."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, func, select, text

from healthspace.bootstrap import Healthspace, build
from healthspace.demo.person import build_large_bundle
from healthspace.vault.tables import audit_log, resource_history, resources, spaces
from tests.conftest import make_settings
from tests.factories import patient_bundle
from tests.server import HEALTHSPACE, cli_env

# Resources in the file that gets killed: large enough that storing it takes a second or more.
BIG_FILE_RESOURCES = {"sqlite": 10_000, "postgresql": 5_000}
# SQLite's cache holds 2 MB: a WAL larger than this holds rows of the open transaction.
WAL_MID_FILE_BYTES = 2 * 2**20
# How much the resources table must have grown on PostgreSQL (about a fifth of the file).
PG_MID_FILE_BYTES = 2**20
TIMEOUT = 120.0


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, int]]:
    """A large one-person Bundle for a database, and its resource count, written once."""
    folder = tmp_path_factory.mktemp("big")
    made: dict[str, tuple[Path, int]] = {}

    def get(database: str) -> tuple[Path, int]:
        if database not in made:
            bundle = build_large_bundle(seed=41, target_resources=BIG_FILE_RESOURCES[database])
            path = folder / f"big-{database}.json"
            path.write_bytes(orjson.dumps(bundle))
            made[database] = (path, len(bundle["entry"]))
        return made[database]

    return get


def _row_counts(hs: Healthspace) -> dict[str, int]:
    with hs.vault.engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in (spaces, resources, resource_history, audit_log)
        }


@contextmanager
def _mid_file_probe(home: Path, database_url: str | None) -> Iterator[Callable[[], bool]]:
    """A check that is true while an import is writing a file's rows and has not committed."""
    if database_url is None:
        # SQLite spills the open transaction's pages into the WAL once its cache is full.
        wal = home / "healthspace.db-wal"
        assert not wal.exists(), "a clean close removes the WAL; the probe relies on it"

        def wal_is_large() -> bool:
            return wal.exists() and wal.stat().st_size > WAL_MID_FILE_BYTES

        yield wal_is_large
        return
    # PostgreSQL: the table grows on disk with rows not yet committed, and INSERT takes a
    # RowExclusiveLock that another session sees until the transaction ends.
    engine = create_engine(make_settings(home, database_url).resolved_database_url)
    size = text("SELECT pg_total_relation_size('resources')")
    locks = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'resources' AND c.relnamespace = current_schema()::regnamespace "
        "AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()"
    )
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            empty = connection.execute(size).scalar_one()

            def rows_written_uncommitted() -> bool:
                grown = connection.execute(size).scalar_one() - empty > PG_MID_FILE_BYTES
                return grown and bool(connection.execute(locks).scalar_one())

            yield rows_written_uncommitted
    finally:
        engine.dispose()


def _kill_mid_file(
    command: list[str], env: dict[str, str], mid_file: Callable[[], bool]
) -> subprocess.Popen[bytes]:
    """Start the import and SIGKILL it as soon as it is writing the file's rows, uncommitted."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT
    try:
        while not mid_file():
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(
                    f"the import ended (code {process.returncode}) before it was seen writing: "
                    f"stdout {out[-300:]!r}, stderr {err[-300:]!r}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"the import was not seen writing within {TIMEOUT:.0f} s")
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.returncode is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)
    return process


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_import_killed_mid_file_leaves_the_record_intact_and_none_of_the_file(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    big_file: Callable[[str], tuple[Path, int]],
    database: str,
) -> None:
    database_url = (
        str(request.getfixturevalue("postgres_schema_url")) if database == "postgresql" else None
    )
    big, big_count = big_file(database)
    home = tmp_path / "home"
    settings = make_settings(home, database_url)

    # A record that already holds someone, so "intact" means more than "empty".
    hs = build(settings)
    earlier = tmp_path / "earlier.json"
    earlier.write_bytes(orjson.dumps(patient_bundle("earlier-person", glucose_values=(5.2, 7.9))))
    assert hs.importer.import_paths([earlier], "test").errors == []
    before = _row_counts(hs)
    hs.close()

    with _mid_file_probe(home, database_url) as mid_file:
        process = _kill_mid_file(
            [str(HEALTHSPACE), "import", str(big), "--json"], cli_env(home, database_url), mid_file
        )
    # Killed by the test, not finished: the import had not committed.
    assert process.returncode == -signal.SIGKILL

    hs = build(settings)
    try:
        if database_url is None:
            with hs.vault.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == [
                    "ok"
                ]
        audit = hs.vault.verify_audit()
        assert audit.valid, audit.reason
        after = _row_counts(hs)
        if after["resources"] == before["resources"] + big_count:
            pytest.fail("the kill came after the commit: the probe did not see the import mid-file")
        # Not one row of the killed file: no space, resource, version or audit entry.
        assert after == before
        assert [(p.id, p.resources) for p in hs.vault.persons("test")] == [("earlier-person", 3)]

        again = hs.importer.import_paths([big], "test")

        assert again.errors == []
        assert sum(again.imported.values()) == big_count and again.unchanged == 0
        assert len(again.persons) == 1 and again.persons != ["earlier-person"]
        assert hs.vault.verify_audit().valid
    finally:
        hs.close()
