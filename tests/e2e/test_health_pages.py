"""The health pages in a real browser on the demo record: the lab list, a trend chart (its band
and points drawn, at 1280 px and at 360 px without sideways scrolling), a result reached with
the keyboard, and the medicines page.

Screenshots go to docs/screenshots/ (labs.png, lab-chart.png, medicines.png) on every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from healthspace.demo.accounts import DEMO_PERSON
from tests.e2e.test_pages import DEMO_NAME, check_page_basics

if TYPE_CHECKING:
    from playwright.sync_api import Page

HBA1C = "4548-4"


def sign_in(tab: Page, demo_url: str) -> Page:
    """The demo person signed in (the one step a logged-in fixture of conftest can replace)."""
    tab.goto(f"{demo_url}/login")
    tab.get_by_label("Username").fill(DEMO_PERSON.username)
    tab.get_by_label("Password").fill(DEMO_PERSON.password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()
    return tab


@pytest.fixture
def reader(page: Page, demo_url: str) -> Iterator[Page]:
    """A desktop tab signed in as the demo person."""
    yield sign_in(page, demo_url)


@pytest.fixture
def phone_reader(phone: Page, demo_url: str) -> Iterator[Page]:
    """A 360 px tab signed in as the demo person."""
    yield sign_in(phone, demo_url)


def open_person(tab: Page, demo_url: str) -> str:
    """The demo person's home; returns its path."""
    tab.goto(demo_url)
    tab.get_by_role("link", name=DEMO_NAME).first.click()
    tab.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()
    return tab.url.removeprefix(demo_url).split("?")[0]


def scroll_width(tab: Page) -> int:
    return int(tab.evaluate("document.documentElement.scrollWidth"))


def check_chart_drawn(tab: Page) -> None:
    """The band and every point are drawn, inside the page, one point per table row, and as
    many flagged shapes as rows flagged out of range in the table."""
    chart = tab.locator("svg.trend-chart")
    chart.wait_for()
    assert chart.get_attribute("role") == "img"
    assert re.match(r"Hemoglobin A1c: \d+ results from ", chart.get_attribute("aria-label") or "")
    width = tab.viewport_size["width"] if tab.viewport_size else 1280
    band = tab.locator(".chart-band").bounding_box()
    assert band is not None and band["width"] > 100 and band["height"] > 5
    assert band["x"] >= 0 and band["x"] + band["width"] <= width
    rows = tab.locator("table.chart-table tbody tr")
    shapes = tab.locator("svg.trend-chart circle, svg.trend-chart polygon")
    assert rows.count() == shapes.count() > 3
    flagged_rows = tab.locator("table.chart-table tbody tr.out-of-range").count()
    assert tab.locator("svg.trend-chart polygon").count() == flagged_rows > 0
    for index in range(shapes.count()):
        box = shapes.nth(index).bounding_box()
        assert box is not None and box["width"] > 0 and 0 <= box["x"] <= width


def test_lab_list_chart_and_keyboard(reader: Page, demo_url: str, screenshots: Path) -> None:
    open_person(reader, demo_url)
    attention = reader.get_by_role("region", name="Needs attention")
    assert "Recent results out of range" in attention.inner_text()

    reader.get_by_role("navigation", name="This person's record").get_by_role(
        "link", name="Lab results"
    ).click()
    reader.get_by_role("heading", level=1, name="Lab results").wait_for()
    check_page_basics(reader)
    assert reader.get_by_role("heading", level=2, name="Blood sugar").count() == 1
    flagged = reader.locator("tr.out-of-range .flag").all_inner_texts()
    assert flagged and all(
        text in ("High", "Low", "Critical: needs prompt attention") for text in flagged
    )
    reader.screenshot(path=screenshots / "labs.png", full_page=True)

    # Keyboard only: Tab until a result link has the focus, then Enter opens its chart.
    for _ in range(40):
        reader.keyboard.press("Tab")
        if reader.evaluate("document.activeElement.classList.contains('result-link')"):
            break
    else:
        pytest.fail("no result link reached with the Tab key")
    name = reader.evaluate("document.activeElement.textContent")
    reader.keyboard.press("Enter")
    reader.get_by_role("heading", level=1, name=name).wait_for()

    reader.goto(f"{reader.url.rsplit('/labs/', 1)[0]}/labs/{HBA1C}")
    reader.get_by_role("heading", level=1, name="Hemoglobin A1c").wait_for()
    check_page_basics(reader)
    check_chart_drawn(reader)
    links = reader.locator(".explanation .sources a").evaluate_all("els => els.map(e => e.href)")
    assert any(link.startswith("https://medlineplus.gov/") for link in links), links
    reader.screenshot(path=screenshots / "lab-chart.png", full_page=True)


def test_chart_fits_a_360_px_phone(phone_reader: Page, demo_url: str) -> None:
    person = open_person(phone_reader, demo_url)
    assert scroll_width(phone_reader) <= 360
    phone_reader.goto(f"{demo_url}{person}/labs")
    assert scroll_width(phone_reader) <= 360
    phone_reader.goto(f"{demo_url}{person}/labs/{HBA1C}")
    check_chart_drawn(phone_reader)
    assert scroll_width(phone_reader) <= 360
    phone_reader.goto(f"{demo_url}{person}/medicines")
    assert scroll_width(phone_reader) <= 360


def test_medicines_page(reader: Page, demo_url: str, screenshots: Path) -> None:
    person = open_person(reader, demo_url)
    reader.goto(f"{demo_url}{person}/medicines?lang=fr")
    reader.get_by_role("heading", level=1, name="Médicaments").wait_for()
    check_page_basics(reader, "fr")
    current = reader.get_by_role("region", name="En cours", exact=True).inner_text()
    assert "Metformine" in current and "Ramipril" not in current
    assert (
        "Ramipril"
        in reader.get_by_role("region", name="Arrêtés ou passés", exact=True).inner_text()
    )
    reader.goto(f"{demo_url}{person}/medicines?lang=en")
    reader.get_by_role("heading", level=1, name="Medicines").wait_for()
    interactions = reader.get_by_role("region", name="Interactions between your current medicines")
    assert interactions.count() == 1
    reader.screenshot(path=screenshots / "medicines.png", full_page=True)
