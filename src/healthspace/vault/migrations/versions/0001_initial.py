"""The first schema: spaces, resources and their history, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("profile", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "resources",
        sa.Column("pk", _row_id, primary_key=True, autoincrement=True),
        sa.Column("space", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("fhir_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("space", "resource_type", "fhir_id", name="uq_resources_identity"),
    )
    op.create_index("ix_resources_type_id", "resources", ["resource_type", "fhir_id"])
    op.create_table(
        "resource_history",
        sa.Column("pk", _row_id, primary_key=True, autoincrement=True),
        sa.Column("space", sa.String(64), nullable=False, index=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("fhir_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", _row_id, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("person", sa.String(64), nullable=True, index=True),
        sa.Column("resource_type", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(256), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    # The head row exists from the start, so concurrent first writers queue on its row lock.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "mac": "0" * 64}])


def downgrade() -> None:
    for table in ("audit_head", "audit_log", "resource_history", "resources", "spaces"):
        op.drop_table(table)
