"""Webhooks: `/api/v1/me/webhooks` and `/api/v1/orgs/{org}/webhooks`, the body the hub POSTs,
and how a receiver checks it (`verify_signature`).

Each delivery is a POST of a `WebhookPayload` (JSON) with the headers
`X-Hub-Signature-256: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`,
`X-Hub-Event: <action>` and `X-Hub-Delivery: <delivery id>`. Deliveries are at least once
(a receiver may see one twice: key on `delivery`, or on `change.serial`) and in no promised
order (order by `change.serial`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import Request, Response
from pysetl_hub_schemas.feed import Change

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-Hub-Event"
DELIVERY_HEADER = "X-Hub-Delivery"
# Seconds a receiver accepts a signature's timestamp off its own clock: a captured delivery
# replayed later than this is refused.
REPLAY_WINDOW = 300

WebhookUrl = Annotated[
    str, Meta(max_length=2048, description="An http(s) URL.", examples=["https://ci.example/hook"])
]
WebhookEvents = Annotated[
    list[str],
    Meta(min_length=1, max_length=64, examples=[["release.create", "release.yank"]]),
]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-Hub-Signature-256` value of `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: int = REPLAY_WINDOW,
) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds of `now`.

    Give the raw body bytes as received, before any JSON parsing."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    # As bytes: compare_digest raises on a str that is not ASCII, and a header is anything.
    given = parts.get("v1", "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected.encode(), given)


class WebhookCreate(Request):
    url: WebhookUrl
    events: WebhookEvents


class WebhookUpdate(Request):
    """Only the fields given change; `active: true` re-enables a disabled webhook."""

    url: WebhookUrl | None = None
    events: WebhookEvents | None = None
    active: bool | None = None


class Webhook(Response):
    id: int
    owner: Annotated[str, Meta(examples=["user:alice", "org:acme"])]
    url: str
    events: list[str]
    active: bool
    created: datetime
    disabled_reason: str | None = None
    consecutive_failures: int = 0


class WebhookCreated(Response):
    """The new webhook and its signing secret: shown this once, never again."""

    webhook: Webhook
    secret: str


class WebhookAttempt(Response):
    at: datetime
    response_code: Annotated[int | None, Meta(description="None: no response (see error).")]
    duration_ms: int
    error: str | None = None


class WebhookDelivery(Response):
    id: int
    webhook: int
    serial: int
    action: str
    status: Annotated[str, Meta(examples=["pending", "delivered", "failed"])]
    attempts: int
    created: datetime
    next_attempt: datetime | None = None
    last_code: int | None = None
    last_error: str | None = None
    redelivery_of: int | None = None
    delivered: datetime | None = None
    log: list[WebhookAttempt] = []


class WebhookDeliveryPage(Response):
    deliveries: list[WebhookDelivery]
    next_before: int | None = None


class WebhookPayload(Response):
    """The body of each delivery."""

    webhook: int
    delivery: int
    change: Change
