"""Schema evolution: old peers keep working as the wire contract grows.

Requests are strict and responses lenient (schemas/base.py). These tests hold the contract to
what that promises: a payload an older client sent still decodes on the server, and a response
carrying fields an older client does not know still decodes on that client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

import pysetl_hub_schemas as schemas
from pysetl_hub_schemas import (
    Compatibility,
    Component,
    EntryPoint,
    FileInfo,
    PlatformCheck,
    Problem,
    Publisher,
    PublisherList,
    Release,
    Request,
    Response,
    SearchHit,
    SearchResults,
    TrustedPublisher,
)

STRUCTS = [
    obj
    for obj in vars(schemas).values()
    if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj not in (Request, Response)
]

# Required fields of each wire type as pysetl-hub 0.1.0 shipped them. A field added later must
# have a default, or a peer built against 0.1.0 breaks; a new wire type starts its own entry.
REQUIRED_IN_0_1: dict[str, set[str]] = {
    "EntryPoint": {"group", "name", "value", "kind"},
    "FileInfo": {"filename", "url", "packagetype", "size", "hashes", "upload_time"},
    "PlatformCheck": {"version", "compatible"},
    "Compatibility": set(),
    "Release": {"name", "version"},
    "ComponentSummary": {"name"},
    "ComponentPage": {"items", "page", "per_page", "total"},
    "Component": {"name", "display_name"},
    "YankRequest": set(),
    "UploadResult": {"name", "version", "filename", "sha256", "created", "url"},
    "Problem": set(),
    "Health": {"status"},
    "SearchHit": {"name"},
    "SearchResults": {"query", "hits", "total", "page", "per_page"},
    "Publisher": {"kind"},
    "PublisherRequest": {"kind"},
    "TrustedPublisher": {"id", "publisher", "spec", "added"},
    "PublisherList": {"component", "require_attestations", "publishers"},
    "ComponentSettings": set(),
    "AttestationBundle": {"publisher", "attestations"},
    "Provenance": set(),
}


def _required(struct: type[msgspec.Struct]) -> set[str]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name for f in info.fields if f.required}


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda s: s.__name__)
def test_no_field_became_required(struct: type[msgspec.Struct]) -> None:
    if struct.__name__ not in REQUIRED_IN_0_1:
        return  # a wire type newer than 0.1.0: no older peer knows it
    added = _required(struct) - REQUIRED_IN_0_1[struct.__name__]
    assert not added, f"{struct.__name__}: {sorted(added)} required, which older peers never send"


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda s: s.__name__)
def test_requests_are_strict_and_responses_lenient(struct: type[msgspec.Struct]) -> None:
    config = struct.__struct_config__
    if issubclass(struct, Request):
        assert config.forbid_unknown_fields, f"{struct.__name__} must reject unknown fields"
    else:
        assert issubclass(struct, Response), f"{struct.__name__} derives from neither base"
        assert not config.forbid_unknown_fields, f"{struct.__name__} must ignore unknown fields"


# Request bodies exactly as the 0.1.0 client sent them.
OLD_CLIENT_PAYLOADS: list[tuple[type[msgspec.Struct], bytes]] = [
    (schemas.YankRequest, b'{"reason": "broken totals"}'),
    (schemas.YankRequest, b"{}"),
    (
        schemas.PublisherRequest,
        b'{"kind": "github", "repository": "acme/dedupe", "workflow": "release.yml"}',
    ),
    (
        schemas.PublisherRequest,
        b'{"kind": "sigstore", "issuer": "https://issuer.example", "identity": "a@example.org"}',
    ),
    (schemas.ComponentSettings, b'{"require_attestations": true}'),
]


@pytest.mark.parametrize(("struct", "body"), OLD_CLIENT_PAYLOADS)
def test_old_client_payloads_decode_on_the_server(
    struct: type[msgspec.Struct], body: bytes
) -> None:
    decoded = msgspec.json.decode(body, type=struct)
    assert msgspec.to_builtins(decoded).items() >= msgspec.json.decode(body).items()


def test_a_typo_in_a_request_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(b'{"reasn": "x"}', type=schemas.YankRequest)


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SIGNER = Publisher(kind="github", repository="acme/dedupe", workflow="release.yml")
FILE = FileInfo(
    filename="csv_dedupe-1.0.0-py3-none-any.whl",
    url="/files/" + "a" * 64 + "/csv_dedupe-1.0.0-py3-none-any.whl",
    packagetype="bdist_wheel",
    size=1234,
    hashes={"sha256": "a" * 64},
    upload_time=NOW,
    signer=SIGNER,
)
RELEASE = Release(
    name="csv-dedupe",
    version="1.0.0",
    entry_points=[
        EntryPoint(group="pysetl.factories", name="Dedupe", value="m:Dedupe", kind="factory")
    ],
    compatibility=Compatibility(python_matrix=[PlatformCheck(version="3.11", compatible=True)]),
    files=[FILE],
)
NEWER_SERVER_RESPONSES: list[Response] = [
    Component(name="csv-dedupe", display_name="csv-dedupe", latest=RELEASE, releases=[RELEASE]),
    SearchResults(
        query="dedupe", hits=[SearchHit(name="csv-dedupe")], total=1, page=1, per_page=20
    ),
    PublisherList(
        component="csv-dedupe",
        require_attestations=True,
        publishers=[TrustedPublisher(id=1, publisher=SIGNER, spec=str(SIGNER), added=NOW)],
    ),
    Problem(title="Not Found", status=404, detail="no such thing", code="component.missing"),
]


def _grow(value: Any) -> Any:
    """The same data as a newer server would send it: an unknown field in every object."""
    if isinstance(value, msgspec.Struct):
        grown = {f: _grow(getattr(value, f)) for f in value.__struct_fields__}
        grown["added_later"] = {"nested": [1, "two", None]}
        return grown
    if isinstance(value, list):
        return [_grow(v) for v in value]
    if isinstance(value, dict):
        return {k: _grow(v) for k, v in value.items()}
    return msgspec.to_builtins(value)


@pytest.mark.parametrize("response", NEWER_SERVER_RESPONSES, ids=lambda r: type(r).__name__)
def test_unknown_response_fields_decode_on_the_client(response: Response) -> None:
    body = msgspec.json.encode(_grow(response))
    assert b"added_later" in body
    assert msgspec.json.decode(body, type=type(response)) == response


@pytest.mark.parametrize("response", NEWER_SERVER_RESPONSES, ids=lambda r: type(r).__name__)
def test_a_lean_older_server_response_decodes(response: Response) -> None:
    """Fields a 0.1.0 server did not send yet fall back to their defaults on the client."""
    full = msgspec.to_builtins(response)
    required = REQUIRED_IN_0_1[type(response).__name__]
    lean = {k: v for k, v in full.items() if k in required}
    decoded = msgspec.json.decode(msgspec.json.encode(lean), type=type(response))
    assert all(getattr(decoded, k) == getattr(response, k) for k in required)
