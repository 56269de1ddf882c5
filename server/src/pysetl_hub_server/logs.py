"""Logging set-up with a filter that masks tokens and passwords wherever they appear."""

from __future__ import annotations

import logging
import re

from pysetl_hub_server.accounts.tokens import mask

_BASIC = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer)\s+)[^\s'\",]+")


def redact(text: str) -> str:
    return _BASIC.sub(r"\1********", mask(text))


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record so no API token or credential header is ever written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


# The ASGI servers give their loggers handlers of their own, which the root's filter never sees.
_SERVER_LOGGERS = ("_granian", "granian.access", "uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for logger in (root, *(logging.getLogger(name) for name in _SERVER_LOGGERS)):
        for handler in logger.handlers:
            if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
                handler.addFilter(SecretMaskingFilter())
