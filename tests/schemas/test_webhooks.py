"""`verify_signature`, the helper a webhook receiver calls on headers it did not choose: any
header, however malformed, is a False, never an exception (a receiver's 500)."""

from __future__ import annotations

import time

import pytest

from pysetl_hub_schemas.webhooks import sign, verify_signature

SECRET = "whsec_test"
BODY = b'{"webhook":1}'


def test_a_fresh_signature_verifies() -> None:
    assert verify_signature(SECRET, BODY, sign(SECRET, BODY, int(time.time())))


@pytest.mark.parametrize(
    "value",
    [
        "v1=é",  # non-ASCII: compare_digest refuses str that is not ASCII
        "v1=\u0663\u0663",
        "v1=" + "ä" * 64,
        "",
        "garbage",
        "t=,v1=",
        "t=" + "9" * 5000 + ",v1=00",  # past Python's int-conversion limit
        "t=1e9,v1=00",
    ],
)
def test_a_malformed_header_is_false_not_an_exception(value: str) -> None:
    now = int(time.time())
    header = value if value.startswith("t=") else f"t={now},{value}"
    assert verify_signature(SECRET, BODY, header) is False
