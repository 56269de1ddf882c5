"""The catalogue: components, releases, files, their trusted publishers, every filename ever
published, and download counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


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


class PendingBlobDelete(Base):
    """A blob whose file rows are gone but whose delete the store has not confirmed (it was
    down): recorded with the deletion, removed once the blob is (storage/pending.py)."""

    __tablename__ = "pending_blob_deletes"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    recorded: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DownloadCount(Base):
    """Downloads of a component's files per UTC day (recent ones break search ties)."""

    __tablename__ = "download_counts"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
