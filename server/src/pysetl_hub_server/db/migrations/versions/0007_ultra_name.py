"""components.ultra_name: the name with separators, case and look-alike letters folded

Backfilled from the existing names, then indexed, so a new name can be checked against every
existing one in one indexed lookup.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def ultranormalize(name: str) -> str:
    """components/names.py as of this revision (a migration does not follow later code)."""
    folded = re.sub(r"[-_.]+", "", name.lower())
    return folded.translate(str.maketrans("lio", "110"))


def upgrade() -> None:
    op.add_column(
        "components",
        sa.Column("ultra_name", sa.String(length=128), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    components = sa.table("components", sa.column("id"), sa.column("name"), sa.column("ultra_name"))
    for component_id, name in bind.execute(sa.select(components.c.id, components.c.name)).all():
        bind.execute(
            components.update()
            .where(components.c.id == component_id)
            .values(ultra_name=ultranormalize(name))
        )
    op.create_index("ix_components_ultra_name", "components", ["ultra_name"])


def downgrade() -> None:
    op.drop_index("ix_components_ultra_name", table_name="components")
    op.drop_column("components", "ultra_name")
