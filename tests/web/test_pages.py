"""The pages through the app in-process: rendering, escaping, language cookie, import form,
and error pages (HTML on pages, problem JSON on the API). The browser suite is tests/e2e."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from tests.factories import patient_bundle
from tests.signed_in import signed_in_client

Owner = Callable[[str], TestClient]


@pytest.fixture
def app(hs_sqlite: Healthspace) -> FastAPI:
    return create_app(hs_sqlite)


@pytest.fixture
def owner(hs_sqlite: Healthspace, app: FastAPI) -> Iterator[Owner]:
    """A client signed in as the owner of a record (imports land in that record)."""
    with ExitStack() as stack:

        def signed_in(person: str) -> TestClient:
            client = signed_in_client(hs_sqlite, person, app=app, raise_server_exceptions=False)
            return stack.enter_context(client)

        yield signed_in


def upload(client: TestClient, *files: tuple[str, bytes]) -> str:
    parts = [("files", (name, data, "application/json")) for name, data in files]
    return client.post("/import", files=parts).text


def test_import_form_reports_what_went_in_and_what_did_not(owner: Owner) -> None:
    client = owner("page-1")
    good = orjson.dumps(patient_bundle("page-1", glucose_values=(5.4, 6.1)))
    page = upload(client, ("good.json", good), ("bad.json", b"{not json"))
    assert "Files imported: 1" in page and "Files not imported: 1" in page
    assert "bad.json" in page and "invalid JSON" in page
    assert 'href="/persons/page-1"' in page

    person = client.get("/persons/page-1?lang=fr")
    assert person.status_code == 200
    assert "5,4 mmol/L" in person.text and "15/01/2024" in person.text
    assert person.cookies.get("lang") == "fr"
    assert '<html lang="fr">' in client.get("/").text  # the cookie remembers the choice


def test_record_text_is_escaped_never_markup(owner: Owner) -> None:
    client = owner("page-x")
    bundle = patient_bundle("page-x", given="<script>alert(1)</script>")
    upload(client, ("x.json", orjson.dumps(bundle)))
    home = client.get("/").text
    assert "<script>alert(1)</script>" not in home
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home


def test_a_form_sent_without_a_file_says_so(owner: Owner) -> None:
    client = owner("page-0")
    response = client.post("/import", files=[("files", ("", b"", "application/octet-stream"))])
    assert response.status_code == 422
    assert "Choose at least one file" in response.text and 'role="alert"' in response.text


def test_one_resource_page_shows_rows_and_json(owner: Owner) -> None:
    client = owner("page-2")
    upload(client, ("a.json", orjson.dumps(patient_bundle("page-2"))))
    observation = client.get("/api/v1/persons/page-2/resources?type=Observation").json()[0]
    page = client.get(f"/persons/page-2/resources/Observation/{observation['id']}").text
    assert "LOINC 1558-6" in page and "5.4 mmol/L" in page
    assert "&#34;resourceType&#34;: &#34;Observation&#34;" in page


def test_unknown_person_or_resource_is_a_page_on_the_site_and_json_on_the_api(
    owner: Owner,
) -> None:
    # The owner of a record with nothing in it yet: the record is theirs, and is not found.
    empty = owner("nobody")
    page = empty.get("/persons/nobody")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and "nobody" in page.text
    api = empty.get("/api/v1/persons/nobody/resources")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"

    client = owner("page-3")
    upload(client, ("a.json", orjson.dumps(patient_bundle("page-3"))))
    missing = client.get("/persons/page-3/resources/Observation/nope?lang=fr")
    assert missing.status_code == 404 and "Page introuvable" in missing.text
    # Someone else's record is refused the same way whether or not it exists.
    for other in ("/persons/nobody", "/persons/no-such-record"):
        refused = client.get(other)
        assert refused.status_code == 403 and "Traceback" not in refused.text
    assert client.get("/api/v1/nothing-here").json() == {"detail": "Not Found"}


def test_invalid_requests_and_crashes_never_show_a_stack_trace(
    hs_sqlite: Healthspace, app: FastAPI
) -> None:
    def crash() -> None:
        raise RuntimeError("secret internals")

    def needs_number(n: int) -> dict[str, int]:
        return {"n": n}

    app.add_api_route("/crash", crash)
    app.add_api_route("/api/v1/crash", crash)
    app.add_api_route("/needs/{n}", needs_number)
    app.add_api_route("/api/v1/needs/{n}", needs_number)
    with signed_in_client(hs_sqlite, app=app, raise_server_exceptions=False) as client:
        page = client.get("/crash")
        assert page.status_code == 500 and "Something went wrong" in page.text
        assert "secret internals" not in page.text and "Traceback" not in page.text
        api = client.get("/api/v1/crash")
        assert api.status_code == 500 and api.json()["status"] == 500
        assert "secret internals" not in api.text

        invalid = client.get("/needs/x")
        assert invalid.status_code == 422 and "Please check what was sent" in invalid.text
        assert client.get("/api/v1/needs/x").json()["detail"][0]["type"] == "int_parsing"


def test_api_docs_static_files_and_schema_still_work(owner: Owner, app: FastAPI) -> None:
    client = owner("page-4")
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/v1/persons" in schema["paths"] and "/persons/{person_id}" not in schema["paths"]
    css = client.get("/static/healthspace.css")
    assert css.status_code == 200 and "focus-visible" in css.text
    assert client.get("/static/nothing.css").status_code == 404
    # The sign-in page needs its style sheet before anyone has signed in.
    with TestClient(app) as anonymous:
        assert anonymous.get("/static/healthspace.css").status_code == 200
        assert anonymous.get("/login").status_code == 200
