"""`GET /metrics`: the Prometheus text format, behind a bearer token.

Off (404) until PYSETL_HUB_METRICS_TOKEN is set; then the scraper sends
`Authorization: Bearer <token>`, compared in constant time. Metrics name routes, problem codes
and volumes, which is more than the public should read."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.observability.sampler import database_families, sample
from pysetl_hub_server.problems import problem_response


def _bearer(header: str | None) -> bytes:
    scheme, _sep, value = (header or "").partition(" ")
    return value.strip().encode() if scheme.lower() == "bearer" else b""


@get(
    "/metrics",
    tags=["ops"],
    summary="Prometheus metrics (bearer token; 404 unless PYSETL_HUB_METRICS_TOKEN is set)",
    media_type="text/plain",
)
async def metrics_endpoint(
    request: Request[Any, Any, Any], hub: NamedDependency[Hub]
) -> Response[bytes]:
    token = hub.settings.metrics_token
    if not token:
        raise NotFound(
            "metrics.off",
            _(
                "metrics are off on this hub: the operator turns them on by setting "
                "PYSETL_HUB_METRICS_TOKEN"
            ),
        )
    if not hmac.compare_digest(_bearer(request.headers.get("authorization")), token.encode()):
        return problem_response(
            request,
            401,
            "Unauthorized",
            _("send the metrics token as `Authorization: Bearer <token>`"),
            code="metrics.token",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    sample(hub, [request.app.state.web_memo, request.app.state.search_memo])
    families = await database_families(hub)
    body, content_type = metrics.exposition(lambda: families)
    return Response(body, media_type=content_type)
