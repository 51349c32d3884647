"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from healthspace.bootstrap import Healthspace
from healthspace.vault.database import MIGRATIONS, _alembic_config, upgrade_schema
from healthspace.vault.tables import metadata


def test_migrated_schema_matches_declared_tables(hs: Healthspace) -> None:
    with hs.vault.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_is_idempotent(hs: Healthspace) -> None:
    upgrade_schema(hs.vault.engine)
    upgrade_schema(hs.vault.engine)
    with hs.vault.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert current == head == f"{len(list(MIGRATIONS.glob('versions/0*.py'))):04d}"
