"""download_counts: downloads per component and UTC day

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "download_counts",
        sa.Column("component_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_download_counts_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", "day", name=op.f("pk_download_counts")),
    )


def downgrade() -> None:
    op.drop_table("download_counts")
