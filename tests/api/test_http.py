"""The HTTP API over real HTTP against the running app, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import orjson
import pytest

from tests.factories import patient_bundle
from tests.server import running_server


@pytest.fixture
def base_url(tmp_path: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    with running_server(tmp_path / "home", database_url=database_url) as base:
        yield base


def test_health_and_openapi(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz").json()["status"] == "ok"
    schema = httpx.get(f"{base_url}/openapi.json").json()
    paths = set(schema["paths"])
    for path in (
        "/api/v1/persons",
        "/api/v1/persons/{person}/resources",
        "/api/v1/persons/{person}/export",
        "/api/v1/import",
        "/api/v1/persons/{person}/audit",
        "/api/v1/audit/verify",
    ):
        assert path in paths


def test_import_read_export_erase_cycle(base_url: str) -> None:
    bundle = patient_bundle("http-1", glucose_values=(5.1, 7.9))
    files = [
        ("files", ("one.json", orjson.dumps(bundle), "application/fhir+json")),
        (
            "files",
            (
                "bad.json",
                b'{"resourceType": "Bundle", "type": "collection", "entry": [',
                "application/json",
            ),
        ),
    ]
    report = httpx.post(f"{base_url}/api/v1/import", files=files).json()
    assert report["person"] == "http-1"
    assert report["imported"] == {"Observation": 2, "Patient": 1}
    assert (
        report["errors"][0]["path"] == "bad.json"
        and "invalid JSON" in report["errors"][0]["reason"]
    )

    persons = httpx.get(f"{base_url}/api/v1/persons").json()
    assert persons == [
        {"id": "http-1", "name": "Alex Testperson", "birth_date": "1970-01-01", "resources": 3}
    ]
    observations = httpx.get(
        f"{base_url}/api/v1/persons/http-1/resources", params={"type": "Observation"}
    ).json()
    assert sorted(o["valueQuantity"]["value"] for o in observations) == [5.1, 7.9]
    one = observations[0]
    single = httpx.get(f"{base_url}/api/v1/persons/http-1/resources/Observation/{one['id']}")
    assert single.json() == one

    exported = httpx.get(f"{base_url}/api/v1/persons/http-1/export").json()
    assert exported["resourceType"] == "Bundle" and len(exported["entry"]) == 3
    again = httpx.post(
        f"{base_url}/api/v1/import",
        files=[
            ("files", ("export.json.gz", gzip.compress(orjson.dumps(exported)), "application/gzip"))
        ],
    ).json()
    assert again["imported"] == {} and again["unchanged"] == 3

    audit = httpx.get(f"{base_url}/api/v1/persons/http-1/audit").json()
    assert {"create", "read", "export"} <= {e["action"] for e in audit}
    assert all(e["actor"].startswith("api:127.0.0.1") for e in audit)

    assert httpx.delete(f"{base_url}/api/v1/persons/http-1").json() == {
        "erased": "http-1",
        "resources": 3,
    }
    gone = httpx.get(f"{base_url}/api/v1/persons/http-1/resources")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert "No person" in gone.json()["detail"]
    assert httpx.get(f"{base_url}/api/v1/audit/verify").json()["valid"] is True


def test_unknown_resource_is_a_clear_404(base_url: str) -> None:
    httpx.post(
        f"{base_url}/api/v1/import",
        files=[("files", ("one.json", orjson.dumps(patient_bundle("http-2")), "application/json"))],
    )
    response = httpx.get(f"{base_url}/api/v1/persons/http-2/resources/Observation/nope")
    assert response.status_code == 404
    assert "not in this person's record" in response.json()["detail"]
