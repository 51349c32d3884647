"""Every Synthea sample in ../shared/data imports with no error and round-trips through export."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthspace.bootstrap import Healthspace, build
from tests.conftest import make_settings, shared_data


def _canonical(resources: list[dict[str, Any]]) -> dict[tuple[str, str], bytes]:
    return {
        (r["resourceType"], r["id"]): orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
        for r in resources
    }


def _file_resource_count(path: Path) -> int:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if ".ndjson" in path.name:
        return sum(1 for line in data.splitlines() if b'"resourceType"' in line)
    return len(orjson.loads(data).get("entry", []))


def _assert_round_trip(hs: Healthspace, tmp_path: Path, persons: list[str]) -> None:
    """Export each person, import the export elsewhere, and get the very same resources."""
    target = build(make_settings(tmp_path / "round-trip"))
    try:
        for person in persons:
            bundle = hs.vault.export("test", person)
            text = orjson.dumps(bundle)
            assert b'"reference":"urn:uuid:' not in text
            report = target.importer.import_uploads([(f"{person}.json", text)], "test")
            assert report.errors == [], report.errors[:3]
            assert report.persons == [person]
            again = target.vault.export("test", person)
            assert _canonical([e["resource"] for e in again["entry"]]) == _canonical(
                [e["resource"] for e in bundle["entry"]]
            )
            # A second import of the export adds nothing.
            second = target.importer.import_uploads([(f"{person}.json", text)], "test")
            assert not second.imported and second.unchanged == len(bundle["entry"])
    finally:
        target.close()


def test_synthea_samples_import_without_errors_and_round_trip(
    hs: Healthspace, tmp_path: Path
) -> None:
    folder = shared_data("synthea")
    report = hs.importer.import_paths([folder], "test")
    assert report.errors == [], report.errors[:5]
    # Only licences, READMEs and the Bulk Data log are passed over; no FHIR entry is skipped.
    assert all(
        Path(s["path"]).suffix in {".txt", ".md"} or Path(s["path"]).name == "log.ndjson"
        for s in report.skipped
    ), report.skipped
    expected_files = [
        p for p in folder.rglob("*") if p.suffix in {".json", ".ndjson"} and p.name != "log.ndjson"
    ]
    assert report.files_imported == len(expected_files)
    persons = hs.vault.persons("test")
    patient_ids = {
        line.split(b'"id":"', 1)[1].split(b'"', 1)[0]
        for line in (folder / "smart_bulk_10patients_r4" / "ndjson" / "Patient.000.ndjson")
        .read_bytes()
        .splitlines()
        if line.strip()
    }
    for bundle_file in expected_files:
        if bundle_file.suffix == ".json":
            entries = orjson.loads(bundle_file.read_bytes())["entry"]
            patient_ids |= {
                e["resource"]["id"].encode()
                for e in entries
                if e["resource"]["resourceType"] == "Patient"
            }
    # The bulk export and its per-patient bundles hold the same people: they are merged.
    assert len(persons) == len(patient_ids)
    assert all(p.name and p.birth_date for p in persons)
    stored = sum(p.resources for p in persons)
    assert stored > 10_000
    # Nothing left pointing to a urn:uuid: every in-file reference was resolved.
    sample = hs.vault.resources("test", persons[0].id)
    assert b'"reference":"urn:uuid:' not in orjson.dumps(sample)
    _assert_round_trip(hs, tmp_path, [p.id for p in persons])


@pytest.mark.slow
def test_all_488_synthea_smart_patients_import_completely(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    folder = shared_data("synthea_smart", "bundles")
    files = sorted(folder.glob("*.json.gz"))
    assert len(files) == 488
    report = hs_sqlite.importer.import_paths([folder], "test")
    assert report.errors == [], report.errors[:5]
    assert report.files_imported == 488
    persons = hs_sqlite.vault.persons("test")
    assert len(persons) == 488
    expected = sum(_file_resource_count(f) for f in files[:25])
    first_ids = {
        orjson.loads(gzip.decompress(f.read_bytes()))["entry"][0]["resource"]["id"]
        for f in files[:25]
    }
    stored = sum(p.resources for p in persons if p.id in first_ids)
    # Shared reference data (Organization, Practitioner) is stored once, outside persons.
    assert 0.9 * expected < stored <= expected
    _assert_round_trip(hs_sqlite, tmp_path, sorted(first_ids)[:10])
