"""Entering a lab result by hand in a real browser: type "hémo", take a suggestion from the
datalist the autocomplete script fills, save, and find the result in the timeline with its
"Entered by you" badge. Screenshot: docs/screenshots/enter-lab.png.

The shared demo app is otherwise only read: the entry is deleted again at the end, through
the list of entries, which also proves that list's delete button.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from healthspace.demo.accounts import DEMO_PERSON
from tests.e2e.test_pages import DEMO_NAME, check_page_basics

if TYPE_CHECKING:
    from playwright.sync_api import Page


def sign_in(tab: Page, base_url: str) -> Page:
    """The demo person signed in (the one step a logged-in fixture of conftest can replace)."""
    tab.goto(f"{base_url}/login")
    tab.get_by_label("Username").fill(DEMO_PERSON.username)
    tab.get_by_label("Password").fill(DEMO_PERSON.password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()
    return tab


@pytest.fixture
def reader(page: Page, demo_url: str) -> Iterator[Page]:
    yield sign_in(page, demo_url)


def test_a_lab_result_entered_with_the_autocomplete_shows_in_the_timeline(
    reader: Page, demo_url: str, screenshots: Path
) -> None:
    reader.goto(demo_url)
    reader.get_by_role("link", name=DEMO_NAME).first.click()
    reader.get_by_role("heading", level=1, name=DEMO_NAME).wait_for()
    reader.get_by_role("link", name="Enter data").click()
    reader.get_by_role("link", name="A lab result").click()
    reader.get_by_role("heading", level=1, name="Enter a lab result").wait_for()
    check_page_basics(reader)

    name = reader.get_by_label("Test name")
    name.press_sequentially("hémo", delay=40)
    options = reader.locator("#suggestions-name option")
    options.first.wait_for(state="attached")
    values = options.evaluate_all("els => els.map(e => e.value)")
    assert values[0] == "Hemoglobin", values
    name.fill(values[0])  # what choosing the datalist's first suggestion does
    picked = reader.locator('input[name="picked"]')
    reader.wait_for_function("() => document.querySelector('input[name=picked]').value !== ''")
    assert picked.input_value() == "718-7"
    units = reader.locator("#suggestions-unit option").evaluate_all("els => els.map(e => e.value)")
    assert units == ["g/dL", "g/L", "mmol/L"]
    reader.get_by_label("Result").fill("11.2")
    reader.get_by_label("Unit").fill("g/dL")
    reader.get_by_label("Date of the test").fill("05/11/2025")
    reader.screenshot(path=screenshots / "enter-lab.png", full_page=True)
    reader.get_by_role("button", name="Save").click()
    try:
        reader.get_by_role("heading", level=1, name="Saved in your record").wait_for()
        saved = reader.locator(".entry-saved").inner_text()
        assert "Hemoglobin" in saved and "Entered by you" in saved and "11.2 g/dL" in saved
        reader.get_by_role("link", name="Timeline").first.click()
        line = reader.locator(".timeline li", has_text="11.2 g/dL")
        assert line.count() == 1
        assert "Entered by you" in line.inner_text()
        assert "Hemoglobin" in line.inner_text()
    finally:
        reader.goto(reader.url.split("/persons/")[0] + entered_path(reader))
        reader.get_by_role("button", name="Delete Hemoglobin").click()
        reader.get_by_text("You have not entered anything yet.").wait_for()


def entered_path(tab: Page) -> str:
    """The list of entries of the person whose page the tab shows."""
    person = tab.url.split("/persons/")[1].split("/")[0].split("?")[0].split("#")[0]
    return f"/persons/{person}/entered"
