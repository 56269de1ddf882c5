"""advisories: security advisories (OSV records) against a component's versions

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", Id, nullable=False),
        sa.Column("osv_id", sa.String(length=64), nullable=False),
        sa.Column("component_id", Id, nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("severity", sa.JSON(), nullable=False),
        sa.Column("affected", sa.JSON(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("published", UTCDateTime(), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=False),
        sa.Column("withdrawn", UTCDateTime(), nullable=True),
        sa.Column("created_by", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_advisories_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_advisories_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
        sa.UniqueConstraint("osv_id", name=op.f("uq_advisories_osv_id")),
    )
    op.create_index(op.f("ix_advisories_component_id"), "advisories", ["component_id"])
    op.create_index(op.f("ix_advisories_modified"), "advisories", ["modified"])


def downgrade() -> None:
    op.drop_index(op.f("ix_advisories_modified"), table_name="advisories")
    op.drop_index(op.f("ix_advisories_component_id"), table_name="advisories")
    op.drop_table("advisories")
