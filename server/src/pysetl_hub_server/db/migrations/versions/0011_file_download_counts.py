"""file_download_counts: downloads per file and UTC day (the per-version statistics)

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "file_download_counts",
        sa.Column("component_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_file_download_counts_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "component_id", "day", "filename", name=op.f("pk_file_download_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("file_download_counts")
