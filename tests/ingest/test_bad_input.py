"""Bad input gets a clear error naming the file, the place in it and the reason; nothing of a bad
file is stored, and the rest of the batch still goes in (DESIGN.md, "What bad input gets")."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, func, select

from healthspace.bootstrap import Healthspace, build
from healthspace.vault.audit import AuditEvent
from healthspace.vault.tables import resources, spaces
from tests.conftest import make_settings
from tests.factories import patient_bundle
from tests.server import HEALTHSPACE, cli_env

GOOD_PERSON = "good-person"
GOOD_COUNTS = {"Observation": 2, "Patient": 1}
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"


def _bundle(patient_id: str) -> dict[str, Any]:
    """A Patient and two Observations pointing to it with urn:uuid references."""
    return patient_bundle(patient_id, glucose_values=(5.1, 6.4), bundle_type="collection")


def _ndjson(patient_id: str, values: tuple[float, ...] = (5.0, 5.5)) -> list[bytes]:
    """The same resources as NDJSON lines: no fullUrl there, so references are relative."""
    bundle = patient_bundle(patient_id, glucose_values=values, bundle_type="collection")
    lines = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if "subject" in resource:
            resource["subject"] = {"reference": f"Patient/{patient_id}"}
        lines.append(orjson.dumps(resource))
    return lines


def _write(path: Path, content: bytes | dict[str, Any]) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else orjson.dumps(content))
    return path


def _stored_rows(hs: Healthspace) -> tuple[int, list[str]]:
    """How many resources the database holds, and the ids of every space (person or shared)."""
    with hs.vault.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(resources)).scalar_one()
        ids = sorted(connection.execute(select(spaces.c.id)).scalars())
    return int(count), ids


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "good.json", _bundle(GOOD_PERSON))


# -- the bad files: each builder writes one into a folder and says where and why it must fail ---

Expectation = tuple[Path, Callable[[str], bool], tuple[str, ...]]


def truncated_json(folder: Path) -> Expectation:
    data = orjson.dumps(_bundle("cut-person"), option=orjson.OPT_INDENT_2)
    cut = data[: len(data) // 2]
    line = cut.count(b"\n") + 1
    column = len(cut.rsplit(b"\n", 1)[-1]) + 1
    place = f"line {line}, column {column}"
    return _write(folder / "truncated.json", cut), place.__eq__, ("invalid JSON", "complete")


def invalid_json(folder: Path) -> Expectation:
    data = b'{"resourceType": "Patient", "id": "p1",, "gender": "female"}'
    return _write(folder / "invalid.json", data), "line 1, column 40".__eq__, ("invalid JSON",)


def empty_file(folder: Path) -> Expectation:
    return _write(folder / "empty.json", b""), "line 1, column 1".__eq__, ("invalid JSON",)


def not_a_resource(folder: Path) -> Expectation:
    path = _write(folder / "list.json", b'[{"resourceType": "Patient"}]')
    return path, "$".__eq__, ("JSON object",)


def misspelt_resource_type(folder: Path) -> Expectation:
    bundle = _bundle("misspelt-person")
    bundle["entry"][1]["resource"]["resourceType"] = "Patien"
    place = "$.entry[1].resource.resourceType"
    return _write(folder / "patien.json", bundle), place.__eq__, ("'Patien'", "not a FHIR R4")


def missing_resource_type(folder: Path) -> Expectation:
    bundle = _bundle("untyped-person")
    del bundle["entry"][2]["resource"]["resourceType"]
    place = "$.entry[2].resource.resourceType"
    return _write(folder / "untyped.json", bundle), place.__eq__, ("missing",)


def relative_reference_to_nothing(folder: Path) -> Expectation:
    bundle = _bundle("dangling-person")
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/does-not-exist"}
    return (
        _write(folder / "dangling.json", bundle),
        lambda place: place.startswith("$.entry[1].resource"),
        ("reference to nothing", "Patient/does-not-exist"),
    )


def urn_reference_to_nothing(folder: Path) -> Expectation:
    bundle = _bundle("urn-person")
    nowhere = "urn:uuid:00000000-0000-4000-8000-00000000dead"
    bundle["entry"][2]["resource"]["performer"] = [{"reference": nowhere}]
    return (
        _write(folder / "urn.json", bundle),
        lambda place: place.startswith("$.entry[2].resource"),
        ("reference to nothing", nowhere),
    )


def binary_file(folder: Path) -> Expectation:
    data = PNG_HEAD + bytes(range(256)) * 8
    return _write(folder / "scan.json", data), "".__eq__, ("binary",)


def truncated_gzip(folder: Path) -> Expectation:
    data = gzip.compress(orjson.dumps(_bundle("gzip-person")))
    return _write(folder / "cut.json.gz", data[: len(data) // 2]), "".__eq__, ("gzip", "truncated")


def two_patients(folder: Path) -> Expectation:
    bundle = _bundle("first-person")
    bundle["entry"] += _bundle("second-person")["entry"]
    place = "$.entry[3].resource"
    return _write(folder / "two.json", bundle), place.__eq__, ("second patient", "second-person")


def patient_name_not_a_list(folder: Path) -> Expectation:
    bundle = _bundle("name-person")
    bundle["entry"][0]["resource"]["name"] = "Alex Testperson"
    place = "$.entry[0].resource.name"
    return _write(folder / "name.json", bundle), place.__eq__, ("HumanName",)


def malformed_urn_uuid_as_id(folder: Path) -> Expectation:
    """A resource without an id takes its urn:uuid as id: one that is no UUID is refused."""
    bundle = _bundle("urn-id-person")
    not_a_uuid = "urn:uuid:" + "a" * 100
    del bundle["entry"][0]["resource"]["id"]
    bundle["entry"][0]["fullUrl"] = not_a_uuid
    for entry in bundle["entry"][1:]:
        entry["resource"]["subject"] = {"reference": not_a_uuid}
    place = "$.entry[0].fullUrl"
    return _write(folder / "urn-id.json", bundle), place.__eq__, ("urn:uuid",)


def invalid_birth_date(folder: Path) -> Expectation:
    bundle = _bundle("date-person")
    bundle["entry"][0]["resource"]["birthDate"] = "1970-13-01"
    place = "$.entry[0].resource.birthDate"
    return _write(folder / "month.json", bundle), place.__eq__, ("'1970-13-01'", "date")


def impossible_birth_date(folder: Path) -> Expectation:
    bundle = _bundle("feb-person")
    bundle["entry"][0]["resource"]["birthDate"] = "1970-02-30"
    place = "$.entry[0].resource.birthDate"
    return _write(folder / "feb30.json", bundle), place.__eq__, ("'1970-02-30'", "date")


def ndjson_with_a_bad_line(folder: Path) -> Expectation:
    lines = _ndjson("ndjson-person", (5.0, 5.5, 6.0))
    lines[2] = lines[2][: len(lines[2]) // 2]
    return (
        _write(folder / "bad.ndjson", b"\n".join(lines) + b"\n"),
        lambda place: place.startswith("line 3,"),
        ("invalid JSON",),
    )


BAD_FILES = [
    truncated_json,
    invalid_json,
    empty_file,
    not_a_resource,
    misspelt_resource_type,
    missing_resource_type,
    relative_reference_to_nothing,
    urn_reference_to_nothing,
    binary_file,
    truncated_gzip,
    two_patients,
    patient_name_not_a_list,
    malformed_urn_uuid_as_id,
    invalid_birth_date,
    impossible_birth_date,
    ndjson_with_a_bad_line,
]


@pytest.mark.parametrize("make_bad_file", BAD_FILES, ids=lambda f: f.__name__)
def test_bad_file_is_reported_with_place_and_reason_and_the_batch_goes_on(
    hs_sqlite: Healthspace,
    tmp_path: Path,
    good_file: Path,
    make_bad_file: Callable[[Path], Expectation],
) -> None:
    bad, place_is_right, reason_words = make_bad_file(tmp_path)

    report = hs_sqlite.importer.import_paths([bad, good_file], "test")

    errors = [e for e in report.errors if e["path"] == str(bad)]
    assert errors and errors == report.errors, report.errors
    first = errors[0]
    assert place_is_right(first["place"]), first
    for word in reason_words:
        assert word in first["reason"], first
    # The good file of the same batch is in, and nothing of the bad one.
    assert report.files_imported == 1
    assert report.persons == [GOOD_PERSON]
    assert dict(report.imported) == GOOD_COUNTS
    assert _stored_rows(hs_sqlite) == (3, [GOOD_PERSON])


def test_batch_of_every_bad_file_stores_the_good_file_only(
    hs: Healthspace, tmp_path: Path, good_file: Path
) -> None:
    """Every bad file above in one batch, on each database: each is named with its place and
    reason, none leaves a row, and the good file still goes in."""
    expected: dict[str, tuple[Callable[[str], bool], tuple[str, ...]]] = {}
    for make_bad_file in BAD_FILES:
        folder = tmp_path / make_bad_file.__name__
        folder.mkdir()
        bad, place_is_right, reason_words = make_bad_file(folder)
        expected[str(bad)] = (place_is_right, reason_words)

    report = hs.importer.import_paths([*map(Path, expected), good_file], "test")

    first_errors: dict[str, dict[str, str]] = {}
    for error in report.errors:
        first_errors.setdefault(error["path"], error)
    assert first_errors.keys() == expected.keys()
    for path, (place_is_right, reason_words) in expected.items():
        error = first_errors[path]
        assert place_is_right(error["place"]), error
        assert all(word in error["reason"] for word in reason_words), error
    assert report.files_imported == 1 and report.persons == [GOOD_PERSON]
    assert dict(report.imported) == GOOD_COUNTS
    assert _stored_rows(hs) == (3, [GOOD_PERSON])


def test_file_of_500_mb_is_refused_by_its_size_without_being_read(
    hs_sqlite: Healthspace, tmp_path: Path, good_file: Path
) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(500 * 2**20)  # sparse: no disk used, and reading it would take seconds

    started = time.perf_counter()
    report = hs_sqlite.importer.import_paths([huge, good_file], "test")
    elapsed = time.perf_counter() - started

    assert [(e["path"], e["place"]) for e in report.errors] == [(str(huge), "")]
    reason = report.errors[0]["reason"]
    assert "500 MB" in reason and "limit" in reason and "HEALTHSPACE_MAX_FILE_BYTES" in reason
    assert elapsed < 2.0
    assert report.persons == [GOOD_PERSON]
    assert _stored_rows(hs_sqlite) == (3, [GOOD_PERSON])


def test_gzip_that_unzips_past_the_size_limit_is_refused(tmp_path: Path, good_file: Path) -> None:
    hs = build(make_settings(tmp_path / "small-limit", max_file_bytes=2**20))
    try:
        bomb = _write(tmp_path / "bomb.json.gz", gzip.compress(b" " * (3 * 2**20), 1))
        report = hs.importer.import_paths([bomb, good_file], "test")
        assert [e["path"] for e in report.errors] == [str(bomb)]
        assert "unzips to more than" in report.errors[0]["reason"]
        assert report.persons == [GOOD_PERSON]
        assert _stored_rows(hs) == (3, [GOOD_PERSON])
    finally:
        hs.close()


def test_file_valid_until_its_last_entry_stores_nothing(hs: Healthspace, tmp_path: Path) -> None:
    bundle = patient_bundle("long-person", glucose_values=tuple(4.0 + i / 10 for i in range(40)))
    bundle["entry"][-1]["resource"]["subject"] = {"reference": "Patient/nobody"}
    bad = _write(tmp_path / "long.json", bundle)

    report = hs.importer.import_paths([bad], "test")

    assert [e["place"] for e in report.errors] == ["$.entry[40].resource"]
    assert report.nothing_imported and not report.imported
    assert _stored_rows(hs) == (0, [])


def test_file_whose_store_fails_after_writing_rows_leaves_none_of_them(
    hs: Healthspace, tmp_path: Path, good_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit write comes last in a file's transaction; when it fails, the rows the file had
    already written go too (a failed audit write fails the operation)."""
    bad = _write(tmp_path / "bad.json", _bundle("late-failure-person"))
    written_before_failure: list[int] = []

    def failing_audit(connection: Connection, events: list[AuditEvent]) -> None:
        rows = connection.execute(select(func.count()).select_from(resources)).scalar_one()
        written_before_failure.append(int(rows))
        raise ValueError("the audit log could not be written")

    with monkeypatch.context() as patch:
        patch.setattr(hs.vault.audit, "append", failing_audit)
        report = hs.importer.import_paths([bad], "test")

    assert written_before_failure == [3]
    assert [e["path"] for e in report.errors] == [str(bad)]
    assert "audit log could not be written" in report.errors[0]["reason"]
    assert _stored_rows(hs) == (0, [])
    assert hs.vault.verify_audit().valid
    # The same file goes in whole once the store works.
    assert dict(hs.importer.import_paths([bad], "test").imported) == GOOD_COUNTS


