"""Webhooks: subscriptions of a user or an organization, the outbox of their deliveries, each
attempt's outcome, and the dispatcher's place in the audit journal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id, UTCDateTime, utcnow


class Webhook(Base):
    """One subscription: events of a user's components (`user_id`) or an organization's
    (`org_id`), POSTed to `url`, signed with `secret`.

    The secret is stored as given: an HMAC is computed with the secret itself, so it cannot be
    kept hashed like an API token. It is shown once, at creation, and never served again.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Events up to this serial happened before the webhook existed: never delivered.
    since_serial: Mapped[int] = mapped_column(BigInteger, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """The outbox: one change to send to one webhook, until it succeeds or runs out of tries."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    serial: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(Text)  # the `Change` JSON, fixed when queued
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # A dispatcher that took the delivery holds it until then (a crashed one lets go).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    redelivery_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """The delivery log: one POST, its response code (None: no response) and duration."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class WebhookCursor(Base):
    """One row: the last serial the dispatcher turned into deliveries (moved in the same
    transaction as the deliveries it queued, so none is lost or queued twice)."""

    __tablename__ = "webhook_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(BigInteger, default=0)
