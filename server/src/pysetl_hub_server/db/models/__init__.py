"""SQLAlchemy 2 models, one module per part of the hub. Alembic migrations (db/migrations) are
the source of the schema; importing this package registers every table on `Base.metadata`."""

from pysetl_hub_server.db.models.accounts import ApiToken, OidcJti, RecoveryCode, User, WebSession
from pysetl_hub_server.db.models.advisories import Advisory
from pysetl_hub_server.db.models.audit import AuditEvent, AuditHead
from pysetl_hub_server.db.models.base import NAMING, Base, Id, UTCDateTime, utcnow
from pysetl_hub_server.db.models.catalog import (
    Component,
    DownloadCount,
    File,
    FilenameRegistry,
    PendingBlobDelete,
    Release,
    TrustedPublisher,
)
from pysetl_hub_server.db.models.downloads import FileDownloadCount
from pysetl_hub_server.db.models.governance import (
    Invitation,
    Organization,
    OrgMember,
    ProhibitedName,
    ReservedPrefix,
    Role,
    ServerFlag,
    Team,
    TeamMember,
    TeamRole,
)
from pysetl_hub_server.db.models.mirror import MirrorFailure, MirrorState
from pysetl_hub_server.db.models.search import SearchDoc, SearchOutbox, SearchTag, SearchVersion
from pysetl_hub_server.db.models.signals import FileFacts, QualityScore
from pysetl_hub_server.db.models.webhooks import (
    Webhook,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
)

__all__ = [
    "NAMING",
    "Advisory",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Component",
    "DownloadCount",
    "File",
    "FileDownloadCount",
    "FileFacts",
    "FilenameRegistry",
    "Id",
    "Invitation",
    "MirrorFailure",
    "MirrorState",
    "OidcJti",
    "OrgMember",
    "Organization",
    "PendingBlobDelete",
    "ProhibitedName",
    "QualityScore",
    "RecoveryCode",
    "Release",
    "ReservedPrefix",
    "Role",
    "SearchDoc",
    "SearchOutbox",
    "SearchTag",
    "SearchVersion",
    "ServerFlag",
    "Team",
    "TeamMember",
    "TeamRole",
    "TrustedPublisher",
    "UTCDateTime",
    "User",
    "WebSession",
    "Webhook",
    "WebhookAttempt",
    "WebhookCursor",
    "WebhookDelivery",
    "utcnow",
]
