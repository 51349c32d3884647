"""Coding a person's record on both databases: conditions checked against suggestions, notes
coded, lab results without LOINC given suggestions; and the same through the CLI and the API."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from healthspace.bootstrap import Healthspace
from healthspace.cli.app import _register_commands, app
from healthspace.coding.record_coding import (
    code_person,
    condition_text,
    icd_agreement,
    map_person_labs,
    note_text,
)
from healthspace.errors import NotFoundError
from healthspace.terminology.snomed import SnomedNotLoadedError, load_release, open_store
from tests.coding.test_snomed_coding import write_map
from tests.factories import patient_bundle
from tests.server import cli_env
from tests.signed_in import signed_in_client
from tests.terminology.rf2_sample import write_release

PERSON = "coding-person"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
LOCAL = "urn:oid:1.2.250.1.999.1"  # a laboratory's own code system


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"healthspace-test/coding/{name}"))


def _condition(
    name: str, patient_url: str, codings: list[dict[str, str]], text: str | None = None
) -> dict[str, Any]:
    code: dict[str, Any] = {"coding": codings}
    if text:
        code["text"] = text
    return {
        "resourceType": "Condition",
        "id": _id(name),
        "code": code,
        "subject": {"reference": patient_url},
        "recordedDate": "2024-03-01",
    }


def _local_observation(
    name: str, patient_url: str, text: str, value: float, unit: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _id(name),
        "status": "final",
        "code": {"coding": [{"system": LOCAL, "code": name.upper()}], "text": text},
        "subject": {"reference": patient_url},
        "effectiveDateTime": "2024-03-01T08:00:00+01:00",
        "valueQuantity": {"value": value, "unit": unit},
    }


def record_bundle() -> dict[str, Any]:
    bundle = patient_bundle(PERSON)  # a Patient and a fasting glucose with its LOINC code
    patient_url = bundle["entry"][0]["fullUrl"]
    note = "Patient seen for asthma follow-up. No chest pain. Hypertension is well controlled."
    resources = [
        # Synthea style: SNOMED CT only, the display carrying its semantic tag.
        _condition(
            "synthea",
            patient_url,
            [{"system": SCT, "code": "38341003", "display": "Hypertension (disorder)"}],
        ),
        _condition("agrees", patient_url, [{"system": ICD, "code": "E11.9"}], "Type 2 diabetes"),
        _condition("differs", patient_url, [{"system": ICD, "code": "J45.909"}], "Migraine"),
        _condition("vague", patient_url, [], "Feeling out of sorts"),
        {
            "resourceType": "DocumentReference",
            "id": _id("note"),
            "status": "current",
            "subject": {"reference": patient_url},
            "date": "2024-03-01T09:00:00+01:00",
            "description": "Consultation note",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(note.encode()).decode(),
                    }
                }
            ],
        },
        _local_observation("creat-1", patient_url, "Créat", 80.0, "µmol/L"),
        _local_observation("creat-2", patient_url, "Créat", 85.0, "µmol/L"),
        _local_observation("tsh", patient_url, "TSH us", 1.9, "mUI/L"),
    ]
    for resource in resources:
        bundle["entry"].append(
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return bundle


@pytest.fixture
def person(hs: Healthspace) -> str:
    report = hs.importer.import_uploads([("record.json", orjson.dumps(record_bundle()))], "test")
    assert not report.errors, report.errors
    return PERSON


def _items(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["resource"]: item for item in result["items"]}


def test_conditions_are_checked_against_suggestions(hs: Healthspace, person: str) -> None:
    result = code_person(hs, "test", person).as_json()
    items = _items(result)
    synthea = items[f"Condition/{_id('synthea')}"]
    assert synthea["text"] == "Hypertension"
    assert synthea["existing"] == [{"system": "snomed", "code": "38341003",
                                    "display": "Hypertension (disorder)"}]  # fmt: skip
    assert [(s["code"], s["evidence"]) for s in synthea["suggestions"]] == [("I10", "Hypertension")]
    assert synthea["agreement"] == {"icd10cm": "uncoded"}  # no release loaded: nothing to map
    assert items[f"Condition/{_id('agrees')}"]["agreement"] == {"icd10cm": "agrees"}
    assert items[f"Condition/{_id('differs')}"]["agreement"] == {"icd10cm": "differs"}
    vague = items[f"Condition/{_id('vague')}"]
    assert vague["suggestions"] == [] and vague["agreement"] == {"icd10cm": "no_suggestion"}
    assert result["counts"]["conditions"] == 4
    assert result["counts"]["icd10cm_agrees"] == 1


def test_notes_are_coded_and_compared_with_the_problem_list(hs: Healthspace, person: str) -> None:
    note = _items(code_person(hs, "test", person).as_json())[f"DocumentReference/{_id('note')}"]
    assert note["kind"] == "note" and note["text"] == "Consultation note"
    codes = {s["code"]: s["evidence"] for s in note["suggestions"]}
    assert codes == {"J45.909": "asthma", "I10": "Hypertension"}  # chest pain is negated
    # Asthma is coded on the list (as the "Migraine" item's code); hypertension only in SNOMED.
    assert note["not_on_problem_list"] == ["I10"]


def test_with_a_release_and_its_map_snomed_codes_are_compared(
    hs: Healthspace, person: str, tmp_path: Path
) -> None:
    with pytest.raises(SnomedNotLoadedError):
        code_person(hs, "test", person, "all")
    release = write_release(tmp_path / "release")
    write_map(release)
    load_release(release, hs.settings.home)
    with open_store(hs.settings.home) as store:
        result = code_person(hs, "test", person, "all", store).as_json()
    assert result["snomed_map"] is True
    synthea = _items(result)[f"Condition/{_id('synthea')}"]
    assert synthea["mapped_icd10cm"] == ["I10"]
    assert synthea["agreement"] == {"icd10cm": "agrees", "snomed": "agrees"}
    assert [(s["system"], s["code"]) for s in synthea["suggestions"]] == [
        ("icd10cm", "I10"),
        ("snomed", "38341003"),
    ]
    diabetes = _items(result)[f"Condition/{_id('agrees')}"]
    assert diabetes["agreement"] == {"icd10cm": "agrees", "snomed": "uncoded"}


def test_lab_results_without_loinc_get_suggestions(hs: Healthspace, person: str) -> None:
    result = map_person_labs(hs, "test", person)
    assert result["observations"] == 4 and result["without_loinc"] == 3
    tests = {t["name"]: t for t in result["tests"]}
    assert set(tests) == {"Créat", "TSH us"}
    creat = tests["Créat"]
    assert creat["count"] == 2 and creat["unit"] == "µmol/L"
    assert creat["local_codes"] == [{"system": LOCAL, "code": "CREAT-1", "display": None}]
    assert creat["suggestions"][0]["code"] == "14682-9"  # molar unit: the molar code
    assert tests["TSH us"]["suggestions"][0]["code"] == "3016-3"


def test_an_unknown_person_is_not_found(hs: Healthspace) -> None:
    with pytest.raises(NotFoundError):
        code_person(hs, "test", "nobody")
    with pytest.raises(NotFoundError):
        map_person_labs(hs, "test", "nobody")


def test_reading_conditions_and_notes() -> None:
    assert condition_text({"code": {"coding": [{"display": "Prediabetes (finding)"}]}}) == (
        "Prediabetes"
    )
    assert condition_text({"code": {"text": "Asthme", "coding": [{"display": "x"}]}}) == "Asthme"
    assert condition_text({}) == ""
    composition = {
        "resourceType": "Composition",
        "section": [
            {"title": "Assessment", "text": {"div": "<div>Type 2 diabetes<br/>&amp; gout</div>"}}
        ],
    }
    assert note_text(composition) == "Assessment:\nType 2 diabetes\n& gout"
    broken = {"resourceType": "DocumentReference", "content": [{"attachment": {
        "contentType": "text/plain", "data": "%%%not base64"}}]}  # fmt: skip
    assert note_text(broken) == ""
    assert icd_agreement(["E11.9"], ["E11.65"]) == "same_category"
    assert icd_agreement([], []) == "no_suggestion"


def test_person_coding_route(hs: Healthspace, person: str) -> None:
    client = signed_in_client(hs, person)
    got = client.get(f"/api/v1/persons/{person}/coding")
    assert got.status_code == 200, got.text
    assert got.json()["counts"]["icd10cm_agrees"] == 1
    mapped = client.get(f"/api/v1/persons/{person}/loinc-map").json()
    assert mapped["without_loinc"] == 3
    one = client.get("/api/v1/loinc-map", params={"name": "Creat", "unit": "µmol/l"}).json()
    assert one["suggestions"][0]["code"] == "14682-9"
    assert {r["kind"] for r in one["suggestions"][0]["reasons"]} == {"name", "unit", "specimen"}
    missing = client.get(f"/api/v1/persons/{person}/coding", params={"system": "snomed"})
    assert missing.status_code == 409 and "HEALTHSPACE_SNOMED_DIR" in missing.json()["detail"]


def test_cli_person_coding_and_loinc_map(hs_sqlite: Healthspace) -> None:
    report = hs_sqlite.importer.import_uploads(
        [("record.json", orjson.dumps(record_bundle()))], "test"
    )
    assert not report.errors
    env = cli_env(hs_sqlite.settings.home)
    _register_commands()
    runner = CliRunner()

    def run(*args: str) -> Any:
        done = runner.invoke(app, [*args, "--json"], env=env)
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)

    named = run("loinc-map", "Glycémie à jeun", "--unit", "g/L")
    assert named["suggestions"][0]["code"] == "1558-6"
    assert run("loinc-map", "--person", PERSON)["without_loinc"] == 3
    coded = run("code", "--person", PERSON)
    assert coded["person"] == PERSON and coded["counts"]["icd10cm_agrees"] == 1
    both = runner.invoke(app, ["code", "asthma", "--person", PERSON, "--json"], env=env)
    assert both.exit_code != 0 and "not both" in str(both.exception)
    readable = runner.invoke(app, ["loinc-map", "Creat", "--unit", "µmol/L"], env=env)
    assert readable.exit_code == 0 and "14682-9" in readable.output
