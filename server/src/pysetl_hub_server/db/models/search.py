"""Derived data: rebuilt from the catalogue by `search reindex`. The full-text structures (an FTS5
table on SQLite; a tsvector column and trigram index on PostgreSQL) are created by the
migration only, per dialect; see `search.dialects`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


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
    # The quality score (quality/): `sort=quality`, `min_quality=`.
    quality: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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


class SearchVersion(Base):
    """One row, bumped by every write to the built-in index: replicas compare it to know when
    their cached vocabulary is stale (a primary-key read instead of a table scan)."""

    __tablename__ = "search_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
