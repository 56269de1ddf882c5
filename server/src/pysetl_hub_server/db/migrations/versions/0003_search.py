"""search: documents, facet tags, the outbox, and per-dialect full-text structures

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("component_id", Id, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("entry_points", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("readme", sa.Text(), nullable=False),
        sa.Column("license", sa.String(255), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("yanked", sa.Boolean(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("requires_python", sa.String(255), nullable=True),
        sa.Column("pysetl", sa.String(255), nullable=True),
        sa.Column("pyspark", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_search_docs_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", name=op.f("pk_search_docs")),
        sa.UniqueConstraint("name", name=op.f("uq_search_docs_name")),
    )
    op.create_index(op.f("ix_search_docs_license"), "search_docs", ["license"])
    op.create_table(
        "search_tags",
        sa.Column("component_id", Id, nullable=False),
        sa.Column("facet", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["search_docs.component_id"],
            name=op.f("fk_search_tags_component_id_search_docs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", "facet", "value", name=op.f("pk_search_tags")),
    )
    op.create_index(op.f("ix_search_tags_value"), "search_tags", ["value"])
    op.create_table(
        "search_outbox",
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("component", sa.String(128), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("ALTER TABLE search_docs ADD COLUMN tsv tsvector")
        op.execute("CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv)")
        op.execute("CREATE INDEX search_docs_name_trgm ON search_docs USING gin (name gin_trgm_ops)")
    else:
        # Field weights are given at query time (bm25); prefix indexes serve search-as-you-type.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "name, entry_points, text, readme, "
            "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_outbox")
    op.drop_table("search_tags")
    op.drop_index(op.f("ix_search_docs_license"), "search_docs")
    op.drop_table("search_docs")
