"""The clinician's workspace tools through the app in-process: drafts from the page to the
signature and its amended version, the medication review and its alternatives, coding with
evidence marked, the literature search offline, and the grant every route asks for."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace, build
from healthspace.clinician.medication_review import medication_review
from healthspace.demo.loader import load_demo
from healthspace.web.workspace_tools import highlight
from tests.conftest import make_settings
from tests.factories import patient_bundle
from tests.signed_in import bearer, new_account

# A closed local port: PubMed "unreachable" without waiting on a real network.
OFFLINE_PUBMED = "http://127.0.0.1:9/"
SOURCE_LINK = re.compile(r'href="(/persons/[^"/]+/resources/[^"/]+/[^"/]+)"')
CONFIRM_BOX = re.compile(r'name="confirm" value="(s\d+)"')


@dataclass
class Workspace:
    hs: Healthspace
    person: str
    clinician: str
    client: TestClient


def _workspace(hs: Healthspace) -> Workspace:
    person = load_demo(hs)
    name, token = new_account(hs, "clinician")
    hs.grants.grant("test", person, name, "clinician")
    client = TestClient(create_app(hs), headers=bearer(token), raise_server_exceptions=False)
    return Workspace(hs, person, name, client)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One demo record for the read-only pages (SQLite): the coder caches ICD-10-CM once."""
    home = tmp_path_factory.mktemp("workspace-tools") / "home"
    hs = build(make_settings(home, pubmed_base_url=OFFLINE_PUBMED))
    yield _workspace(hs)
    hs.close()


