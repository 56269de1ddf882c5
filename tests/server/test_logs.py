"""The log formats: JSON objects with the request id and masked fields; text lines with it."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from pysetl_hub_server.logs import (
    JsonFormatter,
    RequestIdFilter,
    SecretMaskingFilter,
    TextFormatter,
)
from pysetl_hub_server.observability import multiproc
from pysetl_hub_server.observability.requestid import REQUEST_ID

TOKEN = "pshub_0123456789abcdef_" + "S" * 43


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("pysetl_hub_server.x", logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    RequestIdFilter().filter(rec)
    SecretMaskingFilter().filter(rec)
    return rec


def test_json_lines_carry_the_request_id_and_mask_every_field() -> None:
    token = REQUEST_ID.set("rid-1")
    try:
        rec = record("token %s used", TOKEN, path=f"/api/v1/components/{TOKEN}", status=401)
    finally:
        REQUEST_ID.reset(token)
    line = JsonFormatter().format(rec)
    assert "\n" not in line and TOKEN not in line and TOKEN[-43:] not in line
    body = json.loads(line)
    assert body["request_id"] == "rid-1" and body["level"] == "INFO"
    assert body["logger"] == "pysetl_hub_server.x" and body["status"] == 401
    assert body["time"].endswith("+00:00") and "used" in body["message"]
    assert body["path"].startswith("/api/v1/components/") and "***" in body["path"]


def test_json_tracebacks_are_one_masked_field() -> None:
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    SecretMaskingFilter().filter(rec)
    RequestIdFilter().filter(rec)
    body = json.loads(JsonFormatter().format(rec))
    assert body["request_id"] is None  # outside a request
    assert "ValueError" in body["exc"] and TOKEN not in body["exc"]


def test_text_lines_end_with_the_request_id_only_during_a_request() -> None:
    assert "request_id" not in TextFormatter().format(record("outside"))
    token = REQUEST_ID.set("rid-2")
    try:
        line = TextFormatter().format(record("inside"))
    finally:
        REQUEST_ID.reset(token)
    assert line.endswith("pysetl_hub_server.x inside [request_id=rid-2]")


def test_a_text_line_is_one_line_whatever_the_input() -> None:
    """A request path with a decoded %0A cannot forge a second line, nor an escape sequence
    reach the terminal; a traceback keeps its lines."""
    forged = "/simple/a\n2026-11-30 16:00:00,000 INFO pysetl_hub_server.access POST /x 200"
    line = TextFormatter().format(record("%s %s", "GET", forged + "\x1b[31m\u2028\x85"))
    assert "\n" not in line and "\x1b" not in line and "\u2028" not in line
    assert "\\n2026-11-30" in line and "\\x1b[31m" in line
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert TextFormatter().format(failed).count("\n") >= 2


def test_the_multiprocess_dir_is_private_and_fresh(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prometheus_client import values

    monkeypatch.setenv(multiproc.VARIABLE, "")  # empty is unset; restored after the test
    try:
        made = multiproc.prepare()
        assert made.is_dir() and not any(made.iterdir())
        assert os.environ[multiproc.VARIABLE] == str(made)
        # prometheus_client, already imported here, now keeps values in the shared files
        assert values.ValueClass is not values.MutexValue
        given = tmp_path / "given"
        given.mkdir()
        (given / "gauge_livesum_1.db").write_bytes(b"stale")
        (given / "hub.sqlite3-wal").write_bytes(b"not ours")  # a variable set to the data dir
        (given / "blobs").mkdir()
        monkeypatch.setenv(multiproc.VARIABLE, str(given))
        assert multiproc.prepare() == given
        assert sorted(p.name for p in given.iterdir()) == ["blobs", "hub.sqlite3-wal"]
    finally:  # this test process goes on with values in memory
        monkeypatch.delenv(multiproc.VARIABLE, raising=False)
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    assert values.ValueClass is values.MutexValue
