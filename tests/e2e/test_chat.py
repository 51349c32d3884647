"""The chat and the symptom checker in a real browser, on ``serve --demo``: an answer with its
sources as links and a record link that opens, and an emergency whose banner comes first and
is on screen without scrolling on a 360 px phone.

Writes docs/screenshots/chat.png, triage.png and mobile-chat-emergency.png on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthspace.demo.accounts import DEMO_PERSON
from healthspace.demo.person import build_demo_bundle
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.test_pages import check_page_basics

if TYPE_CHECKING:
    from playwright.sync_api import Page

EMERGENCY = "Crushing chest pain and I can't breathe"


def demo_person_id() -> str:
    """The demo person's id: the demo bundle is the same for the same seed."""
    bundle = build_demo_bundle(2026)
    return str(
        next(
            e["resource"]["id"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Patient"
        )
    )


def ask_question(page: Page, question: str) -> None:
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator(".exchange").wait_for()


def test_answer_shows_sources_as_links_and_record_links_open(
    page: Page, demo_url: str, screenshots: Path
) -> None:
    sign_in(page, demo_url, DEMO_PERSON.username, DEMO_PERSON.password)
    person = demo_person_id()
    page.goto(f"{demo_url}/persons/{person}")
    page.locator(".person-nav").get_by_role("link", name="Ask").click()
    page.get_by_role("heading", level=1, name="Ask about this record").wait_for()
    check_page_basics(page)

    ask_question(page, "Can I take ibuprofen with my treatment?")
    sources = page.locator("ol.sources li a")
    assert sources.count() >= 1
    assert all(
        href.startswith("https://")
        for href in sources.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    )
    assert page.locator(".sentence a.cite").count() >= 1  # sentences point to their sources
    assert "Answered by: Offline composer" in page.locator(".engine").inner_text()
    check_page_basics(page)
    page.screenshot(path=screenshots / "chat.png", full_page=True)

    record = page.locator("ul.record-refs a").first
    label = record.inner_text()
    with page.expect_navigation() as navigation:
        record.click()
    response = navigation.value
    assert response is not None and response.status == 200
    assert f"/persons/{person}/resources/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == label


def test_emergency_banner_comes_first_and_is_on_screen_on_a_phone(
    phone: Page, demo_url: str, screenshots: Path
) -> None:
    sign_in(phone, demo_url, DEMO_PERSON.username, DEMO_PERSON.password)
    phone.goto(f"{demo_url}/persons/{demo_person_id()}/ask")
    phone.get_by_label("Country (for the numbers to call)").select_option("FR")
    ask_question(phone, EMERGENCY)

    banner = phone.locator(".triage-banner[role=alert]")
    assert banner.is_visible()
    call = banner.get_by_role("link", name="Call 15")
    assert call.get_attribute("href") == "tel:15"
    assert phone.evaluate("window.scrollY") == 0
    banner_box, call_box = banner.bounding_box(), call.bounding_box()
    answer_box = phone.locator(".answer").bounding_box()
    assert banner_box and call_box and answer_box
    # The level, the advice and the number to call are on the first screen, above the answer.
    assert call_box["y"] + call_box["height"] <= PHONE["height"]
    assert banner_box["y"] < answer_box["y"]
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways at 360 px"
    phone.screenshot(path=screenshots / "mobile-chat-emergency.png")


def test_symptom_checker_shows_the_same_banner(
    page: Page, demo_url: str, screenshots: Path
) -> None:
    sign_in(page, demo_url, DEMO_PERSON.username, DEMO_PERSON.password)
    page.goto(demo_url)
    page.get_by_role("link", name="Check symptoms").first.click()
    page.get_by_role("heading", level=1, name="Check symptoms").wait_for()
    check_page_basics(page)
    page.get_by_label("Symptoms", exact=True).fill(EMERGENCY)
    page.get_by_label("Country (for the numbers to call)").select_option("GB")
    page.get_by_role("button", name="Check", exact=True).click()
    banner = page.locator(".triage-banner[role=alert]")
    banner.wait_for()
    assert banner.get_by_role("link", name="Call 999").get_attribute("href") == "tel:999"
    assert "Warning signs found" in banner.inner_text()
    check_page_basics(page)
    page.screenshot(path=screenshots / "triage.png", full_page=True)
