"""The entry pages in-process on both databases: a form sent without JavaScript resolves the
name (or offers "did you mean" choices), problems sit next to their fields, saving shows what
was stored with its badge, the timeline tells entries apart, the list edits and deletes, and
the suggest API answers French queries with French names."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape

import orjson
import pytest
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from tests.factories import patient_bundle

PERSON = "entry-1"
PASSWORD = "a long enough passphrase for tests"


def sign_in(client: TestClient, hs: Healthspace, person: str) -> str:
    """Sign in as the owner of ``person``'s record; the session's CSRF token for forms."""
    account = hs.accounts.create("test", "owner", PASSWORD, "person", person=person)
    secret, csrf = hs.accounts.open_session(account)
    client.cookies.set("hs_session", secret)
    return csrf


def _signed_in_client(hs: Healthspace) -> Iterator[TestClient]:
    bundle = patient_bundle(PERSON, glucose_values=(5.0,))
    report = hs.importer.import_uploads([("p.json", orjson.dumps(bundle))], "test")
    assert not report.errors, report.errors
    with TestClient(create_app(hs), raise_server_exceptions=False) as test_client:
        test_client.headers["x-csrf-token"] = sign_in(test_client, hs, PERSON)
        yield test_client


@pytest.fixture
def client(hs: Healthspace) -> Iterator[TestClient]:
    """Signed in as the record's owner, on each database."""
    yield from _signed_in_client(hs)


@pytest.fixture
def sqlite_client(hs_sqlite: Healthspace) -> Iterator[TestClient]:
    """The same on SQLite only, for what does not touch the record (terminology)."""
    yield from _signed_in_client(hs_sqlite)


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _post(client: TestClient, kind: str, **fields: str) -> tuple[int, str]:
    response = client.post(f"/persons/{PERSON}/enter/{kind}", data=fields)
    return response.status_code, response.text


def test_the_chooser_links_every_form_and_the_nav_links_the_chooser(client: TestClient) -> None:
    page = client.get(f"/persons/{PERSON}/enter?lang=fr").text
    for kind in ("lab", "medicine", "allergy", "condition", "vaccine"):
        assert f'href="/persons/{PERSON}/enter/{kind}"' in page
    assert "Saisir des données" in _text(page) and "Un résultat d'analyse" in _text(page)
    form = client.get(f"/persons/{PERSON}/enter/lab").text
    assert 'name="csrf_token"' in form and 'list="suggestions-name"' in form
    assert '<script src="/static/autocomplete.js" defer></script>' in form
    assert 'aria-describedby="field-name-help"' in form
    assert client.get(f"/persons/{PERSON}/enter/nonsense").status_code == 404


def test_a_form_without_javascript_resolves_the_name_and_shows_what_was_stored(
    client: TestClient,
) -> None:
    status, page = _post(
        client, "lab", name="Glycémie à jeun", value="6,1", unit="mmol/L", date="01/03/2026"
    )
    assert status == 200, _text(page)
    text = _text(page)
    assert "Saved in your record" in text and "Entered by you" in text
    assert "Glycémie à jeun" in text and "6.1 mmol/L" in text
    stored = re.search(r'href="(/persons/[^"]+/resources/Observation/[^"]+)"', page)
    assert stored is not None
    assert "Entered by you" in client.get(stored.group(1)).text
    timeline = client.get(f"/persons/{PERSON}").text
    entries = re.findall(r"<li>.*?</li>", timeline, flags=re.S)
    mine = [e for e in entries if "6.1" in e or "6,1" in e]
    assert mine and all('class="badge badge-entered"' in e for e in mine)
    lab_rows = [e for e in entries if "Observation" in e and "badge-entered" not in e]
    assert lab_rows, "the lab's own result is shown without the badge"
    french = client.get(f"/persons/{PERSON}?lang=fr").text
    assert "Saisi par vous" in french


def test_an_unsure_name_offers_choices_and_a_choice_saves_it(client: TestClient) -> None:
    status, page = _post(client, "lab", name="hémo", value="13", unit="g/dL", date="2026-01-05")
    assert status == 422
    assert "Did you mean" in page and 'type="radio"' in page and 'value="718-7"' in page
    status, page = _post(
        client, "lab", name="hémo", code="718-7", value="13", unit="g/dL", date="2026-01-05"
    )
    assert status == 200 and "Hemoglobin" in _text(page)


