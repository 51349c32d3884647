"""The coding commands as a user runs them, and the same through the HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from healthspace.terminology.snomed import load_release
from tests.server import HEALTHSPACE, cli_env, running_server
from tests.signed_in import server_token
from tests.terminology.rf2_sample import write_release


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One data folder for the module: the first command caches ICD-10-CM, the others reuse it.
    return tmp_path_factory.mktemp("coding") / "home"


def run(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), *args],
        env={**cli_env(home), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def run_json(home: Path, *args: str, stdin: str | None = None) -> Any:
    result = run(home, *args, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # exactly one JSON document


def test_code_command(home: Path) -> None:
    assert run_json(home, "code", "Patient denies chest pain") == []
    assert run_json(home, "code", "Patient denies chest pain", "--all") == [
        {
            "system": "icd10cm",
            "code": "R07.9",
            "display": "Chest pain, unspecified",
            "score": 0.93,
            "evidence": "chest pain",
            "start": 15,
            "end": 25,
            "status": "negated",
            "trigger": "denies",
        }
    ]
    note = "Antécédent d'infarctus. Pas de fièvre mais toux.\n"
    found = run_json(home, "code", "-", "--lang", "fr", stdin=note)
    assert [(s["code"], s["evidence"], s["status"]) for s in found] == [
        ("R05.9", "toux", "current")
    ]
    assert note[found[0]["start"] : found[0]["end"]] == "toux"
    table = run(home, "code", "HTA et DT2")
    assert table.returncode == 0 and "I10" in table.stdout and "E11.9" in table.stdout


def test_code_command_errors(home: Path) -> None:
    result = run(home, "code", "fever", "--lang", "de", "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert "Language 'de' is not supported" in result.stderr
    result = run(home, "code", "fever", "--system", "loinc")
    assert result.returncode == 1 and "not supported" in result.stderr


def test_icd10_commands(home: Path) -> None:
    described = run_json(home, "icd10", "e119")
    assert described["code"] == "E11.9" and described["billable"] is True
    assert [a["code"] for a in described["ancestors"]] == ["E11", "E08-E13", "4"]
    hits = run_json(home, "icd10-search", "type 2 diabetes", "--limit", "5")
    assert len(hits) == 5 and hits[0]["code"] == "E11"
    assert run_json(home, "icd10-search", "hypertension", "--billable")[0]["code"] == "I10"
    unknown = run(home, "icd10", "ZZZ", "--json")
    assert unknown.returncode == 1 and "not an ICD-10-CM code" in unknown.stderr
    assert "I10" in run(home, "icd10-search", "hypertension").stdout


def test_snomed_commands(home: Path, tmp_path: Path) -> None:
    release = write_release(tmp_path / "release")
    missing = run(home, "snomed", "lookup", "44054006", "--json")
    assert missing.returncode == 1 and "healthspace snomed load" in missing.stderr
    report = run_json(home, "snomed", "load", str(release))
    assert (report["concepts"], report["reused"]) == (9, False)
    assert run_json(home, "snomed", "load", str(release))["reused"] is True
    concept = run_json(home, "snomed", "lookup", "44054006")
    assert concept["fsn"] == "Diabetes mellitus type 2 (disorder)"
    assert concept["parents"] == [{"id": "73211009", "term": "Diabetes mellitus"}]
    hits = run_json(home, "snomed", "search", "diabete sucre")
    assert [h["id"] for h in hits] == ["73211009"]
    assert run_json(home, "snomed", "is-a", "44054006", "64572001")["is_a"] is True
    assert run_json(home, "snomed", "is-a", "64572001", "44054006")["is_a"] is False
    unknown = run(home, "snomed", "lookup", "190368000", "--json")
    assert unknown.returncode == 1 and "not an active concept" in unknown.stderr


def test_snomed_release_from_the_environment(tmp_path: Path) -> None:
    release = write_release(tmp_path / "release")
    fresh = tmp_path / "fresh-home"
    result = run(
        fresh,
        "snomed",
        "lookup",
        "195967001",
        "--json",
        env={"HEALTHSPACE_SNOMED_DIR": str(release)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["preferred_term"] == "Asthma"


@pytest.fixture
def api(home: Path) -> Iterator[str]:
    # The module's data folder: the CLI tests above already cached ICD-10-CM there.
    with running_server(home) as base:
        yield f"{base}/api/v1"


@pytest.fixture
def client(home: Path) -> Iterator[httpx.Client]:
    """Signed in (bearer token) as an account of that server."""
    with httpx.Client(headers=server_token(home)) as signed_in:
        yield signed_in


def test_api_coding_routes(api: str, client: httpx.Client) -> None:
    paths = set(client.get(api.replace("/api/v1", "/openapi.json")).json()["paths"])
    assert {"/api/v1/code", "/api/v1/icd10cm/{code}", "/api/v1/icd10cm"} <= paths
    assert {"/api/v1/snomed/{concept_id}", "/api/v1/snomed"} <= paths

    got = client.get(f"{api}/code", params={"text": "pas de fièvre mais toux"}, timeout=60).json()
    assert [(s["code"], s["evidence"], s["start"], s["end"]) for s in got] == [
        ("R05.9", "toux", 19, 23)
    ]
    posted = client.post(
        f"{api}/code", json={"text": "Patient denies chest pain", "all": True, "lang": "en"}
    ).json()
    assert [(s["code"], s["status"]) for s in posted] == [("R07.9", "negated")]
    bad = client.get(f"{api}/code", params={"text": "fever", "system": "loinc"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

    described = client.get(f"{api}/icd10cm/E119", timeout=60).json()
    assert described["description"] == "Type 2 diabetes mellitus without complications"
    unknown = client.get(f"{api}/icd10cm/ZZZ")
    assert unknown.status_code == 404 and "not an ICD-10-CM code" in unknown.json()["detail"]
    hits = client.get(f"{api}/icd10cm", params={"q": "hypertension"}, timeout=60).json()
    assert hits[0]["code"] == "I10"


def test_api_snomed_routes(api: str, client: httpx.Client, home: Path, tmp_path: Path) -> None:
    store = home / "snomed"
    if store.exists():  # loaded by the CLI test above: start from no release
        shutil.rmtree(store)
    missing = client.get(f"{api}/snomed/44054006")
    assert missing.status_code == 409 and "healthspace snomed load" in missing.json()["detail"]
    load_release(write_release(tmp_path / "release"), home)
    concept = client.get(f"{api}/snomed/44054006").json()
    assert concept["preferred_term"] == "Type 2 diabetes mellitus"
    assert client.get(f"{api}/snomed", params={"q": "asthma"}).json()[0]["id"] == "195967001"
    assert client.get(f"{api}/snomed/190368000").status_code == 404
