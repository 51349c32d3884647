"""Accounts, sessions, API tokens and access grants.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("person", sa.String(64), nullable=True, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("country", sa.String(8), nullable=False, server_default="FR"),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "account_sessions",
        sa.Column("token_digest", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_digest", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("id", _row_id, primary_key=True, autoincrement=True),
        sa.Column("person", sa.String(64), nullable=False, index=True),
        sa.Column("grantee", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("consent_id", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    for table in ("grants", "api_tokens", "account_sessions", "accounts"):
        op.drop_table(table)
