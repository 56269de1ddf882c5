"""`pysetl-hub events`: a component's audit events as a table or JSON, and your own."""

from __future__ import annotations

import json

from click.testing import Result


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_events_of_a_component(run, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    table = ok(run("events", "csv-dedupe", token=published_catalog))
    assert "events of csv-dedupe" in table.stderr and "file.upload" in table.stderr
    assert table.stdout == ""
    data = json.loads(ok(run("events", "csv-dedupe", "--json", token=published_catalog)).stdout)
    assert data["events"][0]["action"] == "file.upload"
    assert data["events"][-1]["action"] == "component.create"


def test_my_events_and_paging(run, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(ok(run("events", "--limit", "1", "--json", token=published_catalog)).stdout)
    assert [e["action"] for e in first["events"]] == ["token.create"]
    older = ok(run("events", "--before", str(first["next_before"]), token=published_catalog))
    assert "user.create" in older.stderr


def test_every_event_is_for_admins(run, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    refused = run("events", "--all", token=published_catalog)
    assert refused.exit_code == 8 and "only a hub admin" in refused.stderr
    assert run("events", "x", "--all", token=published_catalog).exit_code == 2
