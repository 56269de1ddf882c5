"""The audit trail as its readers see it: `GET /api/v1/components/{name}/events` (owners),
`GET /api/v1/me/events` (a user's own security events) and `GET /api/v1/admin/events`.

Newest first, a page at a time: `next_before` is the `before` of the next (older) page.
An event's IP address and user agent are shown only to an admin, to the user who did it, and
to the user it is about (`target` `user:<name>`); e-mail addresses are never shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from pysetl_hub_schemas.base import Response


class AuditEvent(Response):
    """One privileged action: what, by whom, on what, when."""

    id: Annotated[int, Meta(description="Serial of the event (the hub's journal position).")]
    created: datetime
    action: Annotated[str, Meta(examples=["file.upload", "token.create", "release.yank"])]
    actor: Annotated[
        str,
        Meta(
            description="A username, `publisher:<spec>` for a trusted publisher, or `admin-cli`.",
            examples=["alice", "publisher:github:acme/csv-dedupe/release.yml"],
        ),
    ]
    target: Annotated[str, Meta(examples=["component:csv-dedupe", "user:alice"])] = ""
    component: str | None = None  # display name, while the component exists
    detail: dict[str, Any] = {}
    ip: str | None = None  # None when not shown to this reader (or not known)
    user_agent: str | None = None


class AuditEventPage(Response):
    """A page of events, newest first."""

    events: list[AuditEvent]
    next_before: Annotated[
        int | None, Meta(description="Pass as `before` for the next, older page; None at the end.")
    ] = None
