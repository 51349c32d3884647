"""The HTTP API over real HTTP against the running app, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
import pytest

from healthspace.clinician.summary_refresher import REFRESH_ACTOR
from tests.factories import patient_bundle
from tests.server import running_server
from tests.signed_in import server_token


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def base_url(home: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    with running_server(home, database_url=database_url) as base:
        yield base


@pytest.fixture
def owner_of(home: Path, database_url: str | None) -> Iterator[Callable[[str], httpx.Client]]:
    """HTTP clients signed in (bearer token) as the owner of a record."""
    with ExitStack() as stack:

        def signed_in(person: str) -> httpx.Client:
            headers = server_token(home, person=person, database_url=database_url)
            return stack.enter_context(httpx.Client(headers=headers))

        yield signed_in


def test_health_and_openapi(base_url: str) -> None:
    # Open without an account: the liveness check and the API's schema.
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


def test_import_read_export_erase_cycle(
    base_url: str, owner_of: Callable[[str], httpx.Client]
) -> None:
    unsigned = httpx.get(f"{base_url}/api/v1/persons")
    assert unsigned.status_code == 401 and unsigned.headers["www-authenticate"] == "Bearer"
    client = owner_of("http-1")
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
    report = client.post(f"{base_url}/api/v1/import", files=files).json()
    assert report["person"] == "http-1"
    assert report["imported"] == {"Observation": 2, "Patient": 1}
    assert (
        report["errors"][0]["path"] == "bad.json"
        and "invalid JSON" in report["errors"][0]["reason"]
    )

    persons = client.get(f"{base_url}/api/v1/persons").json()
    assert persons == [
        {"id": "http-1", "name": "Alex Testperson", "birth_date": "1970-01-01", "resources": 3}
    ]
    observations = client.get(
        f"{base_url}/api/v1/persons/http-1/resources", params={"type": "Observation"}
    ).json()
    assert sorted(o["valueQuantity"]["value"] for o in observations) == [5.1, 7.9]
    one = observations[0]
    single = client.get(f"{base_url}/api/v1/persons/http-1/resources/Observation/{one['id']}")
    assert single.json() == one

    exported = client.get(f"{base_url}/api/v1/persons/http-1/export").json()
    assert exported["resourceType"] == "Bundle" and len(exported["entry"]) == 3
    again = client.post(
        f"{base_url}/api/v1/import",
        files=[
            ("files", ("export.json.gz", gzip.compress(orjson.dumps(exported)), "application/gzip"))
        ],
    ).json()
    assert again["imported"] == {} and again["unchanged"] == 3

    audit = client.get(f"{base_url}/api/v1/persons/http-1/audit").json()
    assert {"create", "read", "export"} <= {e["action"] for e in audit}
    # Every entry names the account that acted (the CLI-made owner, one actor throughout), or
    # the app's own background summary rebuild after the import, which reads under its name.
    actors = {e["actor"] for e in audit} - {REFRESH_ACTOR}
    assert len(actors) == 1 and actors.pop().startswith("account:person-"), audit

    assert client.delete(f"{base_url}/api/v1/persons/http-1").json() == {
        "erased": "http-1",
        "resources": 3,
    }
    gone = client.get(f"{base_url}/api/v1/persons/http-1/resources")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert "No person" in gone.json()["detail"]
    assert client.get(f"{base_url}/api/v1/audit/verify").json()["valid"] is True


def test_unknown_resource_is_a_clear_404(
    base_url: str, owner_of: Callable[[str], httpx.Client]
) -> None:
    client = owner_of("http-2")
    client.post(
        f"{base_url}/api/v1/import",
        files=[("files", ("one.json", orjson.dumps(patient_bundle("http-2")), "application/json"))],
    )
    response = client.get(f"{base_url}/api/v1/persons/http-2/resources/Observation/nope")
    assert response.status_code == 404
    assert "not in this person's record" in response.json()["detail"]
