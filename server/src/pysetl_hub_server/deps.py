"""Dependency providers shared by every domain's controllers."""

from __future__ import annotations

from litestar.datastructures import State

from pysetl_hub_server.runtime import Hub


def provide_hub(state: State) -> Hub:
    hub: Hub = state.hub
    return hub
