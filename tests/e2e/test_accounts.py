"""Accounts in a real browser: the first-run setup on an empty install, a wrong password, and
sharing a record with a clinician from the Sharing page until the owner revokes it, after which
the clinician's next page of that patient is refused at once; then signing out.

Sharing writes a Consent into the record, so it runs on a demo app of its own and leaves the
shared demo app read-only. Screenshots: docs/screenshots/login.png, settings.png, sharing.png,
workspace.png and workspace-summary.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from healthspace.demo.accounts import DEMO_CLINICIAN, DEMO_PERSON
from tests.e2e.conftest import DESKTOP, _servers_started_together, sign_in
from tests.e2e.test_pages import DEMO_NAME, check_page_basics
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


@pytest.fixture(scope="module")
def own_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An install with no account yet, and a demo app this module may write to."""
    fresh = running_server(tmp_path_factory.mktemp("fresh-home"))
    demo = running_server(tmp_path_factory.mktemp("sharing-demo-home"), "--demo")
    with _servers_started_together(fresh, demo) as (fresh_url, demo_url):
        yield {"fresh": fresh_url, "demo": demo_url}


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts (separate cookie jars: separate people) closed after the test."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def new_tab(browser: Browser, contexts: list[BrowserContext]) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")  # type: ignore[arg-type]
    contexts.append(context)
    return context.new_page()


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def test_first_run_setup_then_sign_in(page: Page, own_apps: dict[str, str]) -> None:
    base = own_apps["fresh"]
    response = page.goto(f"{base}/persons/anyone")
    assert response is not None and response.status == 200
    assert path_of(page) == "/login"
    assert urlsplit(page.url).query == "next=/persons/anyone"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    check_page_basics(page)

    page.get_by_role("link", name="Create the first account").click()
    page.get_by_role("heading", level=1, name="Create your account").wait_for()
    check_page_basics(page)
    page.get_by_label("Your name").fill("Robin First")
    page.get_by_label("Username").fill("robin")
    page.get_by_label("Password", exact=True).fill("first-run-pass")
    page.get_by_label("Password again").fill("first-run-pass")
    page.get_by_role("button", name="Create the account").click()
    page.get_by_role("heading", level=1, name="Sign in").wait_for()
    assert path_of(page) == "/login"
    # Setup is for the first account only: now it sends to the login page, with no link to it.
    assert page.get_by_role("link", name="Create the first account").count() == 0
    page.goto(f"{base}/setup")
    assert path_of(page) == "/login"

    sign_in(page, base, "robin", "first-run-pass")
    assert path_of(page) == "/"
    assert page.get_by_role("heading", level=1).inner_text() == "My health"
    assert "Signed in as Robin First" in page.locator("header").inner_text()
    assert "No record yet" in page.locator("main").inner_text()


def test_a_wrong_password_shows_the_error(
    page: Page, own_apps: dict[str, str], screenshots: Path
) -> None:
    base = own_apps["demo"]
    page.goto(f"{base}/login")
    check_page_basics(page)
    page.screenshot(path=screenshots / "login.png")
    page.get_by_label("Username").fill(DEMO_CLINICIAN.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_role("alert")
    error.wait_for()
    assert error.inner_text() == "Wrong username or password."
    assert path_of(page) == "/login"
    assert page.get_by_label("Username").input_value() == DEMO_CLINICIAN.username
    assert page.get_by_label("Username").get_attribute("aria-describedby") == "login-error"
    assert page.get_by_label("Password").input_value() == ""
    assert "Signed in as" not in page.locator("header").inner_text()
    check_page_basics(page)
    # Still signed out: a page sends back to the login form.
    page.goto(f"{base}/settings")
    assert path_of(page) == "/login"


def test_sharing_with_a_clinician_until_revoked_then_signing_out(
    browser: Browser,
    contexts: list[BrowserContext],
    own_apps: dict[str, str],
    screenshots: Path,
) -> None:
    base = own_apps["demo"]
    owner = sign_in(new_tab(browser, contexts), base, DEMO_PERSON.username, DEMO_PERSON.password)
    clinician = sign_in(
        new_tab(browser, contexts), base, DEMO_CLINICIAN.username, DEMO_CLINICIAN.password
    )

    # Before any sharing, the clinician's workspace is empty.
    clinician.get_by_role("link", name="Workspace").click()
    clinician.get_by_role("heading", level=1, name="Workspace").wait_for()
    assert "No patient has shared a record with you yet." in clinician.locator("main").inner_text()

    owner.get_by_role("link", name="Settings").click()
    owner.get_by_role("heading", level=1, name="Settings").wait_for()
    check_page_basics(owner)
    owner.screenshot(path=screenshots / "settings.png", full_page=True)
    owner.get_by_role("link", name="Share my record with a carer or a clinician").click()
    owner.get_by_role("heading", level=1, name="Sharing").wait_for()
    sharing_path = path_of(owner)
    assert re.fullmatch(r"/persons/[^/]+/sharing", sharing_path), sharing_path
    person = sharing_path.split("/")[2]
    assert "Nobody but you." in owner.locator("main").inner_text()
    check_page_basics(owner)

    owner.get_by_label("Their Healthspace username").fill(DEMO_CLINICIAN.username)
    owner.get_by_label("Clinician (doctor, nurse, pharmacist…)").check()
    owner.get_by_role("button", name="Share my record").click()
    row = owner.get_by_role("row", name=re.compile(re.escape(DEMO_CLINICIAN.display_name)))
    row.wait_for()
    assert "Clinician" in row.inner_text()
    assert path_of(owner) == sharing_path
    owner.screenshot(path=screenshots / "sharing.png", full_page=True)

    # The clinician sees the patient in the workspace and opens the summary.
    clinician.reload()
    patient = clinician.get_by_role("link", name=DEMO_NAME)
    assert patient.count() == 1
    check_page_basics(clinician)
    clinician.screenshot(path=screenshots / "workspace.png", full_page=True)
    patient.click()
    clinician.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()
    summary_path = path_of(clinician)
    assert summary_path == f"/workspace/persons/{person}"
    assert clinician.locator("main section h2").count() >= 3
    check_page_basics(clinician)
    clinician.screenshot(path=screenshots / "workspace-summary.png")

    # The owner stops sharing: it takes effect at once.
    owner.get_by_role("button", name=f"Stop sharing with {DEMO_CLINICIAN.username}").click()
    owner.get_by_role("heading", level=2, name="Sharing that ended").wait_for()
    assert "Nobody but you." in owner.locator("main").inner_text()

    refused = clinician.reload()
    assert refused is not None and refused.status == 403
    assert clinician.get_by_role("heading", level=1).inner_text() == "Access refused"
    assert "Its owner can share it with you" in clinician.locator("main").inner_text()
    check_page_basics(clinician)
    gone = clinician.goto(f"{base}/persons/{person}")
    assert gone is not None and gone.status == 403
    clinician.goto(f"{base}/workspace")
    assert clinician.get_by_role("link", name=DEMO_NAME).count() == 0

    # Signing out ends the session: the next page asks to sign in again.
    clinician.get_by_role("button", name="Sign out").click()
    clinician.get_by_role("heading", level=1, name="Sign in").wait_for()
    assert path_of(clinician) == "/login"
    clinician.goto(f"{base}/workspace")
    assert path_of(clinician) == "/login"
    assert urlsplit(clinician.url).query == "next=/workspace"
