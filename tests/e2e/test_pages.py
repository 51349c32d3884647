"""My health in a real browser: the demo record, its timeline, one lab result, French,
imports through the form, errors, a 360 px phone and the keyboard.

Screenshots of the main pages are written to docs/screenshots/ on every run (the README shows
them), so they always picture the pages as they are. Every tab is signed in (conftest): the demo
person on the demo app, the record's owner on the import app.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson

from tests.factories import patient_bundle

if TYPE_CHECKING:
    from playwright.sync_api import Page

DEMO_NAME = "Camille Demo-Durand"
LAB = "Glycémie à jeun"

# Every form control named by a <label for>, a wrapping <label>, aria-label or
# aria-labelledby; answers the controls that have none.
UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML)"""


def check_page_basics(page: Page, lang: str = "en") -> None:
    """What every page owes its reader: a title, the language it speaks, labelled controls,
    one main landmark, the disclaimer, and no stack trace."""
    assert page.title().strip(), f"{page.url} has no <title>"
    assert page.locator("html").get_attribute("lang") == lang
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.locator("main").count() == 1
    disclaimer = {"en": "does not replace a clinician", "fr": "ne remplace pas"}[lang]
    assert disclaimer in page.locator("footer").inner_text()
    assert "Traceback" not in page.content()


