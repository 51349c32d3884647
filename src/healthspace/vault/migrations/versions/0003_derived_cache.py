"""A revision counter per space and a sealed cache of derived views (the patient summary).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "derived",
        sa.Column("space", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("basis", sa.String(128), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("derived")
    with op.batch_alter_table("spaces") as batch:
        batch.drop_column("revision")
