"""Typed settings, parsed once from the environment and passed to `create_app`.

Nothing here is read at import time, so tests build as many differently-configured apps as
they like in one process.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from pysetl_hub_schemas import PYSETL, PYTHON, SPARK
from pysetl_hub_server.security.secrets import SecretFileError, secret_from_env
from pysetl_hub_server.settings_sections import (
    Feed as Feed,
)
from pysetl_hub_server.settings_sections import (
    FlagThresholds as FlagThresholds,
)
from pysetl_hub_server.settings_sections import (
    SettingsError as SettingsError,
)
from pysetl_hub_server.settings_sections import (
    _feed,
    _flag,
    _positive_seconds,
)

DEFAULT_PLATFORMS_PYSETL = ("1.0.0", "1.1.0", "1.1.2", "1.2.0", "1.2.1")
DEFAULT_PLATFORMS_PYTHON = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PLATFORMS_SPARK = ("3.3.4", "3.4.4", "3.5.7", "4.0.1", "4.1.1")

MiB = 1024 * 1024
DEFAULT_MAX_UPLOAD = 50 * MiB


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """Caps applied to `POST /legacy/` while the body streams."""

    max_file_size: int = DEFAULT_MAX_UPLOAD
    max_field_size: int = 64 * 1024
    max_description_size: int = 1 * MiB
    max_attestations_size: int = 1 * MiB
    max_fields: int = 200
    max_archive_members: int = 10_000
    max_uncompressed_size: int = 512 * MiB
    # A bomb: expands past the floor *and* past the ratio to its compressed size (the public
    # index's rule); counted on the bytes really decompressed, not on declared sizes.
    bomb_floor: int = 64 * MiB
    bomb_ratio: int = 50
    # The whole body must arrive within this many seconds (slow-body attacks, and bodies
    # shorter than their Content-Length); 50 MiB in 10 minutes is ~85 KB/s.
    body_timeout: int = 600


@dataclass(frozen=True, slots=True)
class Platforms:
    """Platform releases each component's specifiers are evaluated against."""

    pysetl: tuple[str, ...] = DEFAULT_PLATFORMS_PYSETL
    python: tuple[str, ...] = DEFAULT_PLATFORMS_PYTHON
    spark: tuple[str, ...] = DEFAULT_PLATFORMS_SPARK

    def by_axis(self) -> dict[str, tuple[str, ...]]:
        """The versions of each platform axis, keyed by the shared axis names."""
        return {PYTHON: self.python, PYSETL: self.pysetl, SPARK: self.spark}


GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
# The CI systems whose OIDC tokens trusted publishing exchanges; the kind picks the claims.
OIDC_KINDS = ("github", "gitlab")
KNOWN_ISSUERS = {GITHUB_ACTIONS_ISSUER: "github", GITLAB_ISSUER: "gitlab"}


@dataclass(frozen=True, slots=True)
class OidcIssuer:
    """An OIDC issuer whose tokens may be exchanged, and which CI's claims it speaks."""

    url: str
    kind: str  # one of OIDC_KINDS: publishers of that kind are matched against its tokens


@dataclass(frozen=True, slots=True)
class Oidc:
    """Trusted publishing: which CI identities may mint upload tokens (provenance/oidc)."""

    issuers: tuple[OidcIssuer, ...] = (
        OidcIssuer(GITHUB_ACTIONS_ISSUER, "github"),
        OidcIssuer(GITLAB_ISSUER, "gitlab"),
    )
    audience: str = "pysetl-hub"
    # Plain-http issuers are refused unless this is set: for tests with a loopback issuer.
    allow_http: bool = False
    # Seconds of clock skew tolerated on exp, nbf and iat.
    leeway: int = 60
    # Least seconds between two JWKS fetches of one issuer caused by an unknown key id, so
    # tokens with made-up key ids cannot make the hub hammer the issuer.
    refetch_interval: float = 60.0

    def __post_init__(self) -> None:
        check_one_issuer_per_kind(self.issuers)

    def issuer(self, url: str) -> OidcIssuer | None:
        return next((i for i in self.issuers if i.url == url), None)


def check_one_issuer_per_kind(issuers: tuple[OidcIssuer, ...]) -> None:
    """A GitHub or GitLab publisher names a repository, not an issuer: with two issuers of one
    kind (gitlab.com and a self-managed GitLab), a project path taken on either would publish
    for the other's publishers. So each kind has one issuer."""
    for kind in OIDC_KINDS:
        urls = sorted({i.url for i in issuers if i.kind == kind})
        if len(urls) > 1:
            raise SettingsError(
                f"PYSETL_HUB_OIDC_ISSUERS names {len(urls)} {kind} issuers ({', '.join(urls)}): "
                f"a {kind} publisher names a repository, not an issuer, so each could publish "
                f"for the others' publishers; trust one {kind} issuer (a self-managed one "
                "instead of the public one, not beside it)"
            )