def test_reference_to_a_patient_in_a_later_file_of_the_batch_is_resolved(
    hs: Healthspace, tmp_path: Path
) -> None:
    """Reference to nothing *yet*: the file is retried once the rest of the batch is in."""
    bundle = _bundle("split-person")
    patient = bundle["entry"][0]["resource"]
    observations = [
        dict(e["resource"], subject={"reference": "Patient/split-person"})
        for e in bundle["entry"][1:]
    ]
    first = _write(tmp_path / "a-observations.ndjson", b"\n".join(map(orjson.dumps, observations)))
    second = _write(tmp_path / "b-patient.ndjson", orjson.dumps(patient))

    report = hs.importer.import_paths([first, second], "test")

    assert report.errors == []
    assert dict(report.imported) == {"Observation": 2, "Patient": 1}


def test_reimport_adds_nothing(hs: Healthspace, good_file: Path) -> None:
    first = hs.importer.import_paths([good_file], "test")
    assert dict(first.imported) == GOOD_COUNTS and first.unchanged == 0

    again = hs.importer.import_paths([good_file], "test")

    assert again.errors == [] and again.files_imported == 1
    assert not again.imported and again.unchanged == 3
    assert again.persons == [GOOD_PERSON]
    assert _stored_rows(hs) == (3, [GOOD_PERSON])


