"""governance: roles beyond owner, organizations and teams, invitations, scoped tokens, sign-in
sessions and TOTP, trusted-publisher tokens, the hash-chained audit trail, server flags

Existing tokens keep what they could do (every action; their one component, if any, becomes
a one-item scope) and their expiry. Existing audit events stay unchained: the chain begins
with the first event written after this revision (`audit_head.first_id`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations


import sqlalchemy as sa
from alembic import op

from pysetl_hub_server.db.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, nullable=False)


def _fk(col: str, _table: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(col, Id, nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("totp_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "organizations",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "recovery_codes",
        _id(),
        _fk("user_id", "users"),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "web_sessions",
        _id(),
        sa.Column("session_hash", sa.String(64), nullable=False),
        _fk("user_id", "users"),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_used", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(256), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_web_sessions_session_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])

    # -- tokens: a list of components and of actions instead of one component ---------------
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("component_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("actions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("last_used_ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="user"))
        batch.add_column(sa.Column("publisher_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_tokens_publisher_id_trusted_publishers"),
            "trusted_publishers",
            ["publisher_id"],
            ["id"],
            ondelete="CASCADE",
        )
    bind = op.get_bind()
    tokens = sa.table(
        "api_tokens",
        sa.column("id"),
        sa.column("component_id"),
        sa.column("component_ids", sa.JSON()),
        sa.column("actions", sa.JSON()),
    )
    for token_id, component_id in bind.execute(sa.select(tokens.c.id, tokens.c.component_id)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(
                component_ids=None if component_id is None else [component_id],
                actions=["upload", "yank", "manage"],
            )
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("fk_api_tokens_component_id_components", type_="foreignkey")
        batch.drop_column("component_id")
        batch.alter_column("actions", existing_type=sa.JSON(), nullable=False)

    # -- components: organization owner, quarantine ------------------------------------------
    with op.batch_alter_table("components") as batch:
        batch.add_column(sa.Column("org_id", Id, nullable=True))
        batch.add_column(sa.Column("quarantined_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("quarantine_reason", sa.String(500), nullable=True))
        batch.create_foreign_key(
            op.f("fk_components_org_id_organizations"),
            "organizations",
            ["org_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_components_org_id"), ["org_id"])

    op.create_table(
        "org_members",
        _id(),
        _fk("org_id", "organizations"),
        _fk("user_id", "users"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_org_members_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_org_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_members")),
        sa.UniqueConstraint("org_id", "user_id", name=op.f("uq_org_members_org_id")),
    )
    op.create_index(op.f("ix_org_members_org_id"), "org_members", ["org_id"])
    op.create_index(op.f("ix_org_members_user_id"), "org_members", ["user_id"])
    op.create_table(
        "teams",
        _id(),
        _fk("org_id", "organizations"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_teams_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_teams_org_id")),
    )
    op.create_index(op.f("ix_teams_org_id"), "teams", ["org_id"])
    op.create_table(
        "team_members",
        _id(),
        _fk("team_id", "teams"),
        _fk("user_id", "users"),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_team_members_team_id")),
    )
    op.create_index(op.f("ix_team_members_team_id"), "team_members", ["team_id"])
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"])
    op.create_table(
        "team_roles",
        _id(),
        _fk("team_id", "teams"),
        _fk("component_id", "components"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_roles_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_team_roles_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_roles")),
        sa.UniqueConstraint("team_id", "component_id", name=op.f("uq_team_roles_team_id")),
    )
    op.create_index(op.f("ix_team_roles_team_id"), "team_roles", ["team_id"])
    op.create_index(op.f("ix_team_roles_component_id"), "team_roles", ["component_id"])
    op.create_table(
        "reserved_prefixes",
        sa.Column("prefix", sa.String(64), nullable=False),
        _fk("org_id", "organizations"),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_reserved_prefixes_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_reserved_prefixes")),
    )
    op.create_index(op.f("ix_reserved_prefixes_org_id"), "reserved_prefixes", ["org_id"])
    op.create_table(
        "invitations",
        _id(),
        _fk("component_id", "components", nullable=True),
        _fk("org_id", "organizations", nullable=True),
        _fk("invitee_id", "users"),
        _fk("inviter_id", "users", nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_invitations_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_invitations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitee_id"],
            ["users.id"],
            name=op.f("fk_invitations_invitee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inviter_id"],
            ["users.id"],
            name=op.f("fk_invitations_inviter_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    op.create_index(op.f("ix_invitations_component_id"), "invitations", ["component_id"])
    op.create_index(op.f("ix_invitations_org_id"), "invitations", ["org_id"])
    op.create_index(op.f("ix_invitations_invitee_id"), "invitations", ["invitee_id"])
    op.create_table(
        "prohibited_names",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("ultra_name", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_prohibited_names")),
    )
    op.create_index(op.f("ix_prohibited_names_ultra_name"), "prohibited_names", ["ultra_name"])
    op.create_table(
        "oidc_jtis",
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_oidc_jtis")),
    )
    op.create_index(op.f("ix_oidc_jtis_expires_at"), "oidc_jtis", ["expires_at"])
    op.create_table(
        "server_flags",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_flags")),
    )

    # -- audit: who, from where, and the hash chain ------------------------------------------
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("actor", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("target", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(256), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch.create_index(op.f("ix_audit_events_user_id"), ["user_id"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(64), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute("INSERT INTO audit_head (id, count) VALUES (1, 0)")


def downgrade() -> None:
    """Back to 0007: scoped tokens keep their first component; the rest is dropped."""
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index(op.f("ix_audit_events_user_id"))
        for col in ("hash", "prev_hash", "user_agent", "ip", "target", "actor"):
            batch.drop_column(col)
    for table in (
        "server_flags", "oidc_jtis", "prohibited_names", "invitations", "reserved_prefixes",
        "team_roles", "team_members", "teams", "org_members",
    ):
        op.drop_table(table)
    with op.batch_alter_table("components") as batch:
        batch.drop_index(op.f("ix_components_org_id"))
        batch.drop_constraint(op.f("fk_components_org_id_organizations"), type_="foreignkey")
        for col in ("quarantine_reason", "quarantined_at", "org_id"):
            batch.drop_column(col)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("component_id", Id, nullable=True))
    bind = op.get_bind()
    tokens = sa.table(
        "api_tokens", sa.column("id"), sa.column("component_id"), sa.column("component_ids", sa.JSON())
    )
    for token_id, ids in bind.execute(sa.select(tokens.c.id, tokens.c.component_ids)).all():
        if ids:
            bind.execute(tokens.update().where(tokens.c.id == token_id).values(component_id=ids[0]))
    with op.batch_alter_table("api_tokens") as batch:
        batch.create_foreign_key(
            op.f("fk_api_tokens_component_id_components"), "components", ["component_id"], ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint(op.f("fk_api_tokens_publisher_id_trusted_publishers"), type_="foreignkey")
        for col in ("publisher_id", "origin", "last_used_ip", "actions", "component_ids", "name"):
            batch.drop_column(col)
    op.drop_table("web_sessions")
    op.drop_table("recovery_codes")
    op.drop_table("organizations")
    with op.batch_alter_table("users") as batch:
        for col in ("totp_last_step", "totp_enabled", "totp_secret", "is_admin"):
            batch.drop_column(col)
