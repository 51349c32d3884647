"""The patient summary: IPS sections with provenance, merged duplicates, changes since a date."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary import changes_since, summarize_resources
from healthspace.clinician.summary_service import summarize
from healthspace.demo.person import build_demo_bundle
from tests.conftest import shared_data
from tests.factories import patient_bundle
from tests.server import HEALTHSPACE, cli_env
from tests.signed_in import signed_in_client

ACTOR = "test"
SNOMED = "http://snomed.info/sct"


@pytest.fixture(scope="module")
def demo_bytes() -> bytes:
    return orjson.dumps(build_demo_bundle())


def _import(hs: Healthspace, name: str, data: bytes) -> str:
    report = hs.importer.import_uploads([(name, data)], ACTOR)
    assert not report.errors, report.errors
    return report.persons[0]


def _section(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(s for s in data["sections"] if s["key"] == key)["items"]


def _texts(data: dict[str, Any], key: str) -> str:
    return "\n".join(item["text"] for item in _section(data, key)).casefold()


def _refs(data: dict[str, Any]) -> list[str]:
    return [
        source["resource"]
        for section in data["sections"]
        for item in section["items"]
        for source in item.get("sources") or [item["source"]]
    ]


def test_demo_summary_has_the_ips_sections_with_sources(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    data = summarize(hs, ACTOR, person)

    codes = {s["key"]: s["code"] for s in data["sections"]}
    assert codes["problems"] == "11450-4" and codes["allergies"] == "48765-2"
    assert "diabète de type 2" in _texts(data, "problems")
    assert "hypertension" in _texts(data, "problems")
    assert "bronchite" in _texts(data, "past_problems")
    assert "bronchite" not in _texts(data, "problems")
    assert "ramipril" in _texts(data, "stopped_medications")
    assert "ramipril" not in _texts(data, "medications")
    assert "pénicilline" in _texts(data, "allergies")
    assert _section(data, "results") and _section(data, "immunizations")
    assert len(_section(data, "encounters")) == 10
    assert "dr " in _texts(data, "care_team")  # named from the shared Practitioner resources

    record = {f"{r['resourceType']}/{r['id']}" for r in hs.vault.resources(ACTOR, person)}
    refs = _refs(data)
    assert refs and set(refs) <= record


def test_results_put_abnormal_first_with_trends(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    results = _section(summarize(hs, ACTOR, person), "results")
    flagged = [
        "[high]" in i["text"] or "[low]" in i["text"] or "[critical]" in i["text"] for i in results
    ]
    assert flagged[0] and flagged == sorted(flagged, reverse=True)
    assert any(" since " in i["text"] for i in results)


def _condition(resource_id: str, source: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": resource_id,
        "meta": {"source": source},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": "44054006", "display": "Type 2 diabetes"}]},
        "subject": {"reference": "Patient/dup-1"},
        "onsetDateTime": onset,
    }


def test_the_same_condition_from_two_sources_is_one_item(hs: Healthspace) -> None:
    bundle = patient_bundle("dup-1", glucose_values=(), bundle_type="collection")
    bundle["entry"] += [
        {"resource": _condition("gp-diabetes", "urn:gp", "2021-03-04")},
        {"resource": _condition("hospital-diabetes", "urn:hospital", "2021-03-20")},
    ]
    person = _import(hs, "dup.json", orjson.dumps(bundle))
    problems = _section(summarize(hs, ACTOR, person), "problems")
    assert len(problems) == 1
    refs = {s["resource"] for s in problems[0]["sources"]}
    assert refs == {"Condition/gp-diabetes", "Condition/hospital-diabetes"}


def test_a_resolved_episode_is_not_merged_with_a_later_one() -> None:
    first = {
        **_condition("a", "urn:gp", "2019-01-01"),
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "abatementDateTime": "2019-02-01",
    }
    second = {
        **_condition("b", "urn:gp", "2019-01-15"),
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "abatementDateTime": "2019-03-01",
    }
    third = {
        **_condition("c", "urn:gp", "2023-01-01"),
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "abatementDateTime": "2023-02-01",
    }
    past = summarize_resources([first, second, third]).section("past_problems").items
    assert sorted(len(i.sources) for i in past) == [1, 2]


def test_changes_since_lists_what_is_new(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    record = hs.vault.resources(ACTOR, person)
    changes = changes_since(record, date(2024, 1, 1)).as_json()
    assert "ramipril" in _texts(changes, "medications_stopped")
    assert "amlodipine" in _texts(changes, "medications_started")
    assert "rénale" in _texts(changes, "problems")
    assert _section(changes, "results") and _section(changes, "encounters")
    later = changes_since(record, date(2100, 1, 1)).as_json()
    assert all(not s["items"] for s in later["sections"])

    data = summarize(hs, ACTOR, person, since=date(2024, 1, 1))
    assert data["changes"]["since"] == "2024-01-01"
    assert data["changes"]["sections"] == changes["sections"]


def test_a_person_with_no_labs(hs: Healthspace) -> None:
    person = _import(hs, "empty.json", orjson.dumps(patient_bundle("nolabs-1", glucose_values=())))
    data = summarize(hs, ACTOR, person)
    assert [s["items"] for s in data["sections"]] == [[] for _ in data["sections"]]


def test_a_synthea_person_summarizes(hs_sqlite: Healthspace) -> None:
    first = sorted(shared_data("synthea_smart", "bundles").glob("*.json*"))[0]
    person = _import(hs_sqlite, first.name, first.read_bytes())
    data = summarize(hs_sqlite, ACTOR, person, since=date(2015, 1, 1))
    assert _section(data, "encounters") and _section(data, "immunizations")
    record = {f"{r['resourceType']}/{r['id']}" for r in hs_sqlite.vault.resources(ACTOR, person)}
    assert set(_refs(data)) <= record


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=120
    )


def test_cli_prints_the_design_json(tmp_path: Path, demo_bytes: bytes) -> None:
    home = tmp_path / "home"
    source = tmp_path / "demo.json"
    source.write_bytes(demo_bytes)
    imported = _run(home, "import", str(source), "--json")
    assert imported.returncode == 0, imported.stderr
    person = json.loads(imported.stdout)["person"]

    result = _run(home, "summary", person, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"sections"}
    for section in data["sections"]:
        assert set(section) == {"key", "title", "code", "items"}
        for item in section["items"]:
            assert set(item) in ({"text", "source"}, {"text", "source", "sources"})
            assert set(item["source"]) == {"resource", "date"}

    since = json.loads(_run(home, "summary", person, "--since", "2024-01-01", "--json").stdout)
    assert set(since) == {"sections", "changes"} and set(since["changes"]) == {"since", "sections"}

    readable = _run(home, "summary", person)
    assert readable.returncode == 0 and "Active problems" in readable.stdout

    bad = _run(home, "summary", person, "--since", "last week", "--json")
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr


def test_api_serves_the_same_summary(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    client = signed_in_client(hs, person)
    answer = client.get(f"/api/v1/persons/{person}/summary")
    assert answer.status_code == 200, answer.text
    assert answer.json() == summarize(hs, ACTOR, person)
    since = client.get(f"/api/v1/persons/{person}/summary", params={"since": "2024-01-01"})
    assert since.json()["changes"]["since"] == "2024-01-01"
    bad = client.get(f"/api/v1/persons/{person}/summary", params={"since": "soon"})
    assert bad.status_code == 422
    stranger = signed_in_client(hs, None, app=client.app)
    assert stranger.get(f"/api/v1/persons/{person}/summary").status_code in (403, 404)
