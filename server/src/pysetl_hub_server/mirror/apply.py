"""Applying one change of the origin's feed to this hub, through the hub's own services.

Files go through the publish pipeline (`publishing.services.publish`), as a local upload by
the mirror's account would: the same archive checks, the same metadata parsing, and the
attestations verified against this component's trusted publishers (copied from the origin)
with the verifier the hub uses at upload. A file whose attestation fails is refused like an
upload would be, so it is never served. Every service is idempotent here: a change applied
twice (the mirror stopped between applying and storing its cursor) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import msgspec
from packaging.utils import parse_wheel_filename
from sqlalchemy import select

from pysetl_hub_schemas import PublisherList, PublisherRequest
from pysetl_hub_schemas.feed import Change, FeedFile
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.components.services import set_yanked
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.governance import deletion, quarantine
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.mirror.origin import Origin, OriginError
from pysetl_hub_server.provenance import publishers
from pysetl_hub_server.publishing.form import UploadForm
from pysetl_hub_server.publishing.services import publish

log = logging.getLogger(__name__)

MIRROR_USER = "mirror"


@dataclass(frozen=True, slots=True)
class Applier:
    hub: Hub
    origin: Origin
    who: Identity

    async def apply(self, change: Change) -> None:
        """Apply `change`; raises `OriginError` (or a refusing `HubError`) for a file it could
        not copy, which the follower records and retries. Other changes never raise: one that
        no longer fits (its release was never copied) is logged and skipped."""
        action, name = change.action, change.component
        if action == "file.upload" and change.file is not None and name:
            await self.copy_file(name, change.file)
            return
        if not name:
            return  # prohibited names, advisories: not mirrored
        try:
            await self._other(action, name, change)
        except HubError as exc:  # already so here, or its release was never copied
            log.info("mirror: %s of %s at serial %s skipped: %s", action, name, change.serial, exc)

    async def _other(self, action: str, name: str, change: Change) -> None:
        hub, who = self.hub, self.who
        if action in ("release.yank", "release.unyank") and change.version:
            await set_yanked(
                hub,
                who,
                name,
                change.version,
                yanked=action == "release.yank",
                reason=change.yanked_reason or "",
            )
        elif action == "file.delete" and change.version:
            for filename in change.filenames:
                await deletion.delete_file(hub, who, name, change.version, filename)
        elif action == "release.delete" and change.version:
            await deletion.delete_release(hub, who, name, change.version)
        elif action == "component.quarantine":
            await quarantine.quarantine(
                hub, who.actor, name, f"quarantined on the origin {self.origin.base}"
            )
        elif action == "component.release":
            await quarantine.release(hub, who.actor, name)
        elif action == "publisher.add" and change.publisher:
            await self._add_publisher(name, change.publisher)
        elif action == "publisher.remove" and change.publisher:
            await self._remove_publisher(name, change.publisher)

    async def copy_file(self, name: str, file: FeedFile) -> None:
        attestations = None
        if file.provenance_url:
            attestations = msgspec.json.encode(
                await self.origin.attestations(file.provenance_url)
            ).decode()
        uploaded = await self.origin.download(
            file, self.hub.spool_dir, self.hub.settings.uploads.max_file_size
        )
        try:
            fields = {
                ":action": ["file_upload"],
                "protocol_version": ["1"],
                "name": [name],
                "version": [_version_of(file.filename)],
                "sha256_digest": [file.sha256],
            }
            if attestations is not None:
                fields["attestations"] = [attestations]
            await publish(self.hub, self.who, UploadForm(fields=fields, file=uploaded))
        finally:
            uploaded.discard()

    async def _add_publisher(self, name: str, spec: str) -> None:
        """The origin's full publisher (with its environment, which the spec leaves out)."""
        response = await self.origin.get(f"/api/v1/components/{name}/publishers")
        try:
            listed = msgspec.json.decode(response.content, type=PublisherList)
        except msgspec.ValidationError as exc:
            raise OriginError("mirror.publishers", f"{name}: bad publisher list: {exc}") from exc
        found = next((p.publisher for p in listed.publishers if p.spec == spec), None)
        if found is None:
            log.info("mirror: publisher %s of %s is gone on the origin; skipped", spec, name)
            return
        request = PublisherRequest(**msgspec.structs.asdict(found))
        await publishers.add_publisher(self.hub, self.who, name, request)

    async def _remove_publisher(self, name: str, spec: str) -> None:
        async with self.hub.sessions() as session:
            row_id = await session.scalar(
                select(models.TrustedPublisher.id)
                .join(models.Component, models.Component.id == models.TrustedPublisher.component_id)
                .where(models.Component.name == name, models.TrustedPublisher.spec == spec)
            )
        if row_id is not None:
            await publishers.remove_publisher(self.hub, self.who, name, row_id)


def _version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[1])
    return filename.removesuffix(".tar.gz").rpartition("-")[2]


async def mirror_identity(hub: Hub) -> Identity:
    """The local account that owns what the mirror copies (made at the first start; it has
    no usable password: nobody signs in as it, and the hub refuses writes anyway)."""
    import secrets

    from pysetl_hub_server.accounts.services import create_user

    async with hub.sessions() as session:
        user = await session.scalar(select(models.User).where(models.User.username == MIRROR_USER))
        if user is None:
            user = await create_user(
                session, MIRROR_USER, "mirror@localhost.localdomain", secrets.token_urlsafe(32)
            )
            await session.commit()
        return Identity(user_id=user.id, username=user.username, token_id=None, via="session")
