"""A bare Litestar app returning a precomputed page: the ceiling the hub is compared with.

`python bare_app.py PORT [granian|uvicorn]`: the same two servers `pysetl-hub-server serve`
can run on, with one worker each.
"""

from __future__ import annotations

import sys

from litestar import Litestar, Response, get

PAGE = b"<!DOCTYPE html><html><body>" + b'<a href="/x">x</a><br>' * 10 + b"</body></html>"


@get("/")
async def page() -> Response[bytes]:
    return Response(PAGE, media_type="text/html")


app = Litestar([page])

if __name__ == "__main__":
    port = int(sys.argv[1])
    if sys.argv[2:] == ["uvicorn"]:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    else:
        from pathlib import Path

        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            "bare_app:app",
            address="127.0.0.1",
            port=port,
            interface=Interfaces.ASGI,
            working_dir=Path(__file__).parent,
            log_level="warning",  # type: ignore[arg-type]
        ).serve()
