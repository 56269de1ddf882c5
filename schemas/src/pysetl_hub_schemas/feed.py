"""The hub's change feed: `GET /api/v1/changes` (signed pages), `GET /api/v1/changes/stream`
(Server-Sent Events of the same events) and the key that signs it.

A change is the public projection of one audit event: what a public index would show (names,
versions, files, yanks, owners' usernames), never where it came from (IP address, user agent),
who pressed the button, or an e-mail address. Serials only grow; `since` is exclusive.

A page's body is signed as sent: the `X-Hub-Signature` header holds the base64 Ed25519
signature of the exact response bytes, `X-Hub-Key-Id` the key that made it; the key is
published at `/.well-known/pysetl-hub/feed-key` (`FeedKey`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import Response

FEED_KEY_PATH = "/.well-known/pysetl-hub/feed-key"
SIGNATURE_HEADER = "X-Hub-Signature"
KEY_ID_HEADER = "X-Hub-Key-Id"

# The audit actions the feed publishes. Advisories are recorded by the advisories domain.
PUBLIC_ACTIONS: tuple[str, ...] = (
    "component.create",
    "release.create",
    "file.upload",
    "release.yank",
    "release.unyank",
    "file.delete",
    "release.delete",
    "role.add",
    "role.remove",
    "role.leave",
    "team.role.set",
    "team.role.remove",
    "component.transfer",
    "publisher.add",
    "publisher.remove",
    "component.quarantine",
    "component.release",
    "name.prohibit",
    "advisory.publish",
    "advisory.withdraw",
)


class FeedFile(Response):
    """A published file: everything a mirror needs to copy and check it."""

    filename: str
    sha256: str
    url: Annotated[str, Meta(description="The immutable file URL, relative to the hub.")]
    size: int | None = None  # None once the file was deleted (a later file.delete says so)
    packagetype: str | None = None
    requires_python: str | None = None
    provenance_url: Annotated[
        str | None,
        Meta(description="PEP 740 provenance of the file, relative to the hub; None unsigned."),
    ] = None


class Change(Response):
    """One public change. Fields that do not apply to the action are None (or empty)."""

    serial: Annotated[int, Meta(description="The hub's journal position; only ever grows.")]
    created: datetime
    action: Annotated[str, Meta(examples=["release.create", "file.upload", "release.yank"])]
    component: Annotated[str | None, Meta(description="Normalized (PEP 503) name.")] = None
    version: str | None = None
    file: FeedFile | None = None  # file.upload
    filenames: list[str] = []  # file.delete, release.delete
    yanked_reason: str | None = None  # release.yank
    username: str | None = None  # role.add / role.remove / role.leave
    role: str | None = None  # role.* and team.role.*
    organization: str | None = None  # team.role.*, component.transfer, name/prefix actions
    team: str | None = None  # team.role.*
    publisher: str | None = None  # publisher.add / publisher.remove
    advisory: str | None = None  # advisory.publish / advisory.withdraw: the advisory's id
    name: str | None = None  # name.prohibit: the normalized name no component may take


class ChangePage(Response):
    """Changes with `since < serial <= next`, oldest first (the signed body)."""

    since: int
    next: Annotated[
        int,
        Meta(description="Pass as `since` for the next page (a mirror stores it as its cursor)."),
    ]
    more: Annotated[bool, Meta(description="True when changes after `next` already exist.")]
    changes: list[Change]


class FeedKey(Response):
    """The public key that signs the change feed (`FEED_KEY_PATH`)."""

    key_id: Annotated[str, Meta(description="Hex SHA-256 of the raw public key, first 16 bytes.")]
    algorithm: Annotated[str, Meta(examples=["ed25519"])]
    public_key: Annotated[str, Meta(description="The raw 32-byte Ed25519 key, base64.")]
    public_key_pem: str
    signature_header: str = SIGNATURE_HEADER
    key_id_header: str = KEY_ID_HEADER
