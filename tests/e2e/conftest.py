"""Browser fixtures: the real app (``healthspace serve``) and Debian's Chromium, driven by
Playwright through ``executable_path`` (no browser download).

Where Chromium or the playwright package is missing the tests skip with the reason; under CI
they fail instead, since CI is where the pages must be proven in a browser.

Every page needs an account: ``sign_in`` goes through the login form as a person would, and
the ``demo_page``/``demo_phone``/``import_page`` tabs start signed in.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest

from healthspace.demo.accounts import DEMO_PERSON
from tests.conftest import REPO
from tests.server import HEALTHSPACE, cli_env, running_server

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
# The owner of the import server's record, made with the CLI before the server starts.
IMPORTER = ("importer", "import-password-1")


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


def _cli(home: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(HEALTHSPACE), *args],
        input=stdin,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def create_account(
    home: Path, username: str, password: str, role: str = "person", person: str | None = None
) -> None:
    """An account made with the CLI, as the owner of an install would."""
    extra = ["--person", person] if person else []
    _cli(
        home,
        *("accounts", "create", username, "--role", role, "--password-stdin", *extra),
        stdin=password + "\n",
    )


def api_token(home: Path, username: str) -> dict[str, str]:
    """Bearer headers for an existing account of the install in ``home``."""
    token = json.loads(_cli(home, "accounts", "token", username, "--json"))["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def app_homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        "demo": tmp_path_factory.mktemp("demo-home"),
        "imports": tmp_path_factory.mktemp("import-home"),
    }


@pytest.fixture(scope="session")
def app_urls(app_homes: dict[str, Path]) -> Iterator[dict[str, str]]:
    """Two apps: ``serve --demo``, only read by the tests, and one on a record of its own for
    the tests that import (so imports never change what the demo pages show); the import
    app's owner account exists before it starts."""
    create_account(app_homes["imports"], *IMPORTER)
    demo = running_server(app_homes["demo"], "--demo")
    imports = running_server(app_homes["imports"])
    with _servers_started_together(demo, imports) as (demo_url, import_url):
        yield {"demo": demo_url, "imports": import_url}


@pytest.fixture(scope="session")
def demo_api(app_urls: dict[str, str], app_homes: dict[str, Path]) -> dict[str, str]:
    """Bearer headers of the demo person, for API calls beside the browser (``serve --demo``
    keeps its record in the ``demo`` folder of its home)."""
    return api_token(app_homes["demo"] / "demo", DEMO_PERSON.username)


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


def sign_in(page: Page, base_url: str, username: str, password: str) -> Page:
    """Sign in through the login form and wait for the redirect away from it."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    path = urlsplit(page.url).path
    assert path != "/login", f"{username} could not sign in: {page.locator('main').inner_text()}"
    return page


@pytest.fixture
def demo_page(page: Page, demo_url: str) -> Page:
    """A desktop tab signed in as the demo person."""
    return sign_in(page, demo_url, DEMO_PERSON.username, DEMO_PERSON.password)


@pytest.fixture
def demo_phone(phone: Page, demo_url: str) -> Page:
    """A 360 px tab signed in as the demo person."""
    return sign_in(phone, demo_url, DEMO_PERSON.username, DEMO_PERSON.password)


@pytest.fixture
def import_page(page: Page, empty_url: str) -> Page:
    """A desktop tab signed in as the owner of the import app's record."""
    return sign_in(page, empty_url, *IMPORTER)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
