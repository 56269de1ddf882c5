"""pending_blob_deletes: blobs whose rows were deleted while the object store was down

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_blob_deletes",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_pending_blob_deletes")),
    )


def downgrade() -> None:
    op.drop_table("pending_blob_deletes")
