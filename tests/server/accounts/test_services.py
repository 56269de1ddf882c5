"""Users, tokens and roles on a real database: each rule, and the problem code it fails with."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.accounts.passwords import verify_password
from pysetl_hub_server.accounts.permissions import (
    TOKEN_ACTIONS,
    Identity,
    authorize,
    effective_role,
)
from pysetl_hub_server.accounts.services import (
    DEFAULT_TOKEN_DAYS,
    authenticate,
    create_token,
    create_user,
    identify,
    owners_of,
    revoke_token,
    token_from_headers,
    whoami,
)
from pysetl_hub_server.accounts.tokens import parse_token
from pysetl_hub_server.db.models import ApiToken, AuditEvent, Component, Role, User
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.hub import Hub


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def refused(call: Any, code: str) -> HubError:
    """Await `call`, which must fail with the problem `code`; the error is returned."""
    with pytest.raises(HubError) as info:
        await call
    assert info.value.code == code, info.value.detail
    assert isinstance(info.value.detail, str) and info.value.detail  # every refusal explains
    assert info.value.detail == SAYS.get(code, info.value.detail)
    return info.value


async def events(session: AsyncSession, action: str) -> list[AuditEvent]:
    return list(await session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


async def component(session: AsyncSession, name: str, display: str) -> Component:
    row = Component(name=name, display_name=display, ultra_name=name)
    session.add(row)
    await session.flush()
    return row


async def grant(session: AsyncSession, user: User, row: Component, role: str) -> None:
    session.add(Role(user_id=user.id, component_id=row.id, role=role))
    await session.flush()


def near(moment: datetime | None, expected: datetime) -> bool:
    return moment is not None and abs((moment - expected).total_seconds()) < 60


# -- users ----------------------------------------------------------------------------------


async def test_a_user_is_stored_lowercase_with_an_argon2_hash_and_audited(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        user = await create_user(session, "Alice.B_c-D", "alice@example.org", "correct horse")
        stored = await session.scalar(select(User).where(User.id == user.id))
        assert stored is not None
        assert (stored.username, stored.email) == ("alice.b_c-d", "alice@example.org")
        assert verify_password(stored.password_hash, "correct horse")
        assert "correct horse" not in stored.password_hash
        assert stored.password_hash.startswith("$argon2id$")
        assert (stored.is_admin, stored.totp_enabled, stored.is_active) == (False, False, True)
        [event] = await events(session, "user.create")
        # made by the server's admin CLI (no actor given), about the new user
        assert (event.actor, event.target, event.user_id) == ("admin-cli", "user:alice.b_c-d", None)
        assert "correct horse" not in str(event.detail)


@pytest.mark.parametrize("username", ["a", "A1", "a.b", "x" * 64, "0-9_z"])
async def test_usernames_that_are_accepted(offline_hub: Hub, username: str) -> None:
    async with offline_hub.sessions() as session:
        assert (await create_user(session, username, "a@b.io", "12345678")).id


@pytest.mark.parametrize(
    "username",
    ["", "-a", "a-", ".a", "a_", "a b", "x" * 65, "al/ce", "ali:ce", "ålice", "alice\n"],
)
async def test_usernames_that_are_refused(offline_hub: Hub, username: str) -> None:
    async with offline_hub.sessions() as session:
        error = await refused(create_user(session, username, "a@b.io", "12345678"), "user.name")
        assert error.detail.endswith("starting and ending with a letter or digit")
        assert "1-64 letters, digits, '.', '_' or '-'" in error.detail


@pytest.mark.parametrize(
    "email", ["alice", "alice@example", "@example.org", "al ice@x.org", "a@b@c.d", "a@b.io\n"]
)
async def test_an_email_must_look_like_an_address(offline_hub: Hub, email: str) -> None:
    async with offline_hub.sessions() as session:
        await refused(create_user(session, "alice", email, "12345678"), "user.email")


async def test_a_password_has_at_least_eight_characters(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        error = await refused(create_user(session, "alice", "a@b.io", "1234567"), "user.password")
        assert error.detail == "the password is too short: use at least 8 characters"
        assert (await create_user(session, "alice", "a@b.io", "12345678")).username == "alice"


async def test_a_username_is_taken_whatever_its_case(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        await refused(create_user(session, "ALICE", "c@d.io", "12345678"), "user.exists")


# -- tokens ---------------------------------------------------------------------------------


async def test_a_token_is_stored_by_id_and_hash_and_audited(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        user = await create_user(session, "alice", "a@b.io", "12345678")
        token = await create_token(session, "ALICE", description="ci", name="laptop")
        parsed = parse_token(token)
        assert parsed is not None
        row = await session.scalar(select(ApiToken).where(ApiToken.token_id == parsed[0]))
        assert row is not None
        assert (row.user_id, row.component_ids, row.description, row.name) == (
            user.id,
            None,  # user-wide
            "ci",
            "laptop",
        )
        assert row.actions == list(TOKEN_ACTIONS) and row.origin == "user"
        # the default expiry is 90 days; "never" is only by choice
        assert DEFAULT_TOKEN_DAYS == 90
        assert near(row.expires_at, datetime.now(UTC) + timedelta(days=90))
        assert row.revoked_at is None and row.last_used is None
        assert parsed[1] not in row.secret_hash
        [event] = await events(session, "token.create")
        assert (event.user_id, event.component_id) == (user.id, None)
        assert (event.actor, event.target) == ("alice", "user:alice")
        assert row.expires_at is not None
        assert event.detail == {
            "token_id": parsed[0],
            "name": "laptop",
            "components": [],
            "actions": list(TOKEN_ACTIONS),
            "expires": row.expires_at.isoformat(),
        }
        assert parsed[1] not in str(event.detail)


async def test_the_default_expiry_comes_from_the_caller_and_never_only_by_choice(
    offline_hub: Hub,
) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        for kw, expected in [
            ({"default_days": 7}, timedelta(days=7)),
            ({"default_days": 7, "expires_days": 2}, timedelta(days=2)),
            ({"never_expires": True}, None),
        ]:
            who = await authenticate(session, bearer(await create_token(session, "alice", **kw)))
            if expected is None:
                assert who.expires is None
            else:
                assert near(who.expires, datetime.now(UTC) + expected)
        at = datetime.now(UTC) + timedelta(hours=5)
        who = await authenticate(
            session, bearer(await create_token(session, "alice", expires_at=at))
        )
        assert who.expires == at


async def test_a_scoped_expiring_token_with_chosen_actions(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        row = await component(session, "csv-dedupe", "CSV_Dedupe")
        token = await create_token(
            session, "alice", component="CSV.Dedupe", expires_days=3, actions=["yank", "upload"]
        )
        who = await authenticate(session, bearer(token))
        assert who.components == frozenset({row.id}) and not who.user_wide
        assert who.actions == frozenset({"upload", "yank"})
        stored = await session.scalar(select(ApiToken).where(ApiToken.token_id == who.token_id))
        assert stored is not None and stored.expires_at is not None
        assert stored.actions == ["upload", "yank"]  # in the table's order, once each
        assert stored.description == ""
        assert near(stored.expires_at, datetime.now(UTC) + timedelta(days=3))
        [event] = await events(session, "token.create")
        assert event.component_id == row.id
        assert event.detail["expires"] == stored.expires_at.isoformat()
        assert event.detail["components"] == ["CSV.Dedupe"]


async def test_a_token_may_name_several_components(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        a = await component(session, "a", "A")
        b = await component(session, "b", "B")
        token = await create_token(session, "alice", components=["B", "a", "b"])
        who = await authenticate(session, bearer(token))
        assert who.components == frozenset({a.id, b.id})
        [event] = await events(session, "token.create")
        assert event.component_id is None  # more than one component: the user's event only


@pytest.mark.parametrize("actions", [[], ["upload", "delete"], ["admin"]])
async def test_token_actions_are_some_of_upload_yank_manage(
    offline_hub: Hub, actions: list[str]
) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        error = await refused(create_token(session, "alice", actions=actions), "token.actions")
        assert error.detail.startswith("token actions must be some of upload, yank, manage; got")
        assert await session.scalar(select(ApiToken)) is None


async def test_a_token_needs_an_existing_user_and_component(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await refused(create_token(session, "nobody"), "user.missing")
        await create_user(session, "alice", "a@b.io", "12345678")
        error = await refused(
            create_token(session, "alice", component="nothing"), "component.missing"
        )
        assert error.detail.endswith("; publish it first with an unscoped token")


@pytest.mark.parametrize("days", [0, -1])
async def test_an_expiry_is_a_positive_number_of_days(offline_hub: Hub, days: int) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        await refused(create_token(session, "alice", expires_days=days), "token.expiry")
        assert await session.scalar(select(ApiToken)) is None


async def test_a_revoked_token_no_longer_authenticates(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await create_user(session, "alice", "a@b.io", "12345678")
        token = await create_token(session, "alice")
        token_id = (await authenticate(session, bearer(token))).token_id
        assert token_id is not None
        before = datetime.now(UTC)
        await revoke_token(session, token_id)
        row = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
        assert row is not None and row.revoked_at is not None
        assert before <= row.revoked_at <= datetime.now(UTC)  # an aware UTC time
        await refused(authenticate(session, bearer(token)), "auth.revoked")
        [event] = await events(session, "token.revoke")
        assert (event.actor, event.target) == ("admin-cli", "user:alice")
        assert event.detail == {"token_id": token_id}
        await refused(revoke_token(session, "0123456789abcdef"), "token.missing")


# -- the Authorization header ---------------------------------------------------------------


# The fixed texts: each names the rule and the fix (errors.py), and clients show them as they are.
SAYS = {
    "token.expiry": "--expires-days must be a positive number of days (or choose --never-expires)",
    "auth.malformed": "the Basic credentials are not base64",
    "auth.token_format": "the API token is not a PySetl Hub token (pshub_...)",
    "auth.invalid": "the API token is invalid: create a new one",
    "auth.revoked": "the API token was revoked: create a new one",
    "auth.expired": "the API token has expired: create a new one",
}


def header_refused(authorization: str | None, code: str) -> None:
    with pytest.raises(HubError) as info:
        token_from_headers(authorization)
    assert info.value.code == code and info.value.status == 401
    assert info.value.detail == SAYS.get(code, info.value.detail)
    assert isinstance(info.value.detail, str) and info.value.detail


def test_bearer_and_twine_basic_carry_the_token() -> None:
    assert token_from_headers("Bearer pshub_x") == "pshub_x"
    assert token_from_headers("bearer   pshub_x  ") == "pshub_x"
    assert token_from_headers(basic("__token__", "pshub_x")) == "pshub_x"
    assert token_from_headers(" ".join(["BASIC", basic("__token__", "a:b").split()[1], ""])) == (
        "a:b"  # only the first colon separates the user
    )


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "auth.missing"),
        ("", "auth.missing"),
        ("Token pshub_x", "auth.scheme"),
        ("Basic not*base64", "auth.malformed"),
        ("Basic X190!b2tlbl9fOng=", "auth.malformed"),  # base64 of __token__:x, with a "!"
        ("Basic " + base64.b64encode(b"__token__:\xff").decode(), "auth.malformed"),
        (basic("alice", "password123"), "auth.username"),
        (basic("__TOKEN__", "pshub_x"), "auth.username"),
    ],
)
def test_other_authorization_headers_are_refused(authorization: str | None, code: str) -> None:
    header_refused(authorization, code)


def test_refusals_say_how_to_send_a_token() -> None:
    with pytest.raises(HubError) as info:
        token_from_headers(None)
    assert info.value.detail.startswith("this endpoint needs an API token: send HTTP Basic")
    assert info.value.detail.endswith("(twine: -u __token__ -p pshub_...)")
    with pytest.raises(HubError) as info:
        token_from_headers(basic("alice", "x"))
    assert info.value.detail.startswith("password logins are not accepted for uploads")
    assert info.value.detail.endswith("an API token as the password")


# -- authenticate ---------------------------------------------------------------------------


async def alice_token(session: AsyncSession, **kw: Any) -> tuple[User, str]:
    user = await create_user(session, "alice", "a@b.io", "12345678")
    return user, await create_token(session, "alice", **kw)


async def test_a_valid_token_names_its_user(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        user, token = await alice_token(session, never_expires=True)
        await session.commit()
    who = await identify(offline_hub, basic("__token__", token), ip="10.0.0.1", user_agent="ua")
    parsed = parse_token(token)
    assert parsed is not None
    assert who == Identity(
        user.id,
        "alice",
        parsed[0],
        None,
        frozenset(TOKEN_ACTIONS),
        is_admin=False,
        expires=None,
        via="token",
        ip="10.0.0.1",
        user_agent="ua",
    )
    assert who.actor.name == "alice" and who.actor.ip == "10.0.0.1"


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda t: "not-a-token", "auth.token_format"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "auth.invalid"),  # the secret
        (lambda t: "pshub_0123456789abcdef_" + t[-43:], "auth.invalid"),  # an unknown id
        (lambda t: "pshubs_" + t[-43:], "auth.session"),  # a sign-in session
    ],
)
async def test_a_wrong_token_is_refused(offline_hub: Hub, mangle: Any, code: str) -> None:
    async with offline_hub.sessions() as session:
        _, token = await alice_token(session)
        parsed = parse_token(token)
        assert parsed is not None
        await refused(authenticate(session, bearer(mangle(token))), code)
        # The id alone is not enough: a right id with another token's secret fails too.
        other = parse_token(await create_token(session, "alice"))
        assert other is not None
        await refused(
            authenticate(session, bearer(f"pshub_{parsed[0]}_{other[1]}")), "auth.invalid"
        )


async def test_an_expired_token_is_refused(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        _, token = await alice_token(session, expires_days=1)
        who = await authenticate(session, bearer(token))
        row = await session.scalar(select(ApiToken).where(ApiToken.token_id == who.token_id))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        await session.flush()
        error = await refused(authenticate(session, bearer(token)), "auth.expired")
        assert error.status == 401


async def test_a_disabled_user_is_refused(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        user, token = await alice_token(session)
        user.is_active = False
        await session.flush()
        error = await refused(authenticate(session, bearer(token)), "auth.inactive")
        assert error.detail == "user 'alice' is disabled"


async def test_a_use_records_when_and_from_where_at_most_once_a_minute(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        _, token = await alice_token(session)
        who = await authenticate(session, bearer(token), ip="10.0.0.1")
        row = await session.scalar(select(ApiToken).where(ApiToken.token_id == who.token_id))
        assert row is not None and row.last_used is not None
        assert (row.last_used_ip, near(row.last_used, datetime.now(UTC))) == ("10.0.0.1", True)
        first = row.last_used
        await authenticate(session, bearer(token), ip="10.0.0.1")
        assert row.last_used == first  # the same address within a minute: not written again
        await authenticate(session, bearer(token), ip="10.0.0.2")
        assert row.last_used_ip == "10.0.0.2" and row.last_used >= first  # a new address is
        row.last_used = first - timedelta(minutes=2)
        await authenticate(session, bearer(token), ip="10.0.0.2")
        assert row.last_used > first  # and so is a use a minute later


# -- roles and scopes -----------------------------------------------------------------------


async def test_roles_decide_who_may_act_and_a_scope_narrows_a_token(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        alice, token = await alice_token(session)
        mine = await component(session, "csv-dedupe", "CSV-Dedupe")
        other = await component(session, "other", "Other")
        await grant(session, alice, mine, "maintainer")
        who = await authenticate(session, bearer(token))
        assert await effective_role(session, alice.id, mine) == "maintainer"
        assert await effective_role(session, alice.id, other) is None
        bob = await create_user(session, "bob", "bob@b.io", "12345678")
        await grant(session, bob, other, "owner")
        assert await effective_role(session, alice.id, other) is None  # bob's is not alice's
        # a maintainer uploads and yanks; deleting and managing take the owner role
        await authorize(session, who, mine, "upload")
        await authorize(session, who, mine, "yank")
        error = await refused(authorize(session, who, mine, "delete"), "auth.role")
        assert error.status == 403
        assert error.detail.startswith(
            "user 'alice' may not delete files or releases of 'CSV-Dedupe': that needs the "
            "owner role and 'alice' has the maintainer role"
        )
        error = await refused(authorize(session, who, other, "upload"), "auth.role")
        assert "that needs the maintainer or owner role and 'alice' has no role" in error.detail
        assert "an owner (bob) can grant it" in error.detail
        # A token scoped to csv-dedupe works there, and nowhere else, whatever the roles.
        await grant(session, alice, other, "owner")
        await authorize(session, who, other, "settings")
        scoped = await authenticate(
            session, bearer(await create_token(session, "alice", component="csv-dedupe"))
        )
        await authorize(session, scoped, mine, "upload")
        error = await refused(authorize(session, scoped, other, "yank"), "auth.scope")
        assert error.status == 403
        assert error.detail.endswith(
            "use a token whose scope includes 'Other', or a user-wide token"
        )
        # and a token's actions narrow it too: an upload-only token cannot yank
        upload_only = await authenticate(
            session, bearer(await create_token(session, "alice", actions=["upload"]))
        )
        await authorize(session, upload_only, mine, "upload")
        error = await refused(authorize(session, upload_only, mine, "yank"), "auth.token_action")
        assert error.extra == {"needed_action": "yank"}


async def test_owners_are_listed_by_name_without_maintainers(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        row = await component(session, "csv-dedupe", "CSV-Dedupe")
        other = await component(session, "other", "Other")
        for name, role in [("zoe", "owner"), ("bob", "maintainer"), ("alice", "owner")]:
            user = await create_user(session, name, f"{name}@b.io", "12345678")
            await grant(session, user, row, role)
            await grant(session, user, other, "owner")
        assert await owners_of(session, row.id) == ["alice", "zoe"]


# -- whoami ---------------------------------------------------------------------------------


async def test_whoami_names_the_token_and_its_scope(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        await alice_token(session)
        await component(session, "csv-dedupe", "CSV_Dedupe")
        token = await create_token(
            session,
            "alice",
            component="csv-dedupe",
            description="ci",
            name="ci",
            never_expires=True,
            actions=["upload"],
        )
        who = await authenticate(session, bearer(token))
        me = await whoami(session, who)
        assert (me.username, me.via, me.session) == ("alice", "token", None)
        assert me.token is not None
        assert (me.token.id, me.token.component, me.token.description, me.token.name) == (
            who.token_id,
            "CSV_Dedupe",
            "ci",
            "ci",
        )
        assert (me.token.components, me.token.actions) == (["CSV_Dedupe"], ["upload"])
        assert me.token.expires is None and me.token.created is not None
        assert me.token.last_used is not None and me.token.revoked is None
        expiring = await authenticate(
            session, bearer(await create_token(session, "alice", expires_days=2))
        )
        unscoped = (await whoami(session, expiring)).token
        assert unscoped is not None
        assert unscoped.component is None and unscoped.components is None
        assert near(unscoped.expires, datetime.now(UTC) + timedelta(days=2))
        gone = Identity(who.user_id, "alice", "0123456789abcdef", None)
        await refused(whoami(session, gone), "auth.invalid")
        ended = Identity(who.user_id, "alice", None, via="session", session_id=12345)
        await refused(whoami(session, ended), "auth.session_invalid")
