"""Signals derived from the catalogue: what each stored archive shows (read once, from the
blob), and each component's quality score as last computed (quality/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


class FileFacts(Base):
    """What one stored distribution file holds, read from its blob without extracting it:
    tests (sdists), `.pth` files (wheels: code run at interpreter start), and which entry
    points name an object with a docstring."""

    __tablename__ = "file_facts"

    file_id: Mapped[int] = mapped_column(
        Id, ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    has_tests: Mapped[bool] = mapped_column(Boolean, default=False)
    pth: Mapped[list[str]] = mapped_column(JSON, default=list)
    # entry point name -> its object has a docstring
    documented: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    # False when the blob could not be read (missing, unreadable): the facts say nothing.
    readable: Mapped[bool] = mapped_column(Boolean, default=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityScore(Base):
    """A component's score as stored for search (sort, filter); recomputed on every change."""

    __tablename__ = "quality_scores"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    total: Mapped[int] = mapped_column(Integer, default=0, index=True)
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The component's serial the score was computed at (its last change).
    serial: Mapped[int] = mapped_column(BigInteger, default=0)
    computed: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
