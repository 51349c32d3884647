"""Entering a lab result by hand in a real browser: type "hémo", take a suggestion from the
datalist the autocomplete script fills, save, and find the result in the timeline with its
"Entered by you" badge. Screenshot: docs/screenshots/enter-lab.png.

The shared demo app is otherwise only read: the entry is deleted again at the end, through
the list of entries, which also proves that list's delete button.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.e2e.test_pages import DEMO_NAME, check_page_basics

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_a_lab_result_entered_with_the_autocomplete_shows_in_the_timeline(
    demo_page: Page, demo_url: str, screenshots: Path
) -> None:
    demo_page.goto(demo_url)
    demo_page.get_by_role("link", name=DEMO_NAME).first.click()
    demo_page.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()
    demo_page.get_by_role("link", name="Enter data").click()
    demo_page.get_by_role("link", name="A lab result").click()
    demo_page.get_by_role("heading", level=1, name="Enter a lab result").wait_for()
    check_page_basics(demo_page)

    name = demo_page.get_by_label("Test name")
    name.press_sequentially("hémo", delay=40)
    options = demo_page.locator("#suggestions-name option")
    options.first.wait_for(state="attached")
    values = options.evaluate_all("els => els.map(e => e.value)")
    assert values[0] == "Hemoglobin", values
    name.fill(values[0])  # what choosing the datalist's first suggestion does
    picked = demo_page.locator('input[name="picked"]')
    demo_page.wait_for_function("() => document.querySelector('input[name=picked]').value !== ''")
    assert picked.input_value() == "718-7"
    units = demo_page.locator("#suggestions-unit option").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert units == ["g/dL", "g/L", "mmol/L"]
    demo_page.get_by_label("Result").fill("11.2")
    demo_page.get_by_label("Unit").fill("g/dL")
    demo_page.get_by_label("Date of the test").fill("05/11/2025")
    demo_page.screenshot(path=screenshots / "enter-lab.png", full_page=True)
    demo_page.get_by_role("button", name="Save").click()
    try:
        demo_page.get_by_role("heading", level=1, name="Saved in your record").wait_for()
        saved = demo_page.locator(".entry-saved").inner_text()
        assert "Hemoglobin" in saved and "Entered by you" in saved and "11.2 g/dL" in saved
        demo_page.get_by_role("link", name="Timeline").first.click()
        line = demo_page.locator(".timeline li", has_text="11.2 g/dL")
        assert line.count() == 1
        assert "Entered by you" in line.inner_text()
        assert "Hemoglobin" in line.inner_text()
    finally:
        demo_page.goto(demo_page.url.split("/persons/")[0] + entered_path(demo_page))
        demo_page.get_by_role("button", name="Delete Hemoglobin").click()
        demo_page.get_by_text("You have not entered anything yet.").wait_for()


def entered_path(tab: Page) -> str:
    """The list of entries of the person whose page the tab shows."""
    person = tab.url.split("/persons/")[1].split("/")[0].split("?")[0].split("#")[0]
    return f"/persons/{person}/entered"
