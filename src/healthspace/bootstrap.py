"""The one place that wires settings to concrete parts; CLI, API and tests all start here."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from healthspace.accounts.access import AccessPolicy
from healthspace.accounts.grants import Grants
from healthspace.accounts.store import AccountStore
from healthspace.config import Settings
from healthspace.errors import ConfigurationError
from healthspace.ingest.importer import Importer
from healthspace.ingest.schema_validation import SchemaUnavailable, load_full_schema
from healthspace.vault.database import open_engine
from healthspace.vault.keys import load_or_create_master_key
from healthspace.vault.store import Vault


@dataclass(frozen=True)
class Healthspace:
    settings: Settings
    vault: Vault
    importer: Importer
    accounts: AccountStore
    grants: Grants
    access: AccessPolicy

    @property
    def default_actor(self) -> str:
        return self.settings.actor or f"cli:{getpass.getuser()}"

    def close(self) -> None:
        self.vault.engine.dispose()


def build(settings: Settings | None = None) -> Healthspace:
    settings = settings or Settings()
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    master = load_or_create_master_key(
        settings.master_key_path,
        settings.master_key.get_secret_value() if settings.master_key else None,
    )
    engine = open_engine(settings.resolved_database_url, settings.home)
    vault = Vault(engine, master)
    schema = None
    if settings.fhir_schema is not None:
        loaded = load_full_schema(settings.fhir_schema)
        if isinstance(loaded, SchemaUnavailable):
            raise ConfigurationError(f"HEALTHSPACE_FHIR_SCHEMA is set but the {loaded}")
        schema = loaded
    importer = Importer(vault, settings.max_file_bytes, schema)
    accounts = AccountStore(engine, vault)
    grants = Grants(engine, vault, importer, accounts)
    return Healthspace(settings, vault, importer, accounts, grants, AccessPolicy(vault, grants))
