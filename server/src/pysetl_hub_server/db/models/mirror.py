"""A read-only mirror's own state: the origin it follows, the feed key it pinned, the last
serial it applied, and the files it could not copy yet (retried with backoff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, UTCDateTime, utcnow


class MirrorState(Base):
    """One row (id 1): set at the first start, the cursor moved after every applied page."""

    __tablename__ = "mirror_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(2048))
    key_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(128))  # base64 of the raw Ed25519 key
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MirrorFailure(Base):
    """A file the mirror refused or could not fetch: not served until a retry succeeds."""

    __tablename__ = "mirror_failures"

    filename: Mapped[str] = mapped_column(String(255), primary_key=True)
    component: Mapped[str] = mapped_column(String(255))
    serial: Mapped[int] = mapped_column(BigInteger)
    change: Mapped[str] = mapped_column(Text)  # the signed feed's `Change` JSON
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_try: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
