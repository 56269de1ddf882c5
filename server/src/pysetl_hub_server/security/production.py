"""`PYSETL_HUB_ENV=production`: insecure defaults become start-up errors.

A laptop hub runs with none of this (loopback, SQLite, no secrets). A production hub must not
start by accident with a development default, so each of these is a `SettingsError` naming
the variable to set:

- `PYSETL_HUB_BASE_URL` unset or `http://`: the public URL is what clients, tokens and links
  are bound to, and a token sent over plain HTTP is a token given away.
- `PYSETL_HUB_DATABASE_URL` unset: the embedded SQLite in the data directory is the laptop
  default; production names its database (PostgreSQL, or an SQLite file chosen on purpose
  for a one-machine hub).
- A database, Redis or Meilisearch secret that is empty or one of the well-known defaults
  (the compose file's `hub`, `hub-dev-master-key`, `postgres`, `password`, ...).
- Meilisearch without a key.
- PostgreSQL (the form several replicas share) without `PYSETL_HUB_FEED_SIGNING_KEY`: each
  replica would sign the change feed with a key of its own making, and a mirror that pinned
  one would refuse the pages of the others.
- Only one of `PYSETL_HUB_TLS_CERT` and `PYSETL_HUB_TLS_KEY` (checked in any environment).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pysetl_hub_server.settings import Settings, SettingsError

# Secrets that ship in docs, examples and the compose file, or that people type first.
DEFAULT_SECRETS = frozenset(
    {
        "",
        "hub",
        "hub-dev-master-key",
        "masterkey",
        "postgres",
        "password",
        "passw0rd",
        "changeme",
        "change-me",
        "secret",
        "admin",
        "root",
        "redis",
        "test",
        "example",
    }
)


def _weak(secret: str | None) -> bool:
    return secret is None or secret.strip().lower() in DEFAULT_SECRETS


def check_tls(settings: Settings) -> None:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError(
            "PYSETL_HUB_TLS_CERT and PYSETL_HUB_TLS_KEY go together (or --tls-cert and "
            "--tls-key): set both, or neither"
        )
    for name, path in (
        ("PYSETL_HUB_TLS_CERT", settings.tls_cert),
        ("PYSETL_HUB_TLS_KEY", settings.tls_key),
    ):
        if path is not None and not path.is_file():
            raise SettingsError(f"{name}={str(path)!r} is not a readable file")


def check_production(settings: Settings) -> None:
    """Raise a SettingsError for the first insecure setting (production only, but TLS always)."""
    check_tls(settings)
    if not settings.production:
        return
    base = settings.base_url or ""
    if not base:
        raise SettingsError(
            "PYSETL_HUB_ENV=production needs PYSETL_HUB_BASE_URL, the public https:// URL of "
            "the hub"
        )
    if urlsplit(base).scheme != "https":
        raise SettingsError(
            f"PYSETL_HUB_BASE_URL={base!r} is not https://: in production, tokens only travel "
            "over TLS (serve it with --tls-cert/--tls-key, or behind a TLS proxy)"
        )
    if not settings.database_url:
        raise SettingsError(
            "PYSETL_HUB_ENV=production needs PYSETL_HUB_DATABASE_URL (or "
            "PYSETL_HUB_DATABASE_URL_FILE): the embedded SQLite is the laptop default"
        )
    db = urlsplit(settings.database_url)
    if db.scheme.startswith("postgresql") and _weak(db.password):
        raise SettingsError(
            "PYSETL_HUB_DATABASE_URL has no password or a well-known default one: use a strong "
            "password (put the URL in a file and name it with PYSETL_HUB_DATABASE_URL_FILE)"
        )
    if settings.redis_url:
        redis = urlsplit(settings.redis_url)
        if redis.password is not None and _weak(redis.password):
            raise SettingsError(
                "PYSETL_HUB_REDIS_URL has a well-known default password: use a strong one "
                "(PYSETL_HUB_REDIS_URL_FILE keeps it out of the environment)"
            )
    if settings.search_url and _weak(settings.search_key):
        raise SettingsError(
            "PYSETL_HUB_SEARCH_KEY is missing or a well-known default (hub-dev-master-key): "
            "set Meilisearch's key (PYSETL_HUB_SEARCH_KEY_FILE keeps it out of the environment)"
        )
    if db.scheme.startswith("postgresql") and not settings.feed.signing_key:
        raise SettingsError(
            "PYSETL_HUB_FEED_SIGNING_KEY is not set: on a shared database every replica must "
            "sign the change feed with the same Ed25519 key, or mirrors refuse its pages (make "
            "one with `make secrets`, and name its file with PYSETL_HUB_FEED_SIGNING_KEY_FILE)"
        )
