"""The append-only, hash-chained audit journal and its head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


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