def _soap(ws: Workspace, text: str) -> str:
    """Compose a SOAP draft through the page's form; the draft page's path."""
    sent = ws.client.post(
        f"/workspace/persons/{ws.person}/drafts",
        data={"kind": "soap", "text": text, "lang": "en", "encounter": ""},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    return sent.headers["location"].split("?")[0]


def test_soap_draft_from_the_page_to_signature_and_amendment(hs: Healthspace) -> None:
    ws = _workspace(hs)
    draft_path = _soap(ws, "Reports fatigue for two weeks.")
    page = ws.client.get(draft_path).text
    assert "Reports fatigue" in page and "Your own text." in page
    links = sorted(set(SOURCE_LINK.findall(page)))
    assert links, "every record statement links to its source"
    for link in links[:4]:
        assert ws.client.get(link).status_code == 200
    to_check = CONFIRM_BOX.findall(page)
    assert to_check, "the demo's latest visit has no plan: that line needs a check"
    assert all(f'id="statement-{s}" class="statement needs-check"' in page for s in to_check)

    refused = ws.client.post(f"{draft_path}/sign", data={})
    assert refused.status_code == 409
    assert 'id="sign-error"' in refused.text and "Not signed" in refused.text
    assert f'href="#statement-{to_check[0]}"' in refused.text

    signed = ws.client.post(f"{draft_path}/sign", data={"confirm": to_check})
    assert signed.status_code == 200 and "Document signed." in signed.text  # after the 303
    assert 'id="draft-status" class="draft-status draft-status-final">Final' in signed.text
    assert f"account:{ws.clinician}" in signed.text.split('id="draft-signer"')[1][:200]
    assert not CONFIRM_BOX.findall(signed.text)

    edited = ws.client.post(f"{draft_path}/sections/plan", data={"text": "Review in a month."})
    assert edited.status_code == 200 and "Section saved" in edited.text
    assert "draft-status-amended" in edited.text
    history = edited.text.split('id="history-heading"')[1]
    assert [s.strip() for s in re.findall(r"<td>(Preliminary|Final|Amended)</td>", history)] == [
        "Preliminary",
        "Final",
        "Amended",
    ]
    listed = ws.client.get(f"/workspace/persons/{ws.person}/drafts").text
    assert draft_path in listed and "Amended" in listed


def test_a_service_refusal_shows_next_to_the_form_it_came_from(shared: Workspace) -> None:
    report = shared.hs.importer.import_uploads(
        [("p.json", orjson.dumps(patient_bundle("tools-no-visit")))], "test"
    )
    person = report.persons[0]
    shared.hs.grants.grant("test", person, shared.clinician, "clinician")
    answer = shared.client.post(
        f"/workspace/persons/{person}/drafts", data={"kind": "soap", "text": "Feels well."}
    )
    assert 400 <= answer.status_code < 500 and "<h1>Drafts</h1>" in answer.text
    error = re.search(
        r'<p id="draft-soap-error" class="error" role="alert">([^<]+)</p>', answer.text
    )
    assert error and "encounter" in html.unescape(error.group(1)).lower()
    assert "Feels well." in answer.text  # the text typed is kept
    missing = shared.client.post(
        f"/workspace/persons/{shared.person}/drafts", data={"kind": "referral", "to": "Dr X"}
    )
    assert missing.status_code == 422 and 'id="draft-referral-error"' in missing.text
    assert 'value="Dr X"' in missing.text


def test_medication_review_lists_the_metformin_egfr_finding(shared: Workspace) -> None:
    review = medication_review(shared.hs, "test", shared.person).as_json()
    finding = next(f for f in review["findings"] if f["rule"] == "metformin_egfr_below_60")
    egfr = review["context"]["egfr"]["resource"]
    page = shared.client.get(f"/workspace/persons/{shared.person}/medication-review").text
    assert "Options for the clinician&#39;s judgement." in page
    assert html.escape(finding["title"]) in page
    kind, _, fhir_id = egfr.partition("/")
    assert f'href="/persons/{shared.person}/resources/{kind}/{fhir_id}"' in page
    assert finding["sources"][0]["url"] in page
    link = re.search(r'href="(/workspace/persons/[^"]+/alternatives\?drug=metformin[^"]*)"', page)
    assert link is not None
    options = shared.client.get(html.unescape(link.group(1)))
    assert options.status_code == 200 and "Options to replace" in options.text
    assert "Options for the clinician&#39;s judgement" in options.text
    unknown = shared.client.get(
        f"/workspace/persons/{shared.person}/alternatives", params={"drug": "notamedicine"}
    )
    assert 400 <= unknown.status_code < 500 and 'id="alt-error"' in unknown.text


def test_coding_page_marks_the_evidence_of_each_code(shared: Workspace) -> None:
    page = shared.client.get(f"/workspace/persons/{shared.person}/coding").text
    assert re.search(r"<h3 [^>]*class=\"coded-text\">[^<]*<mark>[^<]+</mark>", page)
    note = "Type 2 diabetes mellitus, stable. No chest pain."
    coded = shared.client.post(f"/workspace/persons/{shared.person}/coding", data={"note": note})
    assert coded.status_code == 200
    marked = coded.text.split('class="coded-text">')[1].split("</blockquote>")[0]
    assert "<mark>" in marked and "chest pain</mark>" not in marked.lower()  # negated
    assert "<code>E11" in coded.text
    empty = shared.client.post(f"/workspace/persons/{shared.person}/coding", data={"note": " "})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text


def test_literature_offline_is_a_notice_on_the_page(shared: Workspace) -> None:
    page = shared.client.get("/workspace/literature", params={"q": "metformin"})
    assert page.status_code == 200
    assert 'id="literature-offline" class="notice"' in page.text
    assert "needs a network connection" in page.text
    french = shared.client.get(
        "/workspace/literature", params={"q": "metformin"}, headers={"Accept-Language": "fr-FR"}
    )
    assert "besoin d&#39;une connexion réseau" in french.text


def test_a_clinician_without_a_grant_is_refused_on_every_route(shared: Workspace) -> None:
    _, token = new_account(shared.hs, "clinician")
    stranger = TestClient(create_app(shared.hs), headers=bearer(token))
    base = f"/workspace/persons/{shared.person}"
    draft = shared.client.post(
        f"{base}/drafts", data={"kind": "after_visit"}, follow_redirects=False
    ).headers["location"]
    draft_path = draft.split("?")[0]
    gets = [
        f"{base}/drafts",
        draft_path,
        f"{base}/medication-review",
        f"{base}/alternatives?drug=metformin",
        f"{base}/coding",
    ]
    posts = [
        (f"{base}/drafts", {"kind": "soap"}),
        (f"{draft_path}/sections/plan", {"text": "x"}),
        (f"{draft_path}/sign", {}),
        (f"{base}/coding", {"note": "diabetes"}),
    ]
    for path in gets:
        assert stranger.get(path).status_code == 403, path
    for path, data in posts:
        assert stranger.post(path, data=data).status_code == 403, path
    _, owner_token = new_account(shared.hs, "person", shared.person)
    owner = TestClient(create_app(shared.hs), headers=bearer(owner_token))
    for path in (f"{base}/drafts", "/workspace/literature?q=x"):
        assert owner.get(path).status_code == 403  # the workspace is for clinicians


def test_every_page_links_its_tools_in_the_patient_navigation(shared: Workspace) -> None:
    summary = shared.client.get(f"/workspace/persons/{shared.person}").text
    for path in ("drafts", "medication-review", "coding"):
        assert f'href="/workspace/persons/{shared.person}/{path}"' in summary
    assert 'href="/workspace/literature"' in summary
    drafts = shared.client.get(f"/workspace/persons/{shared.person}/drafts").text
    assert 'aria-current="page">Drafts' in drafts
    main = drafts.split("<main")[1].split("</main>")[0]
    assert main.count('name="csrf_token"') == main.count('method="post"') == 5


@given(
    st.text(alphabet="ab<&> ", max_size=30),
    st.lists(st.tuples(st.integers(-3, 35), st.integers(-3, 35)), max_size=5),
)
def test_highlight_keeps_the_text_and_escapes_it(text: str, spans: list[tuple[int, int]]) -> None:
    marked = str(highlight(text, spans))
    assert "<mark></mark>" not in marked and "<mark><mark>" not in marked
    assert html.unescape(marked.replace("<mark>", "").replace("</mark>", "")) == text
    assert "<" not in marked.replace("<mark>", "").replace("</mark>", "")


def test_highlight_marks_overlapping_spans_once() -> None:
    assert str(highlight("chest pain today", [(0, 10), (6, 10)])) == "<mark>chest pain</mark> today"
