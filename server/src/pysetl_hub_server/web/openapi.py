"""The API reference: Swagger UI, vendored and served by the hub, started by a script file
(no inline script, so the page keeps the strict Content Security Policy)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

from pysetl_hub_server.web.context import bare_page


class ApiReference(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/reference"])

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        _, html = bare_page(request, "api.html", spec_url=self.get_openapi_json_route(request))
        return html.encode()