def test_problems_are_shown_next_to_their_fields(client: TestClient) -> None:
    status, page = _post(client, "lab", name="glycémie", value="abc", unit="kg", date="2099-1-1")
    assert status == 422
    for field, words in (("value", "not a number"), ("unit", "Units accepted"), ("date", "future")):
        error = re.search(rf'<p id="field-{field}-error" class="error">([^<]*)</p>', page)
        assert error is not None and words in error.group(1), field
        described = re.search(rf'<input id="field-{field}"[^>]*aria-describedby="([^"]*)"', page)
        assert described is not None and f"field-{field}-error" in described.group(1)
    assert 'value="abc"' in page  # what was typed stays in the form
    assert "mg/dL" in page  # the unit list of the named test, without JavaScript
    entered = client.get(f"/persons/{PERSON}/entered").text
    assert "You have not entered anything yet" in entered


def test_entries_are_listed_edited_and_deleted(client: TestClient, hs: Healthspace) -> None:
    _post(client, "medicine", name="Doliprane", dosage="1 comprimé le soir")
    _post(client, "vaccine", name="grippe", date="2025-10-15")
    page = client.get(f"/persons/{PERSON}/entered").text
    assert page.count('class="badge badge-entered"') == 2
    ref = re.search(r"\?edit=(MedicationStatement(?:/|%2F)[^\"]+)\"", page)
    assert ref is not None
    form = client.get(f"/persons/{PERSON}/enter/medicine?edit={ref.group(1)}").text
    assert 'value="1 comprimé le soir"' in form and 'name="replaces"' in form
    plain_ref = ref.group(1).replace("%2F", "/")
    status, saved = _post(
        client, "medicine", name="Doliprane", dosage="2 comprimés", replaces=plain_ref
    )
    assert status == 200 and "Changed in your record" in saved
    deleted = client.post(f"/persons/{PERSON}/entered/delete", data={"ref": plain_ref})
    assert deleted.status_code == 200 and "Deleted" in deleted.text
    assert client.get(f"/persons/{PERSON}/entered").text.count('class="badge badge-entered"') == 1


def test_a_lab_result_is_corrected_not_changed(client: TestClient, hs: Healthspace) -> None:
    (original,) = hs.vault.resources("test", PERSON, "Observation")  # the lab's own result
    ref = f"Observation/{original['id']}"
    form = client.get(f"/persons/{PERSON}/enter/lab?edit={ref}").text
    assert 'name="corrects"' in form and "You said" in form  # never an edit of the lab's item
    refused = client.post(f"/persons/{PERSON}/entered/delete", data={"ref": ref})
    assert refused.status_code == 409
    status, page = _post(
        client, "lab", name="glycémie à jeun", value="5.2", unit="mmol/L", date="2024-01-15",
        corrects=ref,
    )  # fmt: skip
    assert status == 200 and "You said" in page and ref in page
    assert hs.vault.resource("test", PERSON, "Observation", original["id"]) == original


def test_suggest_answers_french_queries_with_french_names(sqlite_client: TestClient) -> None:
    client = sqlite_client

    def suggest(**params: str) -> list[dict[str, object]]:
        response = client.get("/api/v1/terminology/suggest", params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, object]] = response.json()
        return found

    glucose = suggest(kind="lab", q="glycémie", lang="fr")
    assert glucose[0]["display"] == "Glucose" and glucose[0]["matched"] == "Glycémie"
    assert "mmol/L" in glucose[0]["units"]  # type: ignore[operator]
    assert any(s["display"] == "Glycémie à jeun" for s in glucose)
    paracetamol = suggest(kind="medicine", q="paracétamol", lang="fr", limit="3")
    assert paracetamol[0] == {
        "code": "161",
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
        "display": "paracétamol",
    }
    assert len(paracetamol) == 3
    assert suggest(kind="medicine", q="PARACETAMOL", lang="en")[0]["display"] == "paracetamol"
    assert suggest(kind="vaccine", q="grippe", lang="fr")[0]["code"] == "88"
    assert suggest(kind="allergen", q="arachide", lang="fr")[0]["display"] == "arachide"
    assert suggest(kind="lab", q="", lang="fr") == []
    assert client.get("/api/v1/terminology/suggest?kind=bogus&q=a").status_code == 422

    # The in-process client costs tens of milliseconds a request by itself (threads): time
    # /healthz the same way to show what the suggestion adds.
    def p50(path: str, queries: list[str]) -> float:
        timings = []
        for query in queries:
            started = time.perf_counter()
            client.get(path, params={"kind": "lab", "q": query, "lang": "fr"})
            timings.append(time.perf_counter() - started)
        return sorted(timings)[len(timings) // 2]

    queries = ["h", "hé", "hém", "hémo", "gly", "glycé", "chol", "créat", "ferr", "tsh"] * 5
    suggested, baseline = p50("/api/v1/terminology/suggest", queries), p50("/healthz", queries)
    print(
        f"\nsuggest over HTTP (TestClient): {len(queries)} queries, p50 {suggested * 1000:.1f} ms;"
        f" /healthz p50 {baseline * 1000:.1f} ms"
    )
    assert suggested < baseline + 0.05