def test_reimport_of_the_same_content_gzipped_adds_nothing(
    hs: Healthspace, tmp_path: Path, good_file: Path
) -> None:
    hs.importer.import_paths([good_file], "test")
    zipped = _write(tmp_path / "good-again.json.gz", gzip.compress(good_file.read_bytes()))

    again = hs.importer.import_paths([zipped], "test")

    assert again.errors == [] and again.files_imported == 1
    assert not again.imported and again.unchanged == 3
    assert _stored_rows(hs) == (3, [GOOD_PERSON])


def test_gzipped_json_and_ndjson_are_read_as_is(hs: Healthspace, tmp_path: Path) -> None:
    bundle = _write(tmp_path / "one.json.gz", gzip.compress(orjson.dumps(_bundle("zip-one"))))
    lines = _ndjson("zip-two", (5.0,))
    bulk = _write(tmp_path / "two.ndjson.gz", gzip.compress(b"\n".join(lines) + b"\n"))

    report = hs.importer.import_paths([bundle, bulk], "test")

    assert report.errors == []
    assert report.persons == ["zip-one", "zip-two"]
    assert dict(report.imported) == {"Observation": 3, "Patient": 2}


# -- the command line: exit codes, stderr and the --json document ------------------------------


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=120
    )


def _one_json_document(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)  # raises on anything but exactly one JSON document
    assert isinstance(document, dict)
    return document


