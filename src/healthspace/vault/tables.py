"""The database tables. Payloads and identifying fields are stored sealed (see ``keys``).

A *space* is where a resource lives: a person's id, or ``SHARED_SPACE`` for reference data with
no person (Practitioner, Organization, Medication...). ``~`` cannot appear in a FHIR id, so the
shared space can never collide with a person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

SHARED_SPACE = "~shared"


class SealedBytes(LargeBinary):
    """Bytes passed to the driver as they are: both drivers take ``bytes`` for BLOB/BYTEA, and
    SQLAlchemy's per-value conversion was a tenth of the import time."""

    cache_ok = True

    def bind_processor(self, dialect: Any) -> None:
        return None


metadata = MetaData()

# BigInteger primary keys autoincrement on PostgreSQL; SQLite needs INTEGER for its rowid alias.
_row_id = BigInteger().with_variant(Integer(), "sqlite")

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # "person" or "shared"
    Column("wrapped_key", SealedBytes, nullable=False),
    # Sealed JSON {"name", "birth_date"} so listing persons needs no payload decryption.
    Column("profile", SealedBytes, nullable=True),
    Column("created_at", String(32), nullable=False),
    # Bumped by every change to the space's resources (store, update, delete): derived caches
    # (``derived``) built at an older revision are stale.
    Column("revision", Integer, nullable=False, server_default="0"),
)

resources = Table(
    "resources",
    metadata,
    Column("pk", _row_id, primary_key=True, autoincrement=True),
    Column("space", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("fhir_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("payload", SealedBytes, nullable=False),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("space", "resource_type", "fhir_id", name="uq_resources_identity"),
)
Index("ix_resources_type_id", resources.c.resource_type, resources.c.fhir_id)

resource_history = Table(
    "resource_history",
    metadata,
    Column("pk", _row_id, primary_key=True, autoincrement=True),
    Column("space", String(64), nullable=False, index=True),
    Column("resource_type", String(64), nullable=False),
    Column("fhir_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("payload", SealedBytes, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _row_id, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("person", String(64), nullable=True, index=True),
    Column("resource_type", String(64), nullable=True),
    Column("detail", String(256), nullable=False),
    Column("mac", String(64), nullable=False),
)

# One row: the newest entry's number and MAC, so that deleting the tail is detected too.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
)

# Sealed results a view computed from a space's record (the patient summary), so a warm read
# decrypts one payload instead of the whole record. ``basis`` names what it was built from
# (revisions, day, builder version: no medical data); a change to the space deletes its rows.
derived = Table(
    "derived",
    metadata,
    Column("space", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("basis", String(128), nullable=False),
    Column("payload", SealedBytes, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# -- accounts and access ---------------------------------------------------------------------
# Who may sign in and what they may see. No medical data here: a grant names a person's space
# id and an account, and the FHIR Consent that records it lives sealed in the person's record.

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # person | clinician | admin
    Column("person", String(64), nullable=True, unique=True),  # the space a person account owns
    Column("password_hash", String(256), nullable=False),
    Column("language", String(8), nullable=False, server_default="en"),
    Column("country", String(8), nullable=False, server_default="FR"),
    Column("created_at", String(32), nullable=False),
)

# Sessions and API tokens are stored as SHA-256 digests: a copy of the database opens nothing.
account_sessions = Table(
    "account_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("label", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", _row_id, primary_key=True, autoincrement=True),
    Column("person", String(64), nullable=False, index=True),
    Column("grantee", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # delegate | clinician
    Column("consent_id", String(64), nullable=False),
    Column("granted_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
)
