"""mirror: the origin a read-only mirror follows, its pinned feed key and cursor, and the
files it refused or could not fetch yet

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mirror_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(2048), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(128), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("last_success", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_state")),
    )
    op.create_table(
        "mirror_failures",
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("component", sa.String(255), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("next_try", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("filename", name=op.f("pk_mirror_failures")),
    )


def downgrade() -> None:
    op.drop_table("mirror_failures")
    op.drop_table("mirror_state")