def parse_issuers(raw: str, *, allow_http: bool) -> tuple[OidcIssuer, ...]:
    """`URL` (GitHub Actions' and gitlab.com's own) or `KIND=URL`, comma separated."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        kind, sep, url = item.partition("=")
        if not sep:
            kind, url = KNOWN_ISSUERS.get(item, ""), item
        url = url.rstrip("/")
        if kind not in OIDC_KINDS:
            raise SettingsError(
                f"PYSETL_HUB_OIDC_ISSUERS: say which CI {item!r} is, as github=URL or gitlab=URL"
            )
        scheme = url.partition("://")[0]
        if scheme != "https" and not (scheme == "http" and allow_http):
            raise SettingsError(
                f"PYSETL_HUB_OIDC_ISSUERS: issuer {url!r} must be an https URL (plain http only "
                "with PYSETL_HUB_OIDC_ALLOW_HTTP=1, for tests)"
            )
        found.append(OidcIssuer(url, kind))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment."""

    data_dir: Path = Path("hub-data")
    database_url: str | None = None
    # Seconds a request waits for the database (a write lock another writer holds on SQLite, a
    # connection to PostgreSQL) before it is answered 503 with Retry-After.
    database_timeout: float = 5.0
    storage_url: str | None = None
    # S3-compatible object storage (storage_url s3://bucket/prefix): the endpoint of a store
    # other than AWS (MinIO, moto), its region, and credentials (secrets: *_FILE accepted).
    storage_endpoint: str | None = None
    storage_region: str | None = None
    storage_access_key_id: str | None = field(default=None, repr=False)
    storage_secret_access_key: str | None = field(default=None, repr=False)
    # Seconds a presigned download URL lasts; 0 streams files through the hub instead.
    storage_presign_seconds: int = 0
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None
    uploads: UploadLimits = field(default_factory=UploadLimits)
    platforms: Platforms = field(default_factory=Platforms)
    # Seconds between checks of the database serial, which keeps the in-memory index pages
    # of several replicas coherent with each other.
    serial_poll_interval: float = 1.0
    memory_file_cache_bytes: int = 128 * MiB
    # Bytes of rendered index pages and JSON API documents kept per process (least recently
    # used dropped first); the file cache above has its own budget.
    page_cache_bytes: int = 128 * MiB
    # Database connections per process (PostgreSQL: this many plus as many again on bursts;
    # SQLite: this many, each with a small page cache).
    database_pool_size: int = 5
    memory_file_max_bytes: int = 1 * MiB
    # Rendered public pages kept per process (a page per component and language, least recently
    # used dropped first).
    web_page_cache_entries: int = 4096
    # Seconds between sweeps of the search outbox (changes are also applied at once on commit).
    search_interval: float = 2.0
    # Seconds between writes of the in-memory download counts to the database.
    download_flush_interval: float = 30.0
    # Meilisearch; when unset the built-in engine searches the main database.
    search_url: str | None = None
    search_key: str | None = field(default=None, repr=False)
    # Sigstore trusted_root.json that upload attestations are verified against; None means
    # the pinned Sigstore production root. Never the user's TUF cache.
    sigstore_trust_root: Path | None = None
    # Redis (redis://host:port/db): rate-limit counters shared by every replica; in memory
    # (per process) when unset.
    redis_url: str | None = field(default=None, repr=False)
    oidc: Oidc = field(default_factory=Oidc)
    # Days an invitation to a role or an organization stays open.
    invitation_days: int = 7
    # Days a new API token lasts when its creator names no expiry ("never" only by choice).
    token_default_days: int = 90
    # "production" turns insecure defaults into start-up errors (security/production.py).
    environment: str = "development"
    # Refuse every write (503) whatever the database flag says (security/readonly.py).
    read_only: bool = False
    # (policy, limit) pairs that replace the defaults of security/ratelimit.py.
    rate_limits: tuple[tuple[str, str], ...] = ()
    # Networks of the reverse proxies (nginx, the ingress) whose X-Forwarded-For names the
    # client (security/proxies.py); empty: the peer address is the client.
    # Kept as normalized text: Litestar's signature models walk these types, and msgspec takes
    # no union of two classes.
    trusted_proxies: tuple[str, ...] = ()
    # Serve HTTPS directly (granian's TLS); both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # The root logger's level (PYSETL_HUB_LOG_LEVEL); None leaves the ASGI server's (INFO).
    log_level: str | None = None
    # "text" for people at a terminal, "json" (one object per line, with the request id) for
    # log collectors.
    log_format: str = "text"
    # Bearer token that /metrics requires (a secret: *_FILE accepted); /metrics is 404 unset.
    metrics_token: str | None = field(default=None, repr=False)
    # One access log line per request, with its route, status, duration and request id
    # (`serve --access-log` sets it for its workers).
    access_log: bool = False
    # Move what start-up built (modules, the app, the warmed pages) out of the cyclic garbage
    # collector's sight once the process is ready (`serve` turns it on; PYSETL_HUB_GC_FREEZE=0
    # turns it off): a full collection walks every tracked object, and at 100k components one
    # held a worker's event loop for ~200 ms, the slowest 1% of a cold start.
    gc_freeze: bool = False
    feed: Feed = field(default_factory=Feed)
    # Anomaly flag thresholds (PYSETL_HUB_FLAG_*).
    flags: FlagThresholds = field(default_factory=FlagThresholds)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @property
    def effective_storage_url(self) -> str:
        """The configured blob store URL, or a directory in the data directory."""
        if self.storage_url:
            return self.storage_url
        return (self.data_dir / "blobs").resolve().as_uri()

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (CLI flags win over the environment)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **clean)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read `PYSETL_HUB_*` variables; an invalid value fails fast with its name."""
        env = dict(os.environ if env is None else env)

        def integer(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not an integer") from exc
            if value <= 0:
                raise SettingsError(f"{name} must be positive, got {value}")
            return value

        def versions(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = env.get(name)
            if not raw:
                return default
            return tuple(v.strip() for v in raw.split(",") if v.strip())

        def secret(name: str) -> str | None:
            try:
                return secret_from_env(env, name)
            except SecretFileError as exc:
                raise SettingsError(str(exc)) from exc

        def path(name: str) -> Path | None:
            raw = env.get(name)
            return Path(raw) if raw else None

        limits = UploadLimits(
            max_file_size=integer("PYSETL_HUB_MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD),
            body_timeout=integer("PYSETL_HUB_UPLOAD_TIMEOUT", 600),
        )
        platforms = Platforms(
            pysetl=versions("PYSETL_HUB_PLATFORMS_PYSETL", DEFAULT_PLATFORMS_PYSETL),
            python=versions("PYSETL_HUB_PLATFORMS_PYTHON", DEFAULT_PLATFORMS_PYTHON),
            spark=versions("PYSETL_HUB_PLATFORMS_SPARK", DEFAULT_PLATFORMS_SPARK),
        )
        allow_http = env.get("PYSETL_HUB_OIDC_ALLOW_HTTP", "") in ("1", "true", "yes")
        oidc = Oidc(allow_http=allow_http)
        if env.get("PYSETL_HUB_OIDC_ISSUERS") is not None:
            issuers = parse_issuers(env["PYSETL_HUB_OIDC_ISSUERS"], allow_http=allow_http)
            oidc = replace(oidc, issuers=issuers)
        if env.get("PYSETL_HUB_OIDC_AUDIENCE"):
            oidc = replace(oidc, audience=env["PYSETL_HUB_OIDC_AUDIENCE"])
        return cls(
            data_dir=Path(env.get("PYSETL_HUB_DATA_DIR") or "hub-data"),
            database_url=secret("PYSETL_HUB_DATABASE_URL"),
            database_timeout=integer("PYSETL_HUB_DATABASE_TIMEOUT", 5),
            database_pool_size=integer("PYSETL_HUB_DATABASE_POOL_SIZE", 5),
            page_cache_bytes=integer("PYSETL_HUB_PAGE_CACHE_BYTES", 128 * MiB),
            memory_file_cache_bytes=integer("PYSETL_HUB_FILE_CACHE_BYTES", 128 * MiB),
            storage_url=env.get("PYSETL_HUB_STORAGE_URL") or None,
            storage_endpoint=env.get("PYSETL_HUB_STORAGE_ENDPOINT") or None,
            storage_region=env.get("PYSETL_HUB_STORAGE_REGION") or None,
            storage_access_key_id=secret("PYSETL_HUB_STORAGE_ACCESS_KEY_ID"),
            storage_secret_access_key=secret("PYSETL_HUB_STORAGE_SECRET_ACCESS_KEY"),
            storage_presign_seconds=_presign_seconds(env),
            host=env.get("PYSETL_HUB_HOST") or "127.0.0.1",
            port=integer("PYSETL_HUB_PORT", 8000),
            base_url=env.get("PYSETL_HUB_BASE_URL") or None,
            uploads=limits,
            platforms=platforms,
            serial_poll_interval=_positive_seconds(env, "PYSETL_HUB_SERIAL_POLL_INTERVAL", 1.0),
            search_url=env.get("PYSETL_HUB_SEARCH_URL") or None,
            search_key=secret("PYSETL_HUB_SEARCH_KEY"),
            redis_url=secret("PYSETL_HUB_REDIS_URL"),
            sigstore_trust_root=path("PYSETL_HUB_SIGSTORE_TRUST_ROOT"),
            environment=_choice(env, "PYSETL_HUB_ENV", ("development", "production")),
            read_only=_flag(env, "PYSETL_HUB_READ_ONLY"),
            rate_limits=_rate_limits(env.get("PYSETL_HUB_RATE_LIMITS") or ""),
            trusted_proxies=_networks(env, "PYSETL_HUB_TRUSTED_PROXIES"),
            tls_cert=path("PYSETL_HUB_TLS_CERT"),
            tls_key=path("PYSETL_HUB_TLS_KEY"),
            log_level=_choice(
                env, "PYSETL_HUB_LOG_LEVEL", ("", "DEBUG", "INFO", "WARNING", "ERROR"), upper=True
            )
            or None,
            log_format=_choice(env, "PYSETL_HUB_LOG_FORMAT", ("text", "json")),
            metrics_token=secret("PYSETL_HUB_METRICS_TOKEN"),
            access_log=_flag(env, "PYSETL_HUB_ACCESS_LOG"),
            gc_freeze=_flag(env, "PYSETL_HUB_GC_FREEZE"),
            oidc=oidc,
            token_default_days=integer("PYSETL_HUB_TOKEN_DEFAULT_DAYS", 90),
            invitation_days=integer("PYSETL_HUB_INVITATION_DAYS", 7),
            feed=_feed(env, secret("PYSETL_HUB_FEED_SIGNING_KEY")),
            flags=FlagThresholds.from_env(env),
        )


def _choice(
    env: dict[str, str], name: str, allowed: tuple[str, ...], *, upper: bool = False
) -> str:
    """One of `allowed` (the first is the default)."""
    raw = (env.get(name) or "").strip()
    value = raw.upper() if upper else raw.lower()
    if not value:
        return allowed[0]
    if value not in allowed:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(a for a in allowed if a)}")
    return value


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks (`10.0.0.0/8, ::1`)."""
    found = []
    for item in (env.get(name) or "").split(","):
        if item.strip():
            try:
                found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError as exc:
                raise SettingsError(
                    f"{name}: {item.strip()!r} is not an IP address or network (10.0.0.0/8)"
                ) from exc
    return tuple(found)


