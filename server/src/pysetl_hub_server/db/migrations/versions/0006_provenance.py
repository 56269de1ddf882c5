"""provenance: trusted publishers, require_attestations, verified provenance per file

The raw `files.attestations` column (stored unverified before provenance was checked) is
replaced by `files.provenance` (the PEP 740 object built from verified attestations) and
`files.signer` (the trusted publisher that matched).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_publishers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("component_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.String(length=600), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=True),
        sa.Column("workflow", sa.String(length=255), nullable=True),
        sa.Column("environment", sa.String(length=255), nullable=True),
        sa.Column("issuer", sa.String(length=255), nullable=True),
        sa.Column("identity", sa.String(length=255), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"],
            name=op.f("fk_trusted_publishers_component_id_components"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"],
            name=op.f("fk_trusted_publishers_created_by_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_publishers")),
        sa.UniqueConstraint("component_id", "spec", name=op.f("uq_trusted_publishers_component_id")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_trusted_publishers_component_id"), "trusted_publishers", ["component_id"]
    )
    with op.batch_alter_table("components") as batch:
        batch.add_column(
            sa.Column(
                "require_attestations", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("files") as batch:
        batch.drop_column("attestations")
        batch.add_column(sa.Column("provenance", sa.Text(), nullable=True))
        batch.add_column(sa.Column("signer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("signer")
        batch.drop_column("provenance")
        batch.add_column(sa.Column("attestations", sa.Text(), nullable=True))
    with op.batch_alter_table("components") as batch:
        batch.drop_column("require_attestations")
    op.drop_index(op.f("ix_trusted_publishers_component_id"), table_name="trusted_publishers")
    op.drop_table("trusted_publishers")
