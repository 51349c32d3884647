"""Import semantics: persons, references, re-imports and versions, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from tests.factories import patient_bundle


def _upload(hs: Healthspace, name: str, document: Any, person: str | None = None):  # type: ignore[no-untyped-def]
    data = (
        b"\n".join(orjson.dumps(r) for r in document)
        if isinstance(document, list)
        else orjson.dumps(document)
    )
    return hs.importer.import_uploads([(name, data)], "test", person)


def _observation(obs_id: str, subject: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"text": "glucose"},
        "subject": {"reference": subject},
        **extra,
    }


def test_reimport_adds_nothing(hs: Healthspace) -> None:
    bundle = patient_bundle("sem-1", glucose_values=(5.0, 6.0))
    first = _upload(hs, "a.json", bundle)
    second = _upload(hs, "a.json", bundle)
    assert sum(first.imported.values()) == 3
    assert not second.imported and second.unchanged == 3
    assert hs.vault.persons("test")[0].resources == 3


def test_changed_resource_gets_a_new_version_and_keeps_history(hs: Healthspace) -> None:
    _upload(hs, "a.json", patient_bundle("sem-2", glucose_values=(5.0,)))
    report = _upload(hs, "b.json", patient_bundle("sem-2", glucose_values=(9.5,)))
    assert dict(report.imported) == {"Observation": 1} and report.unchanged == 1
    [observation] = hs.vault.resources("test", "sem-2", "Observation")
    assert observation["valueQuantity"]["value"] == 9.5
    with hs.vault.engine.connect() as connection:
        versions = connection.execute(
            text("SELECT version FROM resources WHERE resource_type = 'Observation'")
        ).scalar()
        history = connection.execute(text("SELECT count(*) FROM resource_history")).scalar()
    assert (versions, history) == (2, 1)


def test_relative_reference_to_a_stored_patient_joins_their_record(hs: Healthspace) -> None:
    _upload(hs, "p.json", patient_bundle("sem-3", glucose_values=()))
    report = _upload(hs, "obs.json", _observation("o-1", "Patient/sem-3"))
    assert report.errors == [] and report.persons == ["sem-3"]
    assert [r["id"] for r in hs.vault.resources("test", "sem-3", "Observation")] == ["o-1"]


def test_reference_to_another_persons_resource_is_refused(hs: Healthspace) -> None:
    _upload(hs, "a.json", patient_bundle("sem-4a", glucose_values=()))
    _upload(hs, "b.json", patient_bundle("sem-4b", glucose_values=()))
    _upload(
        hs,
        "enc.json",
        {
            "resourceType": "Encounter",
            "id": "e-b",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": "Patient/sem-4b"},
        },
    )
    # An observation of person A pointing at person B's encounter: B's data stays invisible.
    report = _upload(
        hs,
        "obs.json",
        _observation("o-2", "Patient/sem-4a", encounter={"reference": "Encounter/e-b"}),
    )
    assert report.files_imported == 0
    assert "reference to nothing: Encounter/e-b" in report.errors[0]["reason"]
    assert hs.vault.resources("test", "sem-4a", "Observation") == []


def test_person_option_refuses_a_resource_about_someone_else(hs: Healthspace) -> None:
    _upload(hs, "a.json", patient_bundle("sem-5a", glucose_values=()))
    _upload(hs, "b.json", patient_bundle("sem-5b", glucose_values=()))
    report = _upload(hs, "obs.json", _observation("o-3", "Patient/sem-5b"), person="sem-5a")
    assert report.files_imported == 0
    assert "not the person given with --person" in report.errors[0]["reason"]


def test_person_option_adds_a_resource_without_patient_to_that_person(hs: Healthspace) -> None:
    _upload(hs, "a.json", patient_bundle("sem-6", glucose_values=()))
    allergy = {"resourceType": "Basic", "id": "note-1", "code": {"text": "note"}}
    assert (
        _upload(hs, "x.json", allergy)
        .errors[0]["reason"]
        .startswith("Basic/note-1 names no patient")
    )
    report = _upload(hs, "x.json", allergy, person="sem-6")
    assert report.errors == [] and report.persons == ["sem-6"]


def test_shared_reference_data_is_stored_once_for_all_persons(hs: Healthspace) -> None:
    practitioner = {"resourceType": "Practitioner", "id": "dr-1", "name": [{"family": "House"}]}
    for person in ("sem-7a", "sem-7b"):
        bundle = patient_bundle(person, glucose_values=(5.0,))
        bundle["entry"].append(
            {
                "fullUrl": "urn:uuid:0d3c5a5e-1111-4222-8333-944455556666",
                "resource": practitioner,
                "request": {"method": "POST", "url": "Practitioner"},
            }
        )
        bundle["entry"][1]["resource"]["performer"] = [
            {"reference": "urn:uuid:0d3c5a5e-1111-4222-8333-944455556666"}
        ]
        assert _upload(hs, f"{person}.json", bundle).errors == []
    with hs.vault.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM resources WHERE resource_type = 'Practitioner'")
        ).scalar()
    assert count == 1
    [observation] = hs.vault.resources("test", "sem-7b", "Observation")
    assert observation["performer"] == [{"reference": "Practitioner/dr-1"}]
    exported = hs.vault.export("test", "sem-7a")
    assert "Practitioner" in {e["resource"]["resourceType"] for e in exported["entry"]}


def test_ndjson_files_of_one_export_import_in_any_order(hs: Healthspace, tmp_path: Path) -> None:
    patients = [
        {"resourceType": "Patient", "id": f"nd-{i}", "birthDate": f"1980-02-0{i + 1}"}
        for i in range(3)
    ]
    encounters = [
        {
            "resourceType": "Encounter",
            "id": f"enc-{i}",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/nd-{i}"},
        }
        for i in range(3)
    ]
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"c-{i}",
            "subject": {"reference": f"Patient/nd-{i}"},
            "encounter": {"reference": f"Encounter/enc-{i}"},
        }
        for i in range(3)
    ]
    folder = tmp_path / "export"
    folder.mkdir()
    # Names that sort the wrong way round: conditions come before the encounters they cite.
    for name, rows in (
        ("a_conditions.ndjson", conditions),
        ("b_encounters.ndjson", encounters),
        ("c_patients.ndjson", patients),
    ):
        (folder / name).write_bytes(b"\n\n".join(orjson.dumps(r) for r in rows) + b"\n")
    report = hs.importer.import_paths([folder], "test")
    assert report.errors == []
    assert report.persons == ["nd-0", "nd-1", "nd-2"]
    for i in range(3):
        kinds = sorted(r["resourceType"] for r in hs.vault.resources("test", f"nd-{i}"))
        assert kinds == ["Condition", "Encounter", "Patient"]


def test_conditional_reference_is_resolved_inside_the_file(hs: Healthspace) -> None:
    bundle = patient_bundle("sem-8", glucose_values=(5.0,))
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:7e1f6a4e-2222-4333-8444-955566667777",
            "resource": {
                "resourceType": "Practitioner",
                "id": "dr-npi",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "123"}],
            },
            "request": {"method": "POST", "url": "Practitioner"},
        }
    )
    bundle["entry"][1]["resource"]["performer"] = [
        {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|123"},
        {"reference": "Organization?identifier=http://example.org|999"},
    ]
    report = _upload(hs, "c.json", bundle)
    assert report.errors == [] and report.kept_references == 1
    [observation] = hs.vault.resources("test", "sem-8", "Observation")
    assert observation["performer"][0] == {"reference": "Practitioner/dr-npi"}
    assert observation["performer"][1]["reference"].startswith("Organization?identifier=")


def test_requests_that_are_not_stores_are_skipped_with_a_reason(hs: Healthspace) -> None:
    bundle = patient_bundle("sem-9", glucose_values=(5.0,))
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Observation/old"}})
    bundle["entry"].append({"request": {"method": "GET", "url": "Patient?name=x"}})
    report = _upload(hs, "d.json", bundle)
    assert report.errors == []
    reasons = [s["reason"] for s in report.skipped]
    assert reasons == [
        "DELETE requests are not applied by import",
        "GET requests are not applied by import",
    ]
    assert [s["place"] for s in report.skipped] == ["$.entry[2]", "$.entry[3]"]


def test_deleted_resource_is_gone_with_its_history_and_audited(hs: Healthspace) -> None:
    _upload(hs, "a.json", patient_bundle("sem-10", glucose_values=(5.0,)))
    _upload(hs, "b.json", patient_bundle("sem-10", glucose_values=(6.0,)))
    [observation] = hs.vault.resources("test", "sem-10", "Observation")
    hs.vault.delete_resource("test", "sem-10", "Observation", observation["id"])
    assert hs.vault.resources("test", "sem-10", "Observation") == []
    with hs.vault.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM resource_history")).scalar() == 0
    assert "delete" in {e.action for e in hs.vault.audit_entries("test", "sem-10")}
    with pytest.raises(NotFoundError):
        hs.vault.delete_resource("test", "sem-10", "Observation", observation["id"])
