"""`pysetl-hub stats NAME` against a live hub whose download history is scripted in its
database (the server suite covers how real downloads reach those rows)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from click.testing import Result
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.support.live import LiveServer

Run = Callable[..., Result]


def script(live: LiveServer) -> None:
    """csv-dedupe: 1.0.0 wheel 4 today and 10 forty days ago, the sdist 2 five days ago."""
    today = datetime.now(UTC).date()
    rows = [
        (0, "csv_dedupe-1.0.0-py3-none-any.whl", 4),
        (5, "csv_dedupe-1.0.0.tar.gz", 2),
        (40, "csv_dedupe-1.0.0-py3-none-any.whl", 10),
    ]

    async def go(hub: Hub) -> None:
        async with hub.sessions() as session, session.begin():
            cid = await session.scalar(
                select(models.Component.id).where(models.Component.name == "csv-dedupe")
            )
            assert cid is not None
            days: dict[int, int] = {}
            for ago, filename, n in rows:
                day = today - timedelta(days=ago)
                days[ago] = days.get(ago, 0) + n
                session.add(
                    models.FileDownloadCount(
                        component_id=cid, day=day, filename=filename, version="1.0.0", count=n
                    )
                )
            for ago, n in days.items():
                session.add(
                    models.DownloadCount(component_id=cid, day=today - timedelta(days=ago), count=n)
                )

    live.run(go)


def test_stats_json_and_table(live: LiveServer, published_catalog: str, run: Run) -> None:
    script(live)
    result = run("stats", "csv-dedupe", "--days", "7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 16 and data["last_30_days"] == 6 and data["days"] == 7
    assert [d["downloads"] for d in data["series"]] == [0, 2, 0, 0, 0, 0, 4]
    assert data["versions"] == [{"version": "1.0.0", "last_30_days": 6, "total": 16}]

    shown = run("stats", "csv-dedupe")
    assert shown.exit_code == 0, shown.output
    assert "6 downloads in the last 30 days, 16 in all" in shown.stderr
    assert "1.0.0" in shown.stderr and shown.stderr.count("█") > 0
    assert len([line for line in shown.stderr.splitlines() if "-" in line[:12]]) >= 30


def test_unknown_components_and_bad_days(run: Run) -> None:
    result = run("stats", "no-such-thing")
    assert result.exit_code == 3 and "no-such-thing" in result.stderr
    bounded = run("stats", "csv-dedupe", "--days", "0")  # refused before asking the hub
    assert bounded.exit_code == 2 and "--days" in bounded.stderr
