"""Masking: each kind of secret is hidden by `redact`, and what must stay readable stays."""

from __future__ import annotations

import base64
import logging

import pytest

from pysetl_hub_server.logs import SecretMaskingFilter
from pysetl_hub_server.security.masking import redact

TOKEN = "pshub_0123456789abcdef_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tA"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvY3N2In0.c2lnbmF0dXJlLWJ5dGVz"
BASIC = base64.b64encode(f"__token__:{TOKEN}".encode()).decode()

MASKED = [
    (f"token {TOKEN} used", "S3cr3t", "pshub_0123456789abcdef_********"),
    (f"Authorization: Basic {BASIC}", BASIC, "Authorization: Basic ********"),
    (f"authorization=Bearer {TOKEN}", "S3cr3t", "authorization=Bearer ********"),
    (f"(b'authorization', b'Basic {BASIC}')", BASIC, "(b'authorization', b'Basic ********')"),
    (f"{{'Authorization': 'Bearer {JWT}'}}", "c2lnbmF0dXJl", "'Authorization': 'Bearer ********'"),
    (f"id token {JWT} from CI", "c2lnbmF0dXJl", "id token eyJ******** from CI"),
    ("password=hunter2-long&user=alice", "hunter2", "password=********&user=alice"),
    ('{"password": "hunter2-long", "username": "a"}', "hunter2", '"password": "********"'),
    ('{"totp_code": "918273"}', "918273", '"totp_code": "********"'),
    ("GET /x?totp=918273&recovery_code=ab12-cd34", "918273", "recovery_code=********"),
    ("postgresql+asyncpg://hub:pg-Secret-9@db:5432/hub", "pg-Secret-9", "hub:********@db"),
    ("redis://:r3dis-Secret@cache:6379/0", "r3dis-Secret", "redis://:********@cache"),
    ("mail alice.liddell@example.org now", "alice.liddell", "a***@example.org"),
]


@pytest.mark.parametrize(("text", "secret", "shown"), MASKED)
def test_each_kind_of_secret_is_masked(text: str, secret: str, shown: str) -> None:
    clean = redact(text)
    assert secret not in clean
    assert shown in clean


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("mail alice.liddell@example.org now", "mail a***@example.org now"),
        (f"token {TOKEN} used", "token pshub_0123456789abcdef_******** used"),
        ("password=hunter2-long&user=alice", "password=********&user=alice"),
        ("redis://:r3dis-Secret@cache:6379/0", "redis://:********@cache:6379/0"),
    ],
)
def test_only_the_secret_changes(text: str, clean: str) -> None:
    """The rest of the line stays as it was, to the character: logs stay greppable."""
    assert redact(text) == clean


@pytest.mark.parametrize(
    "text",
    [
        '{"code": "auth.invalid", "status": 401}',
        "GET /files/" + "a" * 64 + "/csv_dedupe-1.0.0-py3-none-any.whl 200",
        "listening on 127.0.0.1:8000 pid 123456",
        "token 0123456789abcdef revoked",
        "https://hub.example.org/simple/csv-dedupe/",
    ],
)
def test_what_is_not_a_secret_stays_readable(text: str) -> None:
    assert redact(text) == text


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "user %s sent %s", None, None)
    record.args = ("alice@example.org", TOKEN)
    try:
        raise ValueError(f"bad header Authorization: Bearer {TOKEN}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert SecretMaskingFilter().filter(record)
    line = logging.Formatter().format(record)
    assert "S3cr3t" not in line and "alice@" not in line
    assert "a***@example.org" in line and "Bearer ********" in line
