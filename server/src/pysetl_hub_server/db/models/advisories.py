"""Security advisories: OSV records against a component's versions (advisories/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


class Advisory(Base):
    """One OSV record. `affected` holds the OSV affected entries without their package (it is
    the component): `[{"ranges": [{"type": "ECOSYSTEM", "events": [...]}], "versions": [...]}]`.
    A withdrawn advisory stays (OSV keeps it, with `withdrawn` set) but affects nothing."""

    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    osv_id: Mapped[str] = mapped_column(String(64), unique=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    affected: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    references: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    withdrawn: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
