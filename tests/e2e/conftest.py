"""Browser fixtures: the real app (``healthspace serve``) and Debian's Chromium, driven by
Playwright through ``executable_path`` (no browser download).

Where Chromium or the playwright package is missing the tests skip with the reason; under CI
they fail instead, since CI is where the pages must be proven in a browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from tests.conftest import REPO
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("HEALTHSPACE_CHROMIUM", "/usr/bin/chromium"))
# Headless, no sandbox (CI runs as root), and no background connections: the machine has no
# network, and Chromium's update, sync and safe-browsing calls would fail at every start.
# Playwright gives each launch a new empty profile (its own --user-data-dir).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _unavailable(
            f"no Chromium at {CHROMIUM}: apt-get install chromium, or set HEALTHSPACE_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def _servers_started_together(*servers: AbstractContextManager[str]) -> Iterator[list[str]]:
    """Start several apps at once: each spends seconds importing (and the demo loading), so
    starting them side by side keeps the suite short."""
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(server.__enter__) for server in servers]
    started = [(s, f) for s, f in zip(servers, futures, strict=True) if f.exception() is None]
    try:
        yield [future.result() for future in futures]  # raises the first start that failed
    finally:
        for server, _ in started:
            server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def app_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Two apps: ``serve --demo``, only read by the tests, and one on a record of its own for
    the tests that import (so imports never change what the demo pages show)."""
    demo = running_server(tmp_path_factory.mktemp("demo-home"), "--demo")
    imports = running_server(tmp_path_factory.mktemp("import-home"))
    with _servers_started_together(demo, imports) as (demo_url, import_url):
        yield {"demo": demo_url, "imports": import_url}


@pytest.fixture
def demo_url(app_urls: dict[str, str]) -> str:
    return app_urls["demo"]


@pytest.fixture
def empty_url(app_urls: dict[str, str]) -> str:
    return app_urls["imports"]


def _page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="en-GB")  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized tab with fresh cookies."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A 360 px wide tab, the narrowest phone the pages support."""
    yield from _page(browser, PHONE)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
