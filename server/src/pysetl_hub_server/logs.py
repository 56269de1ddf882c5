"""Logging set-up with a filter that masks secrets (security/masking.py) in every record.

The filter sits on every handler of the root logger and of the ASGI servers' own loggers (the
access logs among them), and rewrites a record's final text: its message with its arguments,
and the traceback of an exception (an error's message may quote what a client sent).
"""

from __future__ import annotations

import logging
import traceback

from pysetl_hub_server.security.masking import redact

__all__ = ["SecretMaskingFilter", "configure_logging", "redact"]


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


# The ASGI servers give their loggers handlers of their own, which the root's filter never sees.
_SERVER_LOGGERS = ("_granian", "granian.access", "uvicorn", "uvicorn.error", "uvicorn.access")
# Loggers that write every SQL statement with its bound parameters at DEBUG: a TOTP secret, a
# session's hash or an email would be logged as a value no pattern can recognise. They stay at
# INFO whatever the root level (the engine also hides parameters: db/engine.py).
_PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine")


def configure_logging(level: str | None = None) -> None:
    """Mask secrets on every handler; set the root level when one is asked for (otherwise the
    ASGI server's logging set-up, or INFO, stands)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level or logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    elif level:
        root.setLevel(level)
    for name in _PARAMETER_LOGGERS:
        quiet = logging.getLogger(name)
        quiet.setLevel(max(quiet.getEffectiveLevel(), logging.INFO))
    for logger in (root, *(logging.getLogger(name) for name in _SERVER_LOGGERS)):
        for handler in logger.handlers:
            if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
                handler.addFilter(SecretMaskingFilter())
