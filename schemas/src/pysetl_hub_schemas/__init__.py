"""PySetl Hub wire contract: msgspec Structs shared by the server and the client."""

from pysetl_hub_schemas.base import ComponentName, Request, Response, Sha256, Version
from pysetl_hub_schemas.components import (
    Compatibility,
    Component,
    ComponentPage,
    ComponentSummary,
    EntryPoint,
    FileInfo,
    Kind,
    PlatformCheck,
    Release,
    UploadResult,
    YankRequest,
)
from pysetl_hub_schemas.errors import Problem
from pysetl_hub_schemas.health import Health
from pysetl_hub_schemas.provenance import (
    AttestationBundle,
    ComponentSettings,
    Provenance,
    Publisher,
    PublisherKind,
    PublisherList,
    PublisherRequest,
    TrustedPublisher,
)
from pysetl_hub_schemas.search import SearchHit, SearchResults

__all__ = [
    "AttestationBundle",
    "Compatibility",
    "Component",
    "ComponentName",
    "ComponentPage",
    "ComponentSettings",
    "ComponentSummary",
    "EntryPoint",
    "FileInfo",
    "Health",
    "Kind",
    "PlatformCheck",
    "Problem",
    "Provenance",
    "Publisher",
    "PublisherKind",
    "PublisherList",
    "PublisherRequest",
    "Release",
    "Request",
    "Response",
    "SearchHit",
    "SearchResults",
    "Sha256",
    "TrustedPublisher",
    "UploadResult",
    "Version",
    "YankRequest",
]
