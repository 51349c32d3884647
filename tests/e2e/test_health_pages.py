"""The health pages in a real browser on the demo record: the lab list, a trend chart (its band
and points drawn, at 1280 px and at 360 px without sideways scrolling), a result reached with
the keyboard, and the medicines page.

Screenshots go to docs/screenshots/ (labs.png, lab-chart.png, medicines.png) on every run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_pages import DEMO_NAME, check_page_basics

if TYPE_CHECKING:
    from playwright.sync_api import Page

HBA1C = "4548-4"


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


def test_lab_list_chart_and_keyboard(demo_page: Page, demo_url: str, screenshots: Path) -> None:
    open_person(demo_page, demo_url)
    attention = demo_page.get_by_role("region", name="Needs attention")
    assert "Recent results out of range" in attention.inner_text()

    demo_page.get_by_role("navigation", name="This person's record").get_by_role(
        "link", name="Lab results"
    ).click()
    demo_page.get_by_role("heading", level=1, name="Lab results").wait_for()
    check_page_basics(demo_page)
    assert demo_page.get_by_role("heading", level=2, name="Blood sugar").count() == 1
    flagged = demo_page.locator("tr.out-of-range .flag").all_inner_texts()
    assert flagged and all(
        text in ("High", "Low", "Critical: needs prompt attention") for text in flagged
    )
    demo_page.screenshot(path=screenshots / "labs.png", full_page=True)

    # Keyboard only: Tab until a result link has the focus, then Enter opens its chart.
    for _ in range(40):
        demo_page.keyboard.press("Tab")
        if demo_page.evaluate("document.activeElement.classList.contains('result-link')"):
            break
    else:
        pytest.fail("no result link reached with the Tab key")
    name = demo_page.evaluate("document.activeElement.textContent")
    demo_page.keyboard.press("Enter")
    demo_page.get_by_role("heading", level=1, name=name).wait_for()

    demo_page.goto(f"{demo_page.url.rsplit('/labs/', 1)[0]}/labs/{HBA1C}")
    demo_page.get_by_role("heading", level=1, name="Hemoglobin A1c").wait_for()
    check_page_basics(demo_page)
    check_chart_drawn(demo_page)
    links = demo_page.locator(".explanation .sources a").evaluate_all("els => els.map(e => e.href)")
    assert any(link.startswith("https://medlineplus.gov/") for link in links), links
    demo_page.screenshot(path=screenshots / "lab-chart.png", full_page=True)


def test_chart_fits_a_360_px_phone(demo_phone: Page, demo_url: str) -> None:
    person = open_person(demo_phone, demo_url)
    assert scroll_width(demo_phone) <= 360
    demo_phone.goto(f"{demo_url}{person}/labs")
    assert scroll_width(demo_phone) <= 360
    demo_phone.goto(f"{demo_url}{person}/labs/{HBA1C}")
    check_chart_drawn(demo_phone)
    assert scroll_width(demo_phone) <= 360
    demo_phone.goto(f"{demo_url}{person}/medicines")
    assert scroll_width(demo_phone) <= 360


def test_medicines_page(demo_page: Page, demo_url: str, screenshots: Path) -> None:
    person = open_person(demo_page, demo_url)
    demo_page.goto(f"{demo_url}{person}/medicines?lang=fr")
    demo_page.get_by_role("heading", level=1, name="Médicaments").wait_for()
    check_page_basics(demo_page, "fr")
    current = demo_page.get_by_role("region", name="En cours", exact=True).inner_text()
    assert "Metformine" in current and "Ramipril" not in current
    assert (
        "Ramipril"
        in demo_page.get_by_role("region", name="Arrêtés ou passés", exact=True).inner_text()
    )
    demo_page.goto(f"{demo_url}{person}/medicines?lang=en")
    demo_page.get_by_role("heading", level=1, name="Medicines").wait_for()
    interactions = demo_page.get_by_role(
        "region", name="Interactions between your current medicines"
    )
    assert interactions.count() == 1
    demo_page.screenshot(path=screenshots / "medicines.png", full_page=True)
