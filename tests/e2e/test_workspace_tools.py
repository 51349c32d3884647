"""The clinician's workspace tools in a real browser: the demo person shares her record from
the Sharing page, dr.martin composes a SOAP draft, ticks the statements without a source and
signs it; the medication review shows the metformin and eGFR finding. Both pages are also
checked at 360 px without sideways scrolling.

This test writes to the record (a grant, a signed Composition), so it runs on a demo server
of its own and leaves the shared demo server read-only. Screenshots: docs/screenshots/
workspace-draft.png and workspace-medication-review.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from healthspace.demo.accounts import DEMO_CLINICIAN, DEMO_PERSON
from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import DEMO_NAME, check_page_basics
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def own_demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("workspace-demo"), "--demo") as url:
        yield url


def _tab(browser: Browser, viewport: dict[str, int]) -> Page:
    return browser.new_context(viewport=viewport, locale="en-GB").new_page()  # type: ignore[arg-type]


def _share_with_the_clinician(browser: Browser, base_url: str) -> str:
    """The demo person grants dr.martin access from her Sharing page; her record's id."""
    tab = _tab(browser, DESKTOP)
    try:
        sign_in(tab, base_url, DEMO_PERSON.username, DEMO_PERSON.password)
        tab.goto(base_url)
        href = tab.get_by_role("link", name=DEMO_NAME).first.get_attribute("href") or ""
        person = href.rstrip("/").split("/")[-1]
        tab.goto(f"{base_url}/persons/{person}/sharing")
        tab.locator("#username").fill(DEMO_CLINICIAN.username)
        tab.locator("#kind-clinician").check()
        tab.locator("form").filter(has=tab.locator("#username")).get_by_role("button").click()
        tab.wait_for_load_state()
        assert DEMO_CLINICIAN.username in tab.content()
        return person
    finally:
        tab.context.close()


def _scroll_width(tab: Page) -> int:
    return int(tab.evaluate("document.documentElement.scrollWidth"))


def test_clinician_composes_checks_and_signs_a_soap_draft(
    browser: Browser, own_demo_url: str, screenshots: Path
) -> None:
    person = _share_with_the_clinician(browser, own_demo_url)
    tab = _tab(browser, DESKTOP)
    try:
        sign_in(tab, own_demo_url, DEMO_CLINICIAN.username, DEMO_CLINICIAN.password)
        tab.goto(f"{own_demo_url}/workspace")
        tab.get_by_role("link", name=DEMO_NAME).click()
        tab.get_by_role("navigation", name="Patient tools").get_by_role(
            "link", name="Drafts"
        ).click()
        tab.get_by_role("heading", level=1, name="Drafts").wait_for()
        check_page_basics(tab)

        soap = tab.locator("form", has=tab.locator("input[name=kind][value=soap]"))
        soap.get_by_label("Your typed or dictated text").fill("Reports fatigue for two weeks.")
        soap.get_by_role("button", name="Compose the draft").click()
        tab.get_by_role("heading", level=1, name=re.compile("SOAP")).wait_for()
        assert "/workspace/persons/" + person + "/drafts/" in tab.url
        check_page_basics(tab)

        # Signing with a statement left unticked is refused, and the page says which.
        boxes = tab.get_by_role("checkbox", name="I have checked this statement")
        assert boxes.count() >= 1
        tab.get_by_role("button", name="Sign the document").click()
        tab.locator("#sign-error").wait_for()
        assert "Not signed" in tab.locator("#sign-error").inner_text()

        for index in range(boxes.count()):
            boxes.nth(index).check()
        tab.screenshot(path=str(screenshots / "workspace-draft.png"), full_page=True)
        tab.get_by_role("button", name="Sign the document").click()
        tab.get_by_role("status").filter(has_text="Document signed.").wait_for()
        assert tab.locator("#draft-status").inner_text() == "Final"
        assert DEMO_CLINICIAN.username in tab.locator("#draft-signer").inner_text()

        # A source link opens the record item the statement rests on.
        source = tab.locator(".statement-sources a.source-link").first
        source.click()
        tab.wait_for_load_state()
        assert "/resources/" in tab.url and "Traceback" not in tab.content()

        tab.goto(f"{own_demo_url}/workspace/persons/{person}/medication-review")
        tab.get_by_role("heading", level=1, name="Medication review").wait_for()
        check_page_basics(tab)
        assert "Options for the clinician's judgement." in tab.locator("main").inner_text()
        finding = tab.locator("article.finding", has_text="eGFR").filter(has_text="etformin")
        assert finding.count() >= 1
        tab.screenshot(path=str(screenshots / "workspace-medication-review.png"), full_page=True)
    finally:
        tab.context.close()

    phone = _tab(browser, PHONE)
    try:
        sign_in(phone, own_demo_url, DEMO_CLINICIAN.username, DEMO_CLINICIAN.password)
        for path in ("drafts", "medication-review"):
            phone.goto(f"{own_demo_url}/workspace/persons/{person}/{path}")
            assert _scroll_width(phone) <= PHONE["width"], path
    finally:
        phone.context.close()
