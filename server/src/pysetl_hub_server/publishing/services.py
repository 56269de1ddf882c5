"""The publish pipeline: validate, store the blob, record the release in one transaction.

Order matters for the atomicity invariant: every check runs on the spooled file first; the
blob is written (content-addressed, so a retry rewrites nothing) before the database commit;
the filename registry row is inserted in the same transaction, so concurrent uploads of one
filename race on its primary key and exactly one wins. A failure before commit deletes the
blob again unless a committed file already references it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from packaging.metadata import Metadata
from packaging.utils import canonicalize_version
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import PYSETL_DIST, SPARK_DIST
from pysetl_hub_server.accounts.permissions import Identity, authorize, require_user_wide
from pysetl_hub_server.anomalies.publish import after_publish
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.components.compat import evaluate, platform_specifier
from pysetl_hub_server.components.create import create_component
from pysetl_hub_server.db.models import Component, File, FilenameRegistry, Release
from pysetl_hub_server.errors import Conflict
from pysetl_hub_server.governance.quarantine import refuse_if_quarantined
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance.publishers import trusted
from pysetl_hub_server.provenance.uploads import Policy, Signed, check_upload
from pysetl_hub_server.publishing import validate
from pysetl_hub_server.publishing.entrypoints import EntryPointInfo, pysetl_entry_points
from pysetl_hub_server.publishing.form import UploadedFile, UploadForm
from pysetl_hub_server.publishing.metadata import parse_metadata
from pysetl_hub_server.simple.services import file_url
from pysetl_hub_server.storage.blobs import blob_key
from pysetl_hub_server.storage.pending import record_now, referenced

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    name: str
    version: str
    filename: str
    sha256: str
    created: bool
    url: str


@dataclass(frozen=True, slots=True)
class _Checked:
    parsed: validate.ParsedFilename
    file: UploadedFile
    metadata: Metadata
    metadata_raw: bytes
    entry_points: list[EntryPointInfo]
    signed: Signed | None


async def publish(hub: Hub, who: Identity, form: UploadForm) -> PublishOutcome:
    file = validate.check_form(form)
    parsed = validate.parse_filename(file.filename)
    validate.check_form_agrees(form, parsed)
    validate.check_digests(form, file)
    # Permission before existence: who may not upload here learns nothing of what is stored.
    policy = await _authorize(hub, who, parsed)

    existing = await _existing_outcome(hub, parsed, file)
    if existing is not None:
        return existing

    contents = await asyncio.to_thread(validate.inspect, file.path, parsed, hub.settings.uploads)
    metadata = parse_metadata(contents.metadata, parsed, hub.settings.uploads)
    entry_points = pysetl_entry_points(contents)
    signed = await check_upload(
        form.get("attestations"),
        filename=parsed.filename,
        sha256=file.sha256,
        policy=policy,
        trust_root=hub.trust_root,
    )
    checked = _Checked(parsed, file, metadata, contents.metadata, entry_points, signed)

    metadata_sha = hashlib.sha256(contents.metadata).hexdigest()
    try:
        # Inside the try: when the metadata blob finds the disk full, the file blob goes too.
        await hub.blobs.put_file(blob_key(file.sha256), file.path)
        if parsed.packagetype == "bdist_wheel":
            await hub.blobs.put_bytes(blob_key(metadata_sha), contents.metadata)
        hub.faults.check("publish.after_blob_write")
        outcome = await _record(hub, who, checked, metadata_sha)
    except BaseException:
        await _drop_unreferenced(hub, file.sha256, metadata_sha)
        raise
    if outcome.created:
        # Reads the new file's facts (quality/) and raises anomaly flags; never fails the publish.
        await after_publish(hub, who, outcome.filename)
    hub.changed(parsed.name)
    return outcome


async def _existing_outcome(
    hub: Hub, parsed: validate.ParsedFilename, file: UploadedFile
) -> PublishOutcome | None:
    """A filename seen before: the same bytes are a no-op, anything else a conflict. A new
    filename whose bytes are already published under another name is a conflict too: one file
    would answer to two names (and two versions), and the second tells an installer nothing."""
    async with hub.sessions() as session:
        row = await session.get(FilenameRegistry, parsed.filename)
        if row is None:
            other = await session.scalar(
                select(File.filename).where(File.sha256 == file.sha256).limit(1)
            )
            if other is not None:
                raise Conflict(
                    "file.duplicate_content",
                    _(
                        "these bytes are already published as {other!r}: a file has one name; "
                        "build the distribution for this name and version, or install the other",
                        other=other,
                    ),
                )
            return None
        live = await session.scalar(select(File.id).where(File.filename == parsed.filename))
    return _outcome_for_existing(hub, parsed, file, row.sha256, live is not None)


def _outcome_for_existing(
    hub: Hub, parsed: validate.ParsedFilename, file: UploadedFile, sha256: str, live: bool
) -> PublishOutcome:
    if sha256 != file.sha256:
        raise Conflict(
            "file.exists",
            _(
                "{filename!r} was already published with different contents: a filename can "
                "never be reused; bump the version (or add a build tag) and upload again",
                filename=parsed.filename,
            ),
        )
    if not live:
        raise Conflict(
            "file.deleted",
            _(
                "{filename!r} was published and later deleted: its name cannot be reused; bump "
                "the version",
                filename=parsed.filename,
            ),
        )
    hub.changed(parsed.name)
    return PublishOutcome(
        parsed.name,
        str(parsed.version),
        parsed.filename,
        sha256,
        False,
        file_url(sha256, parsed.filename),
    )


async def _authorize(hub: Hub, who: Identity, parsed: validate.ParsedFilename) -> Policy:
    """May `who` upload this file, and what does the component ask of its provenance?"""
    async with hub.sessions() as session:
        component = await session.scalar(select(Component).where(Component.name == parsed.name))
        if component is not None:
            await authorize(session, who, component, "upload")
            await refuse_if_quarantined(session, component)
            return Policy(
                component.display_name,
                await trusted(session, component.id),
                component.require_attestations,
            )
        require_user_wide(who, parsed.name)
        return Policy(parsed.name, [], require_attestations=False)


async def _record(hub: Hub, who: Identity, c: _Checked, metadata_sha: str) -> PublishOutcome:
    for attempt in range(3):
        try:
            async with hub.sessions() as session:
                return await _record_in(hub, session, who, c, metadata_sha)
        except IntegrityError:
            # Someone committed the same filename, component or release first. Re-read and
            # decide: the same bytes are a no-op, other bytes a conflict; a racing component
            # or release creation is retried against the winner's rows.
            async with hub.sessions() as session:
                row = await session.get(FilenameRegistry, c.parsed.filename)
                live = row is not None and (
                    await session.scalar(select(File.id).where(File.filename == row.filename))
                    is not None
                )
            if row is not None:
                return _outcome_for_existing(hub, c.parsed, c.file, row.sha256, live)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _record_in(
    hub: Hub, session: AsyncSession, who: Identity, c: _Checked, metadata_sha: str
) -> PublishOutcome:
    parsed, meta = c.parsed, c.metadata
    session.add(FilenameRegistry(filename=parsed.filename, sha256=c.file.sha256))
    await session.flush()

    component = await session.scalar(select(Component).where(Component.name == parsed.name))
    if component is None:
        component = await create_component(session, who, parsed.name, meta.name, limits=hub.limits)
    else:
        await authorize(session, who, component, "upload")
        await refuse_if_quarantined(session, component)

    canonical = canonicalize_version(parsed.version)
    release = await session.scalar(
        select(Release).where(
            Release.component_id == component.id, Release.canonical_version == canonical
        )
    )
    if release is None:
        release = _new_release(hub, component, c)
        session.add(release)
        await session.flush()
        await touch(
            session,
            component,
            "release.create",
            actor=who.actor,
            detail={"version": release.version},
        )
    else:
        _merge_kinds(release, c.entry_points)

    requires_python = str(meta.requires_python) if meta.requires_python else None
    session.add(
        File(
            release_id=release.id,
            filename=parsed.filename,
            packagetype=parsed.packagetype,
            size=c.file.size,
            sha256=c.file.sha256,
            blake2b_256=c.file.blake2b_256,
            metadata_sha256=metadata_sha if parsed.packagetype == "bdist_wheel" else None,
            requires_python=requires_python,
            provenance=c.signed.provenance if c.signed else None,
            signer=c.signed.signer if c.signed else None,
            uploader_id=who.user_id,
        )
    )
    await touch(
        session,
        component,
        "file.upload",
        actor=who.actor,
        detail={"filename": parsed.filename, "sha256": c.file.sha256, "token": who.token_id},
    )
    await session.flush()
    hub.faults.check("publish.before_commit")
    await session.commit()
    hub.faults.check("publish.after_commit")
    return PublishOutcome(
        parsed.name,
        release.version,
        parsed.filename,
        c.file.sha256,
        True,
        file_url(c.file.sha256, parsed.filename),
    )


def _new_release(hub: Hub, component: Component, c: _Checked) -> Release:
    meta = c.metadata
    requires = list(meta.requires_dist or [])
    requires_python = str(meta.requires_python) if meta.requires_python else None
    pysetl = platform_specifier(requires, PYSETL_DIST)
    pyspark = platform_specifier(requires, SPARK_DIST)
    license_text = meta.license_expression or meta.license
    urls = dict(meta.project_urls or {})
    if meta.home_page and meta.home_page != "UNKNOWN" and "Homepage" not in urls:
        urls["Homepage"] = meta.home_page
    return Release(
        component_id=component.id,
        version=str(c.parsed.version),
        canonical_version=canonicalize_version(c.parsed.version),
        is_prerelease=c.parsed.version.is_prerelease,
        summary=meta.summary,
        description=meta.description,
        description_content_type=meta.description_content_type,
        license=license_text,
        author=meta.author or meta.author_email,
        keywords=list(meta.keywords or []),
        project_urls=urls,
        requires_python=requires_python,
        pysetl_specifier=pysetl,
        pyspark_specifier=pyspark,
        requires_dist=[str(r) for r in requires],
        kinds=sorted({e.kind for e in c.entry_points}),
        entry_points=[
            {"group": e.group, "name": e.name, "value": e.value, "kind": e.kind}
            for e in c.entry_points
        ],
        compat=evaluate(
            hub.settings.platforms,
            requires_python=requires_python,
            pysetl=pysetl,
            pyspark=pyspark,
        ),
    )


def _merge_kinds(release: Release, entry_points: list[EntryPointInfo]) -> None:
    """A later file of the same release (the sdist after the wheel) adds what it declares."""
    known = {(e["group"], e["name"]) for e in release.entry_points}
    extra = [
        {"group": e.group, "name": e.name, "value": e.value, "kind": e.kind}
        for e in entry_points
        if (e.group, e.name) not in known
    ]
    if extra:
        release.entry_points = [*release.entry_points, *extra]
        release.kinds = sorted({*release.kinds, *(e["kind"] for e in extra)})


async def _drop_unreferenced(hub: Hub, sha256: str, metadata_sha: str) -> None:
    """Undo the blob write of a publish that did not commit (unless another file uses it).
    Never raises: the publish's own error is the answer. Blobs the store (or the database)
    cannot drop now are recorded for the sweep (`storage.pending`); if even that cannot be
    written, the log names them."""
    digests = {sha256, metadata_sha}
    try:
        async with hub.sessions() as session:
            used = await referenced(session, digests)
        for digest in sorted(digests - used):
            await hub.blobs.delete(blob_key(digest))
        return
    except Exception:
        log.warning("cannot drop the blobs of a failed publish now", exc_info=True)
    try:
        await record_now(hub.sessions, digests)
    except Exception:
        log.error(
            "blobs %s of a failed publish stay in the store (unreferenced)",
            sorted(digests),
            exc_info=True,
        )
