"""The chat page (``/ask``, ``/persons/{id}/ask``) and the symptom checker (``/triage``) in-process:
the triage banner first with the country's number, numbered sources, record links that open,
the "no source" notice, French, the CSRF field and the engine under each answer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from healthspace.knowledge.medicine_content import content_for
from healthspace.terminology.medicines import load_medicine_catalog
from healthspace.web.authorization import SESSION_COOKIE
from tests.factories import patient_bundle

PERSON = "chat-person"
EMERGENCY = "crushing chest pain and I can't breathe"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, hs: Healthspace, person: str = PERSON) -> None:
    """A session for the owner of ``person``'s record, as the login page would open it."""
    account = hs.accounts.create(
        "test", "chat-owner", "a long test password", "person", None, person
    )
    secret, _ = hs.accounts.open_session(account)
    client.cookies.set(SESSION_COOKIE, secret)


def signed_in_client(hs: Healthspace) -> Iterator[TestClient]:
    bundle = patient_bundle(PERSON, glucose_values=(5.4, 6.1))
    report = hs.importer.import_uploads([("chat.json", orjson.dumps(bundle))], "test")
    assert not report.errors, report.errors
    with TestClient(create_app(hs), raise_server_exceptions=False) as test_client:
        sign_in(test_client, hs)
        yield test_client


@pytest.fixture
def client(hs: Healthspace) -> Iterator[TestClient]:
    """Signed in as the owner of a record with two fasting glucose results, on each database."""
    yield from signed_in_client(hs)


@pytest.fixture
def knowledge_client(hs_sqlite: Healthspace) -> Iterator[TestClient]:
    """The same on SQLite only, for pages that read no record (knowledge and triage)."""
    yield from signed_in_client(hs_sqlite)


def post_form(client: TestClient, path: str, **fields: str) -> str:
    """Fill the form of the page at ``path`` (with its CSRF token) and send it; the answer page."""
    form = client.get(path)
    assert form.status_code == 200, form.text
    token = _CSRF.search(form.text)
    assert token is not None, "the form has no CSRF field"
    response = client.post(path, data={"csrf_token": token.group(1), **fields})
    assert response.status_code == 200, response.text
    return response.text


def main_of(page: str) -> str:
    match = re.search(r"<main.*?</main>", page, re.S)
    assert match is not None
    return match.group(0)


def test_emergency_banner_comes_first_with_the_country_number(client: TestClient) -> None:
    for country, number in (("FR", "15"), ("US", "911"), ("UK", "999")):
        path = f"/persons/{PERSON}/ask"
        page = main_of(post_form(client, path, question=EMERGENCY, country=country))
        banner = page.index('class="triage-banner triage-emergency" role="alert"')
        assert banner < page.index("You asked:") < page.index('class="understood"')
        assert banner < page.index(f'href="tel:{number}"') < page.index("</section>", banner)
        assert "Emergency" in page[banner:] and "Warning signs found" in page
        assert "Severe difficulty breathing" in page  # the red flags found are listed


def test_grounded_answer_numbers_its_sources_as_links(knowledge_client: TestClient) -> None:
    client = knowledge_client
    # An example button sends its question in place of the empty text box.
    page = main_of(post_form(client, "/ask", question="", example="What is HbA1c?"))
    assert "triage-banner" not in page and "hemoglobin A1c" in page
    sources = re.findall(r'<li id="source-(\d+)"><a href="(https://[^"]+)"', page)
    assert [int(n) for n, _ in sources] == list(range(1, len(sources) + 1)) and sources
    assert any("medlineplus.gov" in url for _, url in sources)
    assert 'href="#source-1"' in page  # each sentence points to its numbered source


def test_record_question_links_to_record_items_that_open(client: TestClient) -> None:
    page = main_of(
        post_form(client, f"/persons/{PERSON}/ask", question="How is my fasting glucose trending?")
    )
    links = set(re.findall(rf'href="(/persons/{PERSON}/resources/Observation/[^"]+)"', page))
    assert len(links) == 2, page  # the latest result and the one before
    assert "Your latest fasting glucose result is" in page and "The result before" in page
    for link in links:
        item = client.get(link)
        assert item.status_code == 200 and "LOINC 1558-6" in item.text


