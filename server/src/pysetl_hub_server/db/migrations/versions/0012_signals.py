"""file_facts and quality_scores: what stored archives hold, and each component's quality score

Revision ID: 0012
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_facts",
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("has_tests", sa.Boolean(), nullable=False),
        sa.Column("pth", sa.JSON(), nullable=False),
        sa.Column("documented", sa.JSON(), nullable=False),
        sa.Column("readable", sa.Boolean(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_file_facts_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_file_facts")),
    )
    op.create_table(
        "quality_scores",
        sa.Column(
            "component_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("computed", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_quality_scores_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", name=op.f("pk_quality_scores")),
    )
    op.create_index(op.f("ix_quality_scores_total"), "quality_scores", ["total"], unique=False)
    # Search sorts and filters by the score: the built-in engine's documents carry it.
    # (a plain ADD COLUMN: a batch copy of search_docs would leave its full-text structures)
    op.add_column(
        "search_docs", sa.Column("quality", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("search_docs", "quality")
    op.drop_index(op.f("ix_quality_scores_total"), table_name="quality_scores")
    op.drop_table("quality_scores")
    op.drop_table("file_facts")
