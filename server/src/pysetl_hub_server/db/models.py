"""SQLAlchemy 2 models. Alembic migrations (db/migrations) are the source of the schema."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Site administrators: quarantine, prohibited names, the hub-wide audit view.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # TOTP second factor (RFC 6238): the base32 secret, whether it is on, and the last time
    # step accepted (a code is good once).
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Base):
    """One-use codes that stand in for a lost TOTP device; stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebSession(Base):
    """A signed-in browser or CLI session (`POST /api/v1/session`); only a hash is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(256), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    """An API token. Only a SHA-256 of the secret is stored; `token_id` is public."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # Scope: None is every component the user may act on; a list of component ids otherwise.
    component_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    # What it may do there: a subset of upload, yank, manage.
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # How it came to be: "user" (CLI/API/web), "admin" (server CLI), "oidc" (minted for a
    # trusted publisher, which is then set; removing the publisher removes the token).
    origin: Mapped[str] = mapped_column(String(16), default="user")
    publisher_id: Mapped[int | None] = mapped_column(
        ForeignKey("trusted_publishers.id", ondelete="CASCADE"), nullable=True
    )

    user: Mapped[User] = relationship(lazy="joined")


class Component(Base):
    """A project: one distribution name, normalized (PEP 503)."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    # The name with separators, case and look-alike letters folded (components/names.py).
    ultra_name: Mapped[str] = mapped_column(String(128), index=True, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Serial of the last change to this component (audit event id); drives ETags and caches.
    last_serial: Mapped[int] = mapped_column(BigInteger, default=0)
    # Once on, an upload without a verified attestation is refused.
    require_attestations: Mapped[bool] = mapped_column(Boolean, default=False)
    # Owned by an organization: its owners are owners here, its teams hold roles here.
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Quarantined by an admin: hidden from the index and search, files kept for review.
    quarantined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    quarantine_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    releases: Mapped[list[Release]] = relationship(
        back_populates="component", lazy="raise", cascade="all, delete-orphan"
    )


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "component_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # "owner" | "maintainer"
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("component_id", "canonical_version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(64))
    canonical_version: Mapped[str] = mapped_column(String(64))
    is_prerelease: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(String(512), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    description_content_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    license: Mapped[str | None] = mapped_column(Text, nullable=True)
    author: Mapped[str | None] = mapped_column(String(512), nullable=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    project_urls: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    requires_python: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pysetl_specifier: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pyspark_specifier: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requires_dist: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    entry_points: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The compatibility matrix evaluated at publish time against the configured platforms.
    compat: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    yanked_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    component: Mapped[Component] = relationship(back_populates="releases", lazy="raise")
    files: Mapped[list[File]] = relationship(
        back_populates="release", lazy="selectin", cascade="all, delete-orphan"
    )


class File(Base):
    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255), unique=True)
    packagetype: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blake2b_256: Mapped[str] = mapped_column(String(64))
    metadata_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requires_python: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The PEP 740 provenance object built from the attestations verified at upload, and the
    # trusted publisher that signed them (Publisher fields); both None for an unsigned file.
    # Deferred: index pages never need it; the integrity endpoint selects it alone.
    provenance: Mapped[str | None] = deferred(mapped_column(Text, nullable=True))
    signer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    upload_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    release: Mapped[Release] = relationship(back_populates="files", lazy="raise")


class TrustedPublisher(Base):
    """An identity allowed to sign a component's releases (PEP 740 attestations)."""

    __tablename__ = "trusted_publishers"
    __table_args__ = (UniqueConstraint("component_id", "spec"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "github" | "gitlab" | "sigstore"
    spec: Mapped[str] = mapped_column(String(600))  # canonical text form, unique per component
    repository: Mapped[str | None] = mapped_column(String(255), nullable=True)
    workflow: Mapped[str | None] = mapped_column(String(255), nullable=True)
    environment: Mapped[str | None] = mapped_column(String(255), nullable=True)
    issuer: Mapped[str | None] = mapped_column(String(255), nullable=True)
    identity: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class FilenameRegistry(Base):
    """Every filename ever published. Rows are never deleted, so a name is never reused."""

    __tablename__ = "filename_registry"

    filename: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Append-only journal. Its id is the serial (as PyPI's journal) that caches key on.

    Each event carries the hash of the one before it (`audit/chain.py`), so an edited, deleted
    or reordered event breaks the chain from there on; `AuditHead` holds the newest link.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    component_id: Mapped[int | None] = mapped_column(
        ForeignKey("components.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who (a username, `publisher:<spec>`, or `admin`), on what (`component:x`, `user:y`, ...),
    # from where. ip and user_agent are never shown to the public.
    actor: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(256), nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHead(Base):
    """One row: the newest event of the chain. Writers lock it first, so events are chained
    (and numbered) in one order even on PostgreSQL with concurrent transactions."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


# -- governance ---------------------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # normalized like a component
    display_name: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrgMember(Base):
    __tablename__ = "org_members"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "owner" | "member"
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class TeamRole(Base):
    """A team's role on a component of its organization."""

    __tablename__ = "team_roles"
    __table_args__ = (UniqueConstraint("team_id", "component_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # "owner" | "maintainer"


class ReservedPrefix(Base):
    """Only members of `org_id` may create components named `<prefix>-*` (or the prefix)."""

    __tablename__ = "reserved_prefixes"

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)  # normalized
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    """An owner's offer of a role on a component (or a seat in an organization)."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    component_id: Mapped[int | None] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), nullable=True, index=True
    )
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    invitee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    inviter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(16))
    # "pending" | "accepted" | "declined" | "revoked" (expired: pending past expires_at)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProhibitedName(Base):
    """A name admins took out of use: no component may be created as it or as a look-alike."""

    __tablename__ = "prohibited_names"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # normalized
    ultra_name: Mapped[str] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OidcJti(Base):
    """`jti` of every OIDC token exchanged, until it expires: a replay is refused."""

    __tablename__ = "oidc_jtis"

    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ServerFlag(Base):
    """Switches an admin flips on a running hub (every replica reads them): `read_only`."""

    __tablename__ = "server_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- search -------------------------------------------------------------------------------------
# Derived data: rebuilt from the tables above by `search reindex`. The full-text structures
# (an FTS5 table on SQLite; a tsvector column and trigram index on PostgreSQL) are created by
# the migration only, per dialect; see `search.dialects`.


class SearchDoc(Base):
    """One component as the built-in engine searches it (its latest release)."""

    __tablename__ = "search_docs"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    entry_points: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    readme: Mapped[str] = mapped_column(Text, default="")
    license: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)
    requires_python: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pysetl: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pyspark: Mapped[str | None] = mapped_column(String(255), nullable=True)


class SearchTag(Base):
    """Facet values of a doc: `kind` and `keyword` (one row each), for filters and counts."""

    __tablename__ = "search_tags"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("search_docs.component_id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)


class SearchOutbox(Base):
    """Components whose index entry must be refreshed; written in the changing transaction."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    component: Mapped[str] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DownloadCount(Base):
    """Downloads of a component's files per UTC day (recent ones break search ties)."""

    __tablename__ = "download_counts"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class SearchVersion(Base):
    """One row, bumped by every write to the built-in index: replicas compare it to know when
    their cached vocabulary is stale (a primary-key read instead of a table scan)."""

    __tablename__ = "search_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