def _non_negative(env: dict[str, str], name: str) -> int:
    """A whole number of at least 0 (0, the default, turns the feature off)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise SettingsError(f"{name}={raw!r} is not a whole number of seconds (0 turns it off)")
    return int(raw)


# S3 (SigV4) refuses a presigned URL that lasts longer than 7 days (X-Amz-Expires).
PRESIGN_MAX_SECONDS = 7 * 24 * 3600


def _presign_seconds(env: dict[str, str]) -> int:
    """Past S3's limit every presigned download would be refused: refuse it at start-up."""
    name = "PYSETL_HUB_STORAGE_PRESIGN_SECONDS"
    seconds = _non_negative(env, name)
    if seconds > PRESIGN_MAX_SECONDS:
        raise SettingsError(
            f"{name}={seconds} is longer than S3 allows a presigned URL to last "
            f"({PRESIGN_MAX_SECONDS} seconds, 7 days): every download would be refused; set "
            "it to at most that (a few minutes, say 300, is enough for a download to start)"
        )
    return seconds


def _rate_limits(raw: str) -> tuple[tuple[str, str], ...]:
    """`signin=10/5 minutes,upload=100/hour`: which policies get which limits. The names and
    limits are checked where the limiter is built (security/ratelimit.py), at start-up."""
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        policy, sep, limit = item.partition("=")
        if not sep or not policy.strip() or not limit.strip():
            raise SettingsError(
                f"PYSETL_HUB_RATE_LIMITS item {item.strip()!r} is not POLICY=LIMIT "
                "(say signin=10/5 minutes)"
            )
        pairs.append((policy.strip(), limit.strip()))
    return tuple(pairs)
