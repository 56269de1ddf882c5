"""The public projection of audit events, in process: advisories (recorded by the advisories
domain) appear with their id; private actions and detail fields never do."""

from __future__ import annotations

import msgspec

from pysetl_hub_server.audit.services import Actor, record, touch
from pysetl_hub_server.db import models
from pysetl_hub_server.feed.services import changes_page
from pysetl_hub_server.hub import Hub

SOMEONE = Actor(None, "mallory", ip="203.0.113.9", user_agent="curl/8")


async def test_advisories_and_nothing_private(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        c = models.Component(name="proj-x", display_name="Proj_X", ultra_name="")
        session.add(c)
        await session.flush()
        detail = {"id": "PYSEC-HUB-2026-1", "email": "m@example.org", "token": "tok_1"}
        await touch(session, c, "advisory.publish", actor=SOMEONE, detail=detail)
        await touch(
            session,
            c,
            "role.add",
            actor=SOMEONE,
            detail={"username": "ann", "role": "owner", "invitation": 987654321},
        )
        await record(session, "token.create", actor=SOMEONE, target="user:mallory")
        await touch(
            session, c, "advisory.withdraw", actor=SOMEONE, detail={"id": "PYSEC-HUB-2026-1"}
        )
        await session.commit()
        page = await changes_page(session, 0, 100)
    assert [(ch.action, ch.component) for ch in page.changes] == [
        ("advisory.publish", "proj-x"),
        ("role.add", "proj-x"),
        ("advisory.withdraw", "proj-x"),
    ]
    assert page.changes[0].advisory == page.changes[2].advisory == "PYSEC-HUB-2026-1"
    assert (page.changes[1].username, page.changes[1].role) == ("ann", "owner")
    text = msgspec.json.encode(page).decode()
    for private in ("mallory", "203.0.113.9", "curl/8", "m@example.org", "tok_1", "987654321"):
        assert private not in text, private
