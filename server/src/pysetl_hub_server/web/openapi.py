"""The API reference: the hub's OpenAPI document rendered as a page of its own.

Rendered on the server from the same document `/schema/openapi.json` serves, in the hub's
shell: every operation by tag (method, path, summary, parameters, request body, responses) and
every schema with its fields. No script runs, so the page works on a network with no route to
a CDN, keeps the strict Content Security Policy, mirrors for right-to-left readers and meets
the accessibility bar the other pages meet (a script viewer such as Swagger UI did not:
unlabelled controls, nested buttons and low-contrast text under axe-core)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

from pysetl_hub_server.web.context import bare_page

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    required: bool
    description: str
    where: str = ""  # a parameter's location: path, query, header, cookie


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    parameters: list[Field]
    body: str | None
    responses: list[tuple[str, str, str | None]]  # status, description, type


@dataclass(slots=True)
class Reference:
    title: str
    version: str
    description: str
    tags: dict[str, list[Operation]] = field(default_factory=dict)
    schemas: dict[str, list[Field]] = field(default_factory=dict)


def type_of(schema: dict[str, Any] | None) -> str:
    """A schema in a few words: `ComponentPage`, `array of string`, `integer | null`."""
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " | ".join(type_of(s) for s in schema[key])
    kind = schema.get("type", "")
    if kind == "array":
        return f"array of {type_of(schema.get('items'))}"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    return str(kind or schema.get("format", ""))


def _media_type(content: dict[str, Any] | None) -> str | None:
    for media in (content or {}).values():
        return type_of(media.get("schema"))
    return None


def _operation(path: str, method: str, op: dict[str, Any]) -> Operation:
    parameters = [
        Field(
            p.get("name", ""),
            type_of(p.get("schema")),
            bool(p.get("required")),
            p.get("description", ""),
            p.get("in", ""),
        )
        for p in op.get("parameters", [])
    ]
    responses = [
        (str(code), r.get("description", ""), _media_type(r.get("content")))
        for code, r in sorted(op.get("responses", {}).items())
    ]
    body = _media_type(op.get("requestBody", {}).get("content"))
    anchor = op.get("operationId") or f"{method}-{path}"
    return Operation(
        method.upper(), path, op.get("summary", ""), op.get("description", ""), anchor,
        parameters, body, responses,
    )  # fmt: skip


def reference(document: dict[str, Any]) -> Reference:
    info = document.get("info", {})
    ref = Reference(info.get("title", ""), info.get("version", ""), info.get("description", ""))
    for path, item in sorted(document.get("paths", {}).items()):
        for method in METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["other"])[0]
                ref.tags.setdefault(tag, []).append(_operation(path, method, op))
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        ref.schemas[name] = [
            Field(prop, type_of(sub), prop in required, sub.get("description", ""))
            for prop, sub in schema.get("properties", {}).items()
        ]
    ref.tags = dict(sorted(ref.tags.items()))
    return ref


class ApiReference(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/reference"])

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        _, html = bare_page(
            request,
            "api.html",
            spec_url=self.get_openapi_json_route(request),
            api=reference(openapi_schema),
        )
        return html.encode()
