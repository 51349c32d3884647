"""Shared fixtures: a fresh Healthspace per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL tests use a schema of their own per test, dropped afterwards. Set
HEALTHSPACE_TEST_POSTGRES_URL to run them; in CI a missing URL is an error, not a skip.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from healthspace.bootstrap import Healthspace, build
from healthspace.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_URL = os.environ.get("HEALTHSPACE_TEST_POSTGRES_URL")


def shared_data(*parts: str) -> Path:
    """A folder of ../shared/data, or skip the test with a message where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared samples come with the project's workspace")
    return path


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session", autouse=True)
def _postgres_required_in_ci() -> None:
    if os.environ.get("CI") and not POSTGRES_URL:
        pytest.fail("CI must run the PostgreSQL tests: HEALTHSPACE_TEST_POSTGRES_URL is not set")


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema."""
    if not POSTGRES_URL:
        pytest.skip("HEALTHSPACE_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sqlalchemy_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


TEST_MASTER_KEY = base64.b64encode(b"k" * 32).decode()


def make_settings(
    home: Path,
    database_url: str | None = None,
    master_key: str | None = TEST_MASTER_KEY,
    **extra: Any,
) -> Settings:
    """Settings for a test record; ``master_key=None`` uses the key file in ``home``."""
    return Settings(
        home=home, database_url=database_url, master_key=master_key, actor="test", **extra
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None means SQLite in the test's data folder."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def hs(tmp_path: Path, database_url: str | None) -> Iterator[Healthspace]:
    """A Healthspace on an empty record, on each database."""
    instance = build(make_settings(tmp_path / "home", database_url))
    yield instance
    instance.close()


@pytest.fixture
def hs_sqlite(tmp_path: Path) -> Iterator[Healthspace]:
    """SQLite only, for tests about files on disk or slow imports."""
    instance = build(make_settings(tmp_path / "home"))
    yield instance
    instance.close()
