"""`POST /legacy/`: the upload API twine speaks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, InternalServerException

from pysetl_hub_schemas import UploadResult
from pysetl_hub_server.accounts.services import identify
from pysetl_hub_server.deps import client_ip
from pysetl_hub_server.errors import BadRequest, HubError, PayloadTooLarge, RequestTimeout
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.problems import BODY_UNREAD, DISK_FULL
from pysetl_hub_server.publishing.multipart import parse_upload
from pysetl_hub_server.publishing.services import publish
from pysetl_hub_server.units import human_size

FORM_ALLOWANCE = 4 * 1024 * 1024  # room for metadata fields next to the file itself


@post(
    ["/legacy/", "/legacy"],
    status_code=200,
    request_max_body_size=None,
    summary="Upload a distribution file (legacy upload API, as `twine upload` sends it)",
    tags=["publishing"],
)
async def upload(request: Request[Any, Any, Any], hub: NamedDependency[Hub]) -> UploadResult:
    """Counted by outcome (observability/metrics.py): accepted (created or unchanged), or
    refused with the code of the problem the client got."""
    try:
        result = await _upload(request, hub)
    except HubError as exc:
        metrics.published(exc.code, accepted=False)
        raise
    except HTTPException as exc:
        metrics.published(f"http.{exc.status_code}", accepted=False)
        raise
    except OSError as exc:  # a full disk is a 507 (problems.py), anything else a 500
        metrics.published("storage.full" if exc.errno in DISK_FULL else "internal", accepted=False)
        raise
    except Exception:
        metrics.published("internal", accepted=False)
        raise
    metrics.published("created" if result.created else "unchanged", accepted=True)
    return result


async def _upload(request: Request[Any, Any, Any], hub: Hub) -> UploadResult:
    request.state[BODY_UNREAD] = True  # until the form is parsed: an error closes the connection
    limits = hub.settings.uploads
    cap = limits.max_file_size + limits.max_attestations_size + FORM_ALLOWANCE
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(
            "upload.too_large",
            _(
                "the upload is {declared}, over this hub's cap of {max_file_size} per file: "
                "make the file smaller, or ask the operator to raise PYSETL_HUB_MAX_UPLOAD_SIZE",
                declared=human_size(int(declared)),
                max_file_size=human_size(limits.max_file_size),
            ),
        )
    # Authenticated here rather than by the `who` dependency, so that an oversized declared body
    # is refused before any database work; still before a byte of the body is read.
    who = await identify(
        hub,
        request.headers.get("authorization"),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    # Counted before the body is read, so a refused upload costs the hub no bytes.
    await hub.limits.hit(
        "upload", f"token:{who.token_id}" if who.token_id else f"user:{who.user_id}"
    )

    async def capped() -> AsyncIterator[bytes]:
        total = 0
        try:
            async for chunk in request.stream():
                total += len(chunk)
                if total > cap:
                    raise PayloadTooLarge(
                        "upload.too_large",
                        _("the upload body is larger than {cap}", cap=human_size(cap)),
                    )
                yield chunk
        except InternalServerException as exc:
            # Litestar's word for a client that disconnected mid-body: a truncated upload
            # (the stream is fresh here, so "stream consumed" cannot be the cause).
            raise BadRequest(
                "form.truncated",
                _("the client disconnected before the upload body was complete; upload again"),
            ) from exc

    try:
        async with asyncio.timeout(limits.body_timeout):
            form = await parse_upload(
                request.headers.get("content-type"), capped(), limits, hub.spool_dir
            )
        request.state[BODY_UNREAD] = False
    except TimeoutError as exc:
        # The parser's cancellation path has already removed the spool file.
        raise RequestTimeout(
            "upload.timeout",
            _(
                "the upload body did not arrive within {body_timeout} s (or was shorter than "
                "its Content-Length): check the connection and upload again",
                body_timeout=limits.body_timeout,
            ),
        ) from exc
    try:
        outcome = await publish(hub, who, form)
    finally:
        if form.file is not None:
            form.file.discard()
    return UploadResult(
        name=outcome.name,
        version=outcome.version,
        filename=outcome.filename,
        sha256=outcome.sha256,
        created=outcome.created,
        url=outcome.url,
    )
