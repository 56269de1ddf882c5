"""`GET /api/v1/mirror`: what a mirror follows, how far it got, which files it refused."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from sqlalchemy import select

from pysetl_hub_schemas.mirror import MIRROR_STATUS_PATH, MirrorFailureInfo, MirrorStatus
from pysetl_hub_server.db.models import MirrorFailure, MirrorState
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _


@get(MIRROR_STATUS_PATH, tags=["mirror"], summary="A read-only mirror's status and refused files")
async def mirror_status(hub: NamedDependency[Hub]) -> MirrorStatus:
    async with hub.sessions() as session:
        state = await session.get(MirrorState, 1)
        if state is None:
            raise NotFound(
                "mirror.none",
                _(
                    "this hub is not a mirror: it follows no origin (start one with "
                    "`pysetl-hub-server mirror --from URL`)"
                ),
            )
        failures = await session.scalars(select(MirrorFailure).order_by(MirrorFailure.serial))
        return MirrorStatus(
            origin=state.origin,
            key_id=state.key_id,
            cursor=state.cursor,
            last_success=state.last_success,
            last_error=state.last_error,
            failures=[
                MirrorFailureInfo(
                    filename=f.filename,
                    component=f.component,
                    serial=f.serial,
                    code=f.code,
                    reason=f.reason,
                    attempts=f.attempts,
                    first_seen=f.first_seen,
                    next_try=f.next_try,
                )
                for f in failures
            ],
        )


ROUTES = [mirror_status]