def test_answer_without_a_source_says_so_and_points_to_a_professional(
    knowledge_client: TestClient,
) -> None:
    client = knowledge_client
    # A medicine Healthspace knows by name but has no leaflet for: nothing sourced to say.
    unsourced = next(m for m in load_medicine_catalog().medicines if content_for(m.id) is None)
    page = main_of(post_form(client, "/ask", question=f"What is {unsourced.inn.en} used for?"))
    assert 'class="ungrounded"' in page
    assert "No reliable source supports an answer" in page and "a doctor, a pharmacist" in page
    assert 'class="sources"' not in page


def test_french_page_asks_and_answers_in_french(knowledge_client: TestClient) -> None:
    client = knowledge_client
    client.get("/ask?lang=fr")  # the language switch, remembered in a cookie
    page = post_form(client, "/ask", question="douleur thoracique écrasante", country="FR")
    assert '<html lang="fr">' in page
    main = main_of(page)
    assert "Urgence : appelez les secours" in main and 'href="tel:15"' in main
    assert "Appeler le 15" in main and "Votre question" in main
    assert main.index("triage-banner") < main.index("Vous demandez")
    assert "Réponse rédigée par : Rédacteur hors ligne" in main


def test_forms_carry_a_csrf_field_and_a_post_without_it_is_refused(client: TestClient) -> None:
    for path in ("/ask", f"/persons/{PERSON}/ask", "/triage"):
        form = client.get(path).text
        assert _CSRF.search(form), path
        assert re.search(r'<label for="(question|symptoms)">', form)
    refused = client.post("/ask", data={"question": EMERGENCY})
    assert refused.status_code == 403 and "triage-banner" not in refused.text


def test_engine_is_shown_under_the_answer_and_given_by_the_api(
    knowledge_client: TestClient,
) -> None:
    client = knowledge_client
    page = main_of(post_form(client, "/ask", question="What is HbA1c?"))
    assert page.index('class="sources"') < page.index("Answered by: Offline composer")
    token = _CSRF.search(client.get("/ask").text)
    assert token is not None
    api = client.post(
        "/api/v1/ask",
        json={"question": "What is HbA1c?", "lang": "en"},
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["engine"] == "offline"
    assert body["engine_info"] == {"id": "offline", "name": "Offline composer (no language model)"}


def test_an_empty_question_gets_the_form_back_with_a_message(knowledge_client: TestClient) -> None:
    client = knowledge_client
    token = _CSRF.search(client.get("/ask").text)
    assert token is not None
    response = client.post("/ask", data={"csrf_token": token.group(1), "question": "  "})
    assert response.status_code == 422
    assert 'role="alert"' in response.text and "Write a question first" in response.text


def test_triage_page_uses_the_same_banner_and_the_account_country(
    knowledge_client: TestClient, hs_sqlite: Healthspace
) -> None:
    client, hs = knowledge_client, hs_sqlite
    hs.accounts.set_preferences("chat-owner", country="US")
    assert '<option value="US" selected>' in client.get("/triage").text
    page = main_of(post_form(client, "/triage", symptoms=EMERGENCY, country="GB"))
    assert page.index('class="triage-banner triage-emergency" role="alert"') < page.index("<form")
    assert 'href="tel:999"' in page and "Call 999" in page and "Warning signs found" in page
    urgent = main_of(
        post_form(client, "/triage", symptoms="fever of 39.5 for 4 days", country="GB")
    )
    assert 'class="triage-banner triage-urgent" role="alert"' in urgent
    assert 'href="tel:111"' in urgent and "If it gets worse: call 999" in urgent
    calm = main_of(post_form(client, "/triage", symptoms="a mild sore throat since yesterday"))
    assert "triage-banner" in calm and 'role="alert"' not in calm
