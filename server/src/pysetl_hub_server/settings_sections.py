"""Settings sections of their own (the change feed and webhooks, the anomaly flags) and the
parsers they share with `settings.Settings`, which imports them from here."""

from __future__ import annotations

from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A setting has a value the server cannot run with."""


@dataclass(frozen=True, slots=True)
class Feed:
    """The change feed, its live stream and webhooks (feed/, docs/concepts/feed.md)."""

    # The Ed25519 key that signs feed pages (PEM, or the base64 of the raw 32-byte private key;
    # a secret: *_FILE accepted). Unset: generated on first start in the data directory. Every
    # replica must sign with the same key, so multi-replica deployments set it.
    signing_key: str | None = field(default=None, repr=False)
    # Seconds between heartbeat comments on a live stream, and between its checks of the serial.
    heartbeat: float = 15.0
    stream_poll: float = 1.0
    # Seconds a live stream lasts before the hub ends it (clients resume with Last-Event-ID), so
    # no stream holds a replica past a deploy.
    stream_lifetime: float = 600.0
    # Webhooks: seconds between sweeps of the outbox, per delivery timeout, attempts per
    # delivery, the first retry's delay (doubling up to the maximum), consecutive failed attempts
    # before a webhook is disabled, and whether private/loopback addresses may receive (tests).
    webhook_interval: float = 2.0
    webhook_timeout: float = 10.0
    webhook_attempts: int = 8
    webhook_backoff: float = 30.0
    webhook_backoff_max: float = 3600.0
    webhook_disable_after: int = 20
    webhook_allow_private: bool = False


def _feed(env: dict[str, str], signing_key: str | None) -> Feed:
    def count(name: str, default: int) -> int:
        raw = (env.get(name) or "").strip()
        if not raw:
            return default
        if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
            raise SettingsError(f"{name}={raw!r} is not a positive whole number")
        return int(raw)

    return Feed(
        signing_key=signing_key,
        heartbeat=_positive_seconds(env, "PYSETL_HUB_FEED_HEARTBEAT", 15.0),
        stream_poll=_positive_seconds(env, "PYSETL_HUB_FEED_STREAM_POLL", 1.0),
        stream_lifetime=_positive_seconds(env, "PYSETL_HUB_FEED_STREAM_LIFETIME", 600.0),
        webhook_interval=_positive_seconds(env, "PYSETL_HUB_WEBHOOK_INTERVAL", 2.0),
        webhook_timeout=_positive_seconds(env, "PYSETL_HUB_WEBHOOK_TIMEOUT", 10.0),
        webhook_attempts=count("PYSETL_HUB_WEBHOOK_ATTEMPTS", 8),
        webhook_backoff=_positive_seconds(env, "PYSETL_HUB_WEBHOOK_BACKOFF", 30.0),
        webhook_backoff_max=_positive_seconds(env, "PYSETL_HUB_WEBHOOK_BACKOFF_MAX", 3600.0),
        webhook_disable_after=count("PYSETL_HUB_WEBHOOK_DISABLE_AFTER", 20),
        webhook_allow_private=_flag(env, "PYSETL_HUB_WEBHOOK_ALLOW_PRIVATE"),
    )


@dataclass(frozen=True, slots=True)
class FlagThresholds:
    """When an anomaly flag is raised (anomalies/, docs/operations/configure.md)."""

    # A new owner's upload within this many hours of their role.add is flagged.
    new_owner_hours: float = 24.0
    # Downloads: the latest day is a spike past median + k * MAD of the days before it...
    spike_k: float = 10.0
    # ...when there are at least this many earlier days of history...
    spike_min_days: int = 14
    # ...and the day has at least this many downloads (a quiet component's 3 -> 30 is noise).
    spike_min_count: int = 100
    # A new name close to another is flagged only when the other has this many downloads.
    popular_downloads: int = 1000
    # Names at least this long are "close" at Damerau-Levenshtein distance 2, shorter ones at 1.
    name_long: int = 10
    # Seconds a release may stay sdist-only (its wheels still uploading) before it is flagged.
    wheel_grace: float = 3600.0
    # Seconds between the periodic checks (download spikes, sdist-only releases).
    check_interval: float = 3600.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> FlagThresholds:
        def number(name: str, default: float) -> float:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not a number") from exc
            if not value >= 0 or value == float("inf"):
                raise SettingsError(f"{name} must be a number of at least 0, got {raw!r}")
            return value

        return cls(
            new_owner_hours=number("PYSETL_HUB_FLAG_NEW_OWNER_HOURS", 24.0),
            spike_k=number("PYSETL_HUB_FLAG_SPIKE_K", 10.0),
            spike_min_days=int(number("PYSETL_HUB_FLAG_SPIKE_MIN_DAYS", 14)),
            spike_min_count=int(number("PYSETL_HUB_FLAG_SPIKE_MIN_COUNT", 100)),
            popular_downloads=int(number("PYSETL_HUB_FLAG_POPULAR_DOWNLOADS", 1000)),
            name_long=int(number("PYSETL_HUB_FLAG_NAME_LONG", 10)),
            wheel_grace=number("PYSETL_HUB_FLAG_WHEEL_GRACE", 3600.0),
            check_interval=_positive_seconds(env, "PYSETL_HUB_FLAG_CHECK_INTERVAL", 3600.0),
        )


def _positive_seconds(env: dict[str, str], name: str, default: float) -> float:
    """Seconds, fractions allowed (0.25), more than 0."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds (say 0.5)") from exc
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r} is not a switch: use 1 or 0")
