"""A bare Litestar app returning a precomputed page: the ceiling the hub is compared with."""

from __future__ import annotations

import sys

import uvicorn
from litestar import Litestar, Response, get

PAGE = b"<!DOCTYPE html><html><body>" + b'<a href="/x">x</a><br>' * 10 + b"</body></html>"


@get("/")
async def page() -> Response[bytes]:
    return Response(PAGE, media_type="text/html")


if __name__ == "__main__":
    uvicorn.run(
        Litestar([page]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=False,
        log_level="warning",
    )