def test_cli_exits_1_with_the_reason_on_stderr_when_nothing_was_imported(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    truncated, _, _ = truncated_json(tmp_path)
    binary, _, _ = binary_file(tmp_path)

    result = _cli(hs_sqlite.settings.home, "import", str(truncated), str(binary))

    assert result.returncode == 1, result
    # Rich folds long lines at the terminal width; unfold before looking for a path.
    stderr = result.stderr.replace("\n", "")
    assert f"{truncated} at line " in stderr and "invalid JSON" in stderr
    assert str(binary) in stderr and "binary" in stderr
    assert _stored_rows(hs_sqlite) == (0, [])


def test_cli_json_exits_1_and_lists_every_error_when_nothing_was_imported(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    truncated, _, _ = truncated_json(tmp_path)
    dangling, _, _ = relative_reference_to_nothing(tmp_path)

    result = _cli(hs_sqlite.settings.home, "import", str(truncated), str(dangling), "--json")

    assert result.returncode == 1, result
    report = _one_json_document(result.stdout)
    assert report["person"] is None and report["imported"] == {}
    assert sorted(e["path"] for e in report["errors"]) == sorted([str(truncated), str(dangling)])
    assert all(e["reason"] for e in report["errors"])


def test_cli_exits_0_when_one_file_of_the_batch_imports(
    hs_sqlite: Healthspace, tmp_path: Path, good_file: Path
) -> None:
    bad, _, _ = misspelt_resource_type(tmp_path)

    result = _cli(hs_sqlite.settings.home, "import", str(bad), str(good_file), "--json")

    assert result.returncode == 0, result
    report = _one_json_document(result.stdout)
    assert {"person", "imported", "skipped", "errors"} <= report.keys()
    assert report["person"] == GOOD_PERSON
    assert report["imported"] == GOOD_COUNTS
    assert report["skipped"] == 0
    assert report["errors"] == [
        {
            "path": str(bad),
            "place": "$.entry[1].resource.resourceType",
            "reason": "'Patien' is not a FHIR R4 resource type",
        }
    ]
    assert [p.id for p in hs_sqlite.vault.persons("test")] == [GOOD_PERSON]


def test_cli_json_failure_also_names_the_file_on_stderr(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    truncated, _, _ = truncated_json(tmp_path)

    result = _cli(hs_sqlite.settings.home, "import", str(truncated), "--json")

    assert result.returncode == 1
    assert str(truncated) in result.stderr.replace("\n", "")


def test_cli_prints_text_from_the_file_literally_in_its_errors(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    closing = _write(tmp_path / "closing.json", {"resourceType": "[/x]"})
    styled = _write(tmp_path / "styled.json", {"resourceType": "[bold]Patient"})

    result = _cli(hs_sqlite.settings.home, "import", str(closing), str(styled))

    assert result.returncode == 1
    stderr = result.stderr.replace("\n", "")
    assert "Traceback" not in stderr
    assert "'[/x]' is not a FHIR R4 resource type" in stderr
    assert "'[bold]Patient' is not a FHIR R4 resource type" in stderr


def test_two_patient_bundle_is_refused_for_that_reason_only(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    bad, _, _ = two_patients(tmp_path)

    report = hs_sqlite.importer.import_paths([bad], "test")

    assert [e["reason"] for e in report.errors if "second patient" not in e["reason"]] == []
