"""Logging set-up: secrets masked (security/masking.py) and the request id on every record, as
text lines for people or one JSON object per line for log collectors (PYSETL_HUB_LOG_FORMAT).

The masking filter sits on every handler of the root logger and of the ASGI servers' own
loggers, and rewrites a record's final text: its message with its arguments, and the traceback
of an exception (an error's message may quote what a client sent). The JSON formatter masks
every string it writes again, the structured fields of access lines included.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any, Final

from pysetl_hub_server.observability.requestid import current
from pysetl_hub_server.security.masking import redact

__all__ = [
    "JsonFormatter",
    "RequestIdFilter",
    "SecretMaskingFilter",
    "TextFormatter",
    "configure_logging",
    "redact",
]


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record so no secret is ever written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters use a record's exc_text when it is set: give them the masked one.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written during (None outside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current()
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is written out.
_STANDARD: Final = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
    | {"message", "asctime", "request_id"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the fields given
    with `extra=` (an access line's method, path, route, status, duration_ms), and the
    traceback as `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or current(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = redact(value) if isinstance(value, str) else _plain(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            body["exc"] = redact(record.exc_text)
        if record.stack_info:
            body["stack"] = redact(record.stack_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def _plain(value: object) -> object:
    """A value JSON can hold as it is; anything else as its (masked) text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message`, then `[request_id=...]` for a line written during a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """One record, one line: control characters in the message (a request path with a
        decoded %0A or an escape sequence) are written escaped, so no input forges a line or
        drives the terminal. Tracebacks, added after this, keep their lines."""
        record.message = _CONTROL.sub(_escaped, record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        if rid is None:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [request_id={rid}]{newline}{rest}"


# The ASGI servers give their loggers handlers of their own, which the root's filter never sees.
_SERVER_LOGGERS = ("_granian", "granian.access", "uvicorn", "uvicorn.error", "uvicorn.access")
# Loggers that write every SQL statement with its bound parameters at DEBUG: a TOTP secret, a
# session's hash or an email would be logged as a value no pattern can recognise. They stay at
# INFO whatever the root level (the engine also hides parameters: db/engine.py).
_PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine")


def granian_log_config(log_format: str) -> dict[str, Any] | None:
    """The formatters granian's own loggers use (its dictConfig keys), so that with
    `json` even the server's start-up lines are JSON objects."""
    if log_format != "json":
        return None
    json_formatter = {"()": f"{__name__}.JsonFormatter"}
    return {"formatters": {"generic": json_formatter, "access": json_formatter}}


def configure_logging(level: str | None = None, log_format: str = "text") -> None:
    """Mask secrets and stamp the request id on every handler; set the root level when one is
    asked for (otherwise the ASGI server's logging set-up, or INFO, stands); with `json`, every
    handler writes JSON objects."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level or logging.INFO)
        for handler in root.handlers:
            handler.setFormatter(TextFormatter())
    elif level:
        root.setLevel(level)
    for name in _PARAMETER_LOGGERS:
        quiet = logging.getLogger(name)
        quiet.setLevel(max(quiet.getEffectiveLevel(), logging.INFO))
    for logger in (root, *(logging.getLogger(name) for name in _SERVER_LOGGERS)):
        for handler in logger.handlers:
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
            if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
                handler.addFilter(SecretMaskingFilter())
            if log_format == "json" and not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(JsonFormatter())
