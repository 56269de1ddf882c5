"""Dependency providers shared by every domain's controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from pysetl_hub_server.accounts.services import Identity, identify
from pysetl_hub_server.hub import Hub


def provide_hub(state: State) -> Hub:
    hub: Hub = state.hub
    return hub


async def provide_identity(
    hub: NamedDependency[Hub],
    authorization: Annotated[
        str | None,
        HeaderParameter(
            name="Authorization",
            description="`Bearer <API token>`, or HTTP Basic with `__token__` as the user",
        ),
    ] = None,
) -> Identity:
    """Who the request acts as; a 401 problem when the token is missing or bad.

    Only handlers that name the `who` dependency authenticate, in a session of their own.
    """
    return await identify(hub, authorization)
