"""The medicine commands as a user runs them (exactly one JSON document with --json, exact
keys), and the same answers through the HTTP API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from healthspace.bootstrap import build
from healthspace.demo.loader import load_demo
from healthspace.patient.medication_service import interactions_for_person
from tests.conftest import make_settings
from tests.server import HEALTHSPACE, cli_env
from tests.signed_in import signed_in_client

MED_KEYS = {"name", "medicine", "atc", "status", "current", "dosage", "for", "since", "until"}
MED_KEYS |= {"resource"}
EXPLANATION_KEYS = {
    "medicine",
    "sections",
    "interactions",
    "allergy_conflicts",
    "citations",
    "record_refs",
}
MEMORY_KEYS = {"resource", "kind", "subject", "summary", "status", "date", "said"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the demo person, readable by the CLI (same test master key)."""
    folder = tmp_path_factory.mktemp("meds") / "home"
    hs = build(make_settings(folder))
    load_demo(hs)
    hs.close()
    return folder


@pytest.fixture(scope="module")
def person(home: Path) -> str:
    return str(run_json(home, "persons")[0]["id"])


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=120
    )


def run_json(home: Path, *args: str) -> Any:
    result = run(home, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # exactly one JSON document


def test_meds_command(home: Path, person: str) -> None:
    rows = run_json(home, "meds", person)
    assert rows and all(set(r) == MED_KEYS for r in rows)
    assert {r["medicine"] for r in rows if r["current"]} == {
        "metformin",
        "atorvastatin",
        "amlodipine",
    }
    assert {"text", "from_record", "note", "record_refs", "sources"} == set(rows[0]["for"])
    text = run(home, "meds", person, "--lang", "fr").stdout
    assert "Médicaments en cours" in text and "Ramipril" in text and "Pénicillines" in text


def test_explain_med_command(home: Path, person: str) -> None:
    answer = run_json(home, "explain", "med", "amoxicillin", "--person", person)
    assert set(answer) == EXPLANATION_KEYS
    assert all(set(s) == {"title", "text", "sources"} for s in answer["sections"])
    assert all(set(c) == {"title", "publisher", "url"} for c in answer["citations"])
    assert answer["allergy_conflicts"][0]["level"] == "avoid"
    plain = run_json(home, "explain", "med", "Doliprane", "--lang", "fr")
    assert plain["medicine"] == "paracétamol" and plain["record_refs"] == []
    text = run(home, "explain", "med", "amoxicilline", "--person", person, "--lang", "fr").stdout
    assert "Vos allergies" in text and "Pénicillines" in text
    unknown = run(home, "explain", "med", "zzzyx", "--json")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "not a medicine we recognise" in unknown.stderr


def test_interactions_with_a_person(home: Path, person: str) -> None:
    report = run_json(home, "interactions", "--person", person, "ibuprofen")
    assert set(report) == {"drugs", "unknown", "interactions"}
    assert [set(d) for d in report["drugs"]] == [{"input", "name", "atc"}] * 4
    assert report["drugs"][-1] == {"input": "ibuprofen", "name": "ibuprofen", "atc": "M01AE01"}
    missing = run(home, "interactions")
    assert missing.returncode == 2 and "--person" in missing.stderr


def test_memory_commands(home: Path, person: str) -> None:
    first = run_json(home, "remember", person, "I am allergic to latex")
    assert set(first) == MEMORY_KEYS | {"stored", "message"} and first["stored"] is True
    assert run_json(home, "remember", person, "I'm allergic to latex")["stored"] is False
    listed = run_json(home, "memories", person)
    assert [set(m) for m in listed] == [MEMORY_KEYS] and listed[0]["kind"] == "allergy"
    assert "allergie à latex" in run(home, "memories", person, "--lang", "fr").stdout
    assert run_json(home, "forget", person, first["resource"]) == {"forgotten": first["resource"]}
    assert run_json(home, "memories", person) == []
    refused = run(home, "remember", person, "I take the bus", "--json")
    assert refused.returncode == 1 and "nothing was saved" in refused.stderr


def test_api_mirrors_the_cli(tmp_path: Path) -> None:
    hs = build(make_settings(tmp_path / "home"))
    try:
        person = load_demo(hs)
        client = signed_in_client(hs, person)
        base = "/api/v1"
        rows = client.get(f"{base}/persons/{person}/medications", params={"lang": "fr"}).json()
        assert rows and all(set(r) == MED_KEYS for r in rows)
        answer = client.get(
            f"{base}/medicines/amoxicillin/explanation", params={"person": person}
        ).json()
        assert set(answer) == EXPLANATION_KEYS and answer["allergy_conflicts"]
        assert client.get(f"{base}/medicines/zzzyx/explanation").status_code == 404
        checked = client.get(
            f"{base}/persons/{person}/interactions", params={"drug": "ibuprofen"}
        ).json()
        assert checked == interactions_for_person(hs, "x", person, ["ibuprofen"]).as_json()
        posted = client.post(
            f"{base}/persons/{person}/memories",
            json={"text": "je suis allergique à la pénicilline", "lang": "fr"},
        )
        assert posted.status_code == 200 and posted.json()["stored"] is True
        ref = posted.json()["resource"]
        assert [m["resource"] for m in client.get(f"{base}/persons/{person}/memories").json()] == [
            ref
        ]
        bad = client.post(f"{base}/persons/{person}/memories", json={"text": "hello"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert client.delete(f"{base}/persons/{person}/memories/{ref}").json() == {"forgotten": ref}
        assert client.get(f"{base}/persons/{person}/memories").json() == []
        paths = set(client.get("/openapi.json").json()["paths"])
        assert {
            "/api/v1/persons/{person}/medications",
            "/api/v1/medicines/{name}/explanation",
            "/api/v1/persons/{person}/interactions",
            "/api/v1/persons/{person}/memories",
            "/api/v1/persons/{person}/memories/{resource_type}/{fhir_id}",
        } <= paths
    finally:
        hs.close()
