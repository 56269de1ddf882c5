"""A read-only mirror's status (`GET /api/v1/mirror`): whom it follows, how far it got, and
the files it refused (a hash or an attestation that did not verify) or could not fetch yet."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import Response

MIRROR_STATUS_PATH = "/api/v1/mirror"


class MirrorFailureInfo(Response):
    """A file of the origin this mirror does not serve (yet)."""

    filename: str
    component: str
    serial: Annotated[int, Meta(description="The origin's serial of the file.upload change.")]
    code: Annotated[
        str, Meta(examples=["mirror.sha256_mismatch", "mirror.download", "attestation.identity"])
    ]
    reason: str
    attempts: int
    first_seen: datetime
    next_try: datetime


class MirrorStatus(Response):
    """Where the mirror stands. `cursor` is the last origin serial it applied."""

    origin: str
    key_id: Annotated[str, Meta(description="The origin's feed key, pinned at the first start.")]
    cursor: int
    last_success: datetime | None
    last_error: Annotated[
        str | None, Meta(description="Why the last attempt to follow failed; None when it worked.")
    ]
    failures: list[MirrorFailureInfo]
