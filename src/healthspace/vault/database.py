"""Opening the database: SQLite in the data folder by default, PostgreSQL by URL.

Both run the same code path; the only differences live here: SQLite gets WAL, a busy timeout and
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing, and every open brings the
schema to the newest Alembic revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from healthspace.errors import ConfigurationError

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Erased rows are overwritten on disk, not just unlinked.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every transaction here writes (at least the audit log): take the write lock up front.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_engine(url: str, home: Path) -> Engine:
    """Create the engine and bring the schema up to date."""
    if url.startswith("sqlite"):
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        upgrade_schema(engine)
    except OperationalError as exc:
        raise ConfigurationError(
            f"Cannot open the database ({engine.url.render_as_string(hide_password=True)}): "
            f"{exc.orig}"
        ) from exc
    return engine


def upgrade_schema(engine: Engine) -> None:
    """Run pending migrations; a no-op (one small query) when the schema is current."""
    config = _alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    if current == head:
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