def open_demo_person(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    page.get_by_role("link", name=DEMO_NAME).click()
    page.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()


def open_lab_result(page: Page) -> None:
    """From the person's page, the first fasting glucose result (not the report of it)."""
    page.get_by_role("link", name=re.compile(r"^Result or measurement")).click()
    page.locator(".timeline li", has_text=LAB).first.get_by_role("link", name=LAB).click()
    page.get_by_role("heading", level=1, name=LAB).wait_for()


def demo_person_path(page: Page, demo_url: str) -> str:
    """The demo person's record path, read from the home page's link."""
    page.goto(demo_url)
    href = page.get_by_role("link", name=DEMO_NAME).first.get_attribute("href")
    assert href and href.startswith("/persons/"), href
    return href


def test_home_lists_the_demo_person(demo_page: Page, demo_url: str, screenshots: Path) -> None:
    page = demo_page
    response = page.goto(demo_url)
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "My health"
    row = page.get_by_role("row", name=re.compile(DEMO_NAME))
    assert "23 May 1962" in row.inner_text()
    assert page.get_by_label("FHIR files").count() == 1
    check_page_basics(page)
    page.screenshot(path=screenshots / "home.png", full_page=True)


def test_person_timeline_and_one_lab_result(
    demo_page: Page, demo_url: str, screenshots: Path
) -> None:
    page = demo_page
    open_demo_person(page, demo_url)
    check_page_basics(page)
    years = page.locator(".year h3").all_inner_texts()
    assert years[:2] == ["2026", "2025"] and years == sorted(years, reverse=True)
    counts = page.locator(".type-counts").inner_text()
    assert "Result or measurement" in counts and "Vaccination" in counts
    first_dates = page.locator(".timeline time").evaluate_all(
        "els => els.slice(0, 20).map(e => e.getAttribute('datetime'))"
    )
    assert first_dates == sorted(first_dates, reverse=True)
    page.screenshot(path=screenshots / "person.png")

    open_lab_result(page)
    check_page_basics(page)
    summary = page.locator(".summary-list").inner_text()
    assert "mg/dL" in summary and "Result or measurement" in summary
    assert "LOINC 1558-6" in page.locator("table.rows").inner_text()
    page.screenshot(path=screenshots / "resource.png")
    page.get_by_text("Show the FHIR JSON").click()
    assert '"resourceType": "Observation"' in page.locator("pre.json").inner_text()


def test_french_labels_dates_and_numbers(demo_page: Page, demo_url: str, screenshots: Path) -> None:
    page = demo_page
    page.goto(demo_url)
    page.get_by_role("link", name="Français").click()
    page.get_by_role("heading", level=1, name="Ma santé").wait_for()
    check_page_basics(page, "fr")
    assert "23/05/1962" in page.get_by_role("row", name=re.compile(DEMO_NAME)).inner_text()
    page.screenshot(path=screenshots / "home-fr.png", full_page=True)

    # The choice is remembered: the next page, opened without ?lang, is French too.
    page.get_by_role("link", name=DEMO_NAME).click()
    page.get_by_role("heading", level=2, name="Contenu du dossier").wait_for()
    check_page_basics(page, "fr")
    assert "Résultat ou mesure" in page.locator(".type-counts").inner_text()
    first_date = page.locator(".timeline time").first.inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", first_date), first_date
    values = page.locator(".timeline .value").all_inner_texts()
    assert any(re.search(r"\d,\d", v) for v in values), "no decimal comma in French"


def test_import_a_bundle_through_the_form(
    import_page: Page, empty_url: str, tmp_path: Path
) -> None:
    page = import_page
    bundle = tmp_path / "alex.json"
    bundle.write_bytes(orjson.dumps(patient_bundle("web-1", glucose_values=(5.4, 6.1))))
    page.goto(empty_url)
    assert "No record yet" in page.locator("main").inner_text()
    page.get_by_label("FHIR files").set_input_files(bundle)
    # What the progress line says while the upload runs (static/upload.js).
    page.evaluate(
        """() => { window.seen = [];
        new MutationObserver(() => {
          const status = document.getElementById('upload-status');
          if (status && status.textContent) { window.seen.push(status.textContent); }
        }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    page.get_by_role("button", name="Import").click()

    report = page.locator("#report")
    report.wait_for()
    check_page_basics(page)
    assert "Files imported: 1" in report.inner_text()
    seen = page.evaluate("window.seen")
    assert any(text.startswith("Sending your files") for text in seen), seen
    added = page.get_by_role("table", name="Added or updated").inner_text()
    assert re.search(r"Identity\s+1", added) and re.search(r"Result or measurement\s+2", added)
    page.get_by_role("link", name="Open the record of Alex Testperson").click()
    page.get_by_role("heading", level=1, name="Alex Testperson").wait_for()
    assert "5.4 mmol/L" in page.locator(".timeline").inner_text()


def test_a_broken_file_is_named_with_the_reason(
    import_page: Page, empty_url: str, tmp_path: Path
) -> None:
    page = import_page
    broken = tmp_path / "broken-export.json"
    broken.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [')
    page.goto(empty_url)
    page.get_by_label("FHIR files").set_input_files(broken)
    page.get_by_role("button", name="Import").click()

    page.locator("#report").wait_for()
    check_page_basics(page)
    assert "Files not imported: 1" in page.locator("#report").inner_text()
    problems = page.get_by_role("table", name=re.compile("these files were not imported"))
    row = problems.get_by_role("row", name=re.compile("broken-export.json"))
    assert "invalid JSON" in row.inner_text()


def test_narrow_phone_never_scrolls_sideways(
    demo_phone: Page, demo_url: str, screenshots: Path
) -> None:
    phone = demo_phone

    def scroll_width() -> int:
        return int(phone.evaluate("document.documentElement.scrollWidth"))

    phone.goto(demo_url)
    assert scroll_width() <= 360
    phone.screenshot(path=screenshots / "mobile-home.png", full_page=True)
    open_demo_person(phone, demo_url)
    assert scroll_width() <= 360
    open_lab_result(phone)
    phone.get_by_text("Show the FHIR JSON").click()
    assert scroll_width() <= 360


def test_keyboard_reaches_skip_link_first_then_main_links(demo_page: Page, demo_url: str) -> None:
    page = demo_page
    page.goto(demo_url)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.hash]")
    assert focused == ["skip-link", "#main"]
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Past the skip link and the header, the first stop is the record in the main content.
    assert page.evaluate("document.activeElement.textContent") == DEMO_NAME
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()


def test_errors_are_pages_on_the_site_and_json_on_the_api(
    demo_page: Page, demo_url: str, demo_api: dict[str, str]
) -> None:
    page = demo_page
    person = demo_person_path(page, demo_url)
    response = page.goto(f"{demo_url}{person}/resources/Observation/nobody-here")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert "nobody-here" in page.locator("main").inner_text()
    check_page_basics(page)

    # A record that is not the reader's is refused, whether or not it exists.
    response = page.goto(f"{demo_url}/persons/nobody-here")
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Access refused"
    check_page_basics(page)

    response = page.goto(f"{demo_url}/no/such/page?lang=fr")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"

    incomplete = httpx.post(f"{demo_url}/import", data={"nothing": "here"}, headers=demo_api)
    assert incomplete.status_code == 422 and "<title>" in incomplete.text
    assert "Choose at least one file" in incomplete.text

    api = httpx.get(
        f"{demo_url}/api/v1{person}/resources/Observation/nobody-here", headers=demo_api
    )
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    refused = httpx.get(f"{demo_url}/api/v1/persons/nobody-here/resources", headers=demo_api)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    unsigned = httpx.get(f"{demo_url}/api/v1{person}/resources")
    assert unsigned.status_code == 401 and unsigned.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{demo_url}/api/v1/nope", headers=demo_api).json() == {"detail": "Not Found"}
    assert httpx.get(f"{demo_url}/docs").status_code == 200
