"""Publishing, reading and withdrawing advisories over HTTP, and the OSV query API's answers.

One live hub per module and backend; each test publishes components of its own names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.server.advisories.conftest import CVSS3, advisory
from tests.server.governance.conftest import Gov
from tests.support.upload import problem

CVSS4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def _publish(gov: Gov, token: str, name: str, *versions: str) -> None:
    for version in versions:
        assert gov.publish(token, name, version).status_code == 200


def _query(gov: Gov, name: str, version: str | None) -> list[str]:
    body: dict[str, Any] = {"package": {"name": name, "ecosystem": "PyPI"}}
    if version is not None:
        body["version"] = version
    r = gov.http.post("/osv/v1/query", json=body)
    assert r.status_code == 200, r.text
    return [v["id"] for v in r.json().get("vulns", [])]


def _advisories(gov: Gov, name: str) -> list[dict[str, Any]]:
    r = gov.http.get(f"/api/v1/components/{name}/advisories")
    assert r.status_code == 200, r.text
    return r.json()["vulns"]  # type: ignore[no-any-return]


def test_an_owner_publishes_an_osv_record_that_affects_only_its_range(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-range", "1.0.0", "1.9.0", "1.10.0", "2.0.0")
    body = advisory(
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "Adv_Range"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"fixed": "1.10.0"}, {"introduced": "1.9"}]}
                ],
                "versions": ["1.0.0"],
            }
        ],
        severity=[{"type": "CVSS_V3", "score": CVSS3}, {"type": "CVSS_V4", "score": CVSS4}],
    )
    r = gov.call("POST", "/api/v1/components/ADV.range/advisories", ann, json=body)
    assert r.status_code == 201, r.text
    osv = r.json()
    year = datetime.now(UTC).year
    assert osv["id"].startswith(f"PSHUB-{year}-") and len(osv["id"]) == len(f"PSHUB-{year}-0001")
    assert osv["schema_version"].startswith("1.")
    (affected,) = osv["affected"]
    # The package is the component, normalized; the events are stored in version order.
    assert affected["package"] == {
        "ecosystem": "PyPI",
        "name": "adv-range",
        "purl": "pkg:pypi/adv-range",
    }
    assert affected["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.9"}, {"fixed": "1.10.0"}]}
    ]
    assert affected["versions"] == ["1.0.0"]
    assert "withdrawn" not in osv and osv["modified"] == osv["published"]
    assert [s["type"] for s in osv["severity"]] == ["CVSS_V3", "CVSS_V4"]
    # PEP 440 order, not string order: 1.9.0 is in [1.9, 1.10.0), 1.10.0 is not.
    assert _query(gov, "adv-range", "1.9.0") == [osv["id"]]
    assert _query(gov, "adv-range", "1.9.5.post1") == [osv["id"]]
    assert _query(gov, "adv-range", "1.10.0") == []
    assert _query(gov, "adv-range", "2.0.0") == []
    assert _query(gov, "adv-range", "1.0") == [osv["id"]]  # the listed 1.0.0, spelled 1.0
    assert _query(gov, "adv-range", "1.1.0") == []
    assert _query(gov, "ADV_Range", None) == [osv["id"]]  # no version: every advisory
    assert _query(gov, "no-such-component", "1.0") == []
    assert gov.http.get(f"/api/v1/advisories/{osv['id']}").json() == osv
    assert gov.http.get(f"/osv/v1/vulns/{osv['id']}").json() == osv
    assert [a for a, *_ in gov.events("adv-range")][-1] == "advisory.publish"
    assert gov.events("adv-range")[-1][1:] == ("ann", {"id": osv["id"]})


def test_ids_are_assigned_in_sequence_and_never_reused(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-ids", "1.0.0")
    first = gov.call("POST", "/api/v1/components/adv-ids/advisories", ann, json=advisory())
    second = gov.call("POST", "/api/v1/components/adv-ids/advisories", ann, json=advisory())
    a, b = first.json()["id"], second.json()["id"]
    assert int(b.rsplit("-", 1)[1]) == int(a.rsplit("-", 1)[1]) + 1
    own = gov.call(
        "POST", "/api/v1/components/adv-ids/advisories", ann, json=advisory(id="ACME-2026-7")
    )
    assert own.status_code == 201 and own.json()["id"] == "ACME-2026-7"
    again = gov.call(
        "POST", "/api/v1/components/adv-ids/advisories", ann, json=advisory(id="ACME-2026-7")
    )
    assert again.status_code == 409 and problem(again)["code"] == "advisory.duplicate"
    assert len(_advisories(gov, "adv-ids")) == 3


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "fixed before introduced",
        advisory(affected=[{"ranges": [{"events": [{"introduced": "2.0"}, {"fixed": "1.0"}]}]}]),
        400,
        "advisory.range",
    ),
    (
        "fixed equal to introduced",
        advisory(affected=[{"ranges": [{"events": [{"introduced": "1.0"}, {"fixed": "1.0.0"}]}]}]),
        400,
        "advisory.range",
    ),
    (
        "two introduced",
        advisory(
            affected=[{"ranges": [{"events": [{"introduced": "1.0"}, {"introduced": "1.5"}]}]}]
        ),
        400,
        "advisory.range",
    ),
    (
        "fix without introduced",
        advisory(affected=[{"ranges": [{"events": [{"fixed": "1.0"}]}]}]),
        400,
        "advisory.range",
    ),
    (
        "two kinds in one event",
        advisory(affected=[{"ranges": [{"events": [{"introduced": "0", "fixed": "1.0"}]}]}]),
        400,
        "advisory.range",
    ),
    ("no ranges and no versions", advisory(affected=[{}]), 400, "advisory.range"),
    (
        "not PEP 440 in a range",
        advisory(affected=[{"ranges": [{"events": [{"introduced": "0"}, {"fixed": "one.two"}]}]}]),
        400,
        "advisory.version",
    ),
    (
        "not PEP 440 listed",
        advisory(affected=[{"versions": ["1.0-final-x"]}]),
        400,
        "advisory.version",
    ),
    (
        "SEMVER range",
        advisory(affected=[{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]),
        400,
        "http.400",
    ),
    (
        "other package",
        advisory(affected=[{"package": {"name": "requests"}, "versions": ["1.0"]}]),
        400,
        "advisory.package",
    ),
    (
        "other ecosystem",
        advisory(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "versions": ["1.0"]}]),
        400,
        "http.400",
    ),
    (
        "CVSS missing a metric",
        advisory(
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"}]
        ),
        400,
        "advisory.severity",
    ),
    (
        "CVSS bad value",
        advisory(severity=[{"type": "CVSS_V3", "score": CVSS3.replace("AV:N", "AV:Q")}]),
        400,
        "advisory.severity",
    ),
    (
        "CVSS v3 vector as v4",
        advisory(severity=[{"type": "CVSS_V4", "score": CVSS3}]),
        400,
        "advisory.severity",
    ),
    (
        "CVSS twice",
        advisory(severity=[{"type": "CVSS_V3", "score": CVSS3}] * 2),
        400,
        "advisory.severity",
    ),
    (
        "javascript URL",
        advisory(references=[{"type": "WEB", "url": "javascript:alert(1)"}]),
        400,
        "advisory.reference",
    ),
    (
        "ftp URL",
        advisory(references=[{"type": "WEB", "url": "ftp://example.org/x"}]),
        400,
        "advisory.reference",
    ),
    (
        "URL without host",
        advisory(references=[{"type": "WEB", "url": "https:///x"}]),
        400,
        "advisory.reference",
    ),
    (
        "fixed past the int-conversion limit",
        advisory(affected=[{"ranges": [{"events": [{"introduced": "0"}, {"fixed": "1" * 5000}]}]}]),
        400,
        "advisory.version",
    ),
    (
        "listed version past the limit",
        advisory(affected=[{"versions": ["9" * 5000]}]),
        400,
        "advisory.version",
    ),
    (
        "too many listed versions",
        advisory(affected=[{"versions": [f"1.{n}" for n in range(2001)]}]),
        400,
        "http.400",
    ),
    (
        "too many range events",
        advisory(
            affected=[
                {
                    "ranges": [
                        {
                            "events": [
                                {"introduced" if n % 2 == 0 else "fixed": f"1.{n}"}
                                for n in range(102)
                            ]
                        }
                    ]
                }
            ]
        ),
        400,
        "http.400",
    ),
    ("bad alias", advisory(aliases=["CVE-26-1"]), 400, "advisory.alias"),
    ("GHSA alias upper case", advisory(aliases=["GHSA-ABCD-EFGH-JKMP"]), 400, "advisory.alias"),
    ("hub id given", advisory(id="PSHUB-2026-9999"), 400, "advisory.id"),
    ("bad id shape", advisory(id="not an id"), 400, "http.400"),
    ("id with a trailing newline", advisory(id="CVE-2026-1\n"), 400, "http.400"),
    ("unknown field", advisory(cvss=9.8), 400, "http.400"),
    ("empty summary", advisory(summary=""), 400, "http.400"),
    ("no affected", advisory(affected=[]), 400, "http.400"),
]


@pytest.mark.parametrize(("why", "body", "status", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_advisories_are_refused_and_nothing_is_stored(
    gov: Gov, why: str, body: dict[str, Any], status: int, code: str
) -> None:
    ann = gov.token("ann")
    if not _query(gov, "adv-bad", None) and gov.http.get("/simple/adv-bad/").status_code == 404:
        _publish(gov, ann, "adv-bad", "1.0.0")
    before = gov.events("adv-bad")
    r = gov.call("POST", "/api/v1/components/adv-bad/advisories", ann, json=body)
    assert r.status_code == status, (why, r.text)
    assert problem(r)["code"] == code, why
    assert _advisories(gov, "adv-bad") == []
    assert gov.events("adv-bad") == before


def test_unknown_component_is_a_404(gov: Gov) -> None:
    r = gov.call(
        "POST", "/api/v1/components/adv-none/advisories", gov.token("ann"), json=advisory()
    )
    assert r.status_code == 404 and problem(r)["code"] == "component.missing"
    r = gov.http.get("/api/v1/advisories/PSHUB-1999-0001")
    assert r.status_code == 404 and problem(r)["code"] == "advisory.missing"


def test_only_owners_and_admins_publish_and_withdraw(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-who", "1.0.0")
    url = "/api/v1/components/adv-who/advisories"
    stranger = gov.call("POST", url, gov.token("bob"), json=advisory())
    assert stranger.status_code == 403 and problem(stranger)["code"] == "auth.role"
    anonymous = gov.call("POST", url, None, json=advisory())
    assert anonymous.status_code == 401
    upload_only = gov.call("POST", url, gov.token("ann", actions=["upload"]), json=advisory())
    assert upload_only.status_code == 403 and problem(upload_only)["code"] == "auth.token_action"
    assert _advisories(gov, "adv-who") == []
    admin = gov.token("root", admin=True)
    by_admin = gov.call("POST", url, admin, json=advisory())
    assert by_admin.status_code == 201, by_admin.text
    osv_id = by_admin.json()["id"]
    no = gov.call("POST", f"/api/v1/advisories/{osv_id}/withdraw", gov.token("bob"), json={})
    assert no.status_code == 403
    assert "withdrawn" not in gov.http.get(f"/api/v1/advisories/{osv_id}").json()


def test_withdrawn_advisories_affect_nothing_but_stay_readable(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-gone", "1.0.0")
    osv_id = gov.call(
        "POST", "/api/v1/components/adv-gone/advisories", ann, json=advisory()
    ).json()["id"]
    batch = {
        "queries": [
            {"package": {"name": "adv-gone", "ecosystem": "PyPI"}, "version": v}
            for v in ("1.0.0", "1.1.0")
        ]
    }
    r = gov.http.post("/osv/v1/querybatch", json=batch)
    assert r.status_code == 200
    (first, second) = r.json()["results"]
    assert [v["id"] for v in first["vulns"]] == [osv_id] and set(first["vulns"][0]) == {
        "id",
        "modified",
    }
    assert second == {}

    r = gov.call("POST", f"/api/v1/advisories/{osv_id}/withdraw", ann, json={"reason": "dup"})
    assert r.status_code == 200, r.text
    withdrawn = r.json()
    assert withdrawn["withdrawn"] == withdrawn["modified"] > withdrawn["published"]
    assert gov.http.get(f"/osv/v1/vulns/{osv_id}").json()["withdrawn"] == withdrawn["withdrawn"]
    assert _query(gov, "adv-gone", "1.0.0") == []
    assert _query(gov, "adv-gone", None) == []
    assert gov.http.post("/osv/v1/querybatch", json=batch).json() == {"results": [{}, {}]}
    assert gov.events("adv-gone")[-1] == (
        "advisory.withdraw",
        "ann",
        {"id": osv_id, "reason": "dup"},
    )
    again = gov.call("POST", f"/api/v1/advisories/{osv_id}/withdraw", ann, json={})
    assert again.status_code == 409 and problem(again)["code"] == "advisory.withdrawn"


def test_the_list_pages_newest_change_first_and_filters_by_modified_time(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-list", "1.0.0")
    url = "/api/v1/components/adv-list/advisories"
    a = gov.call("POST", url, ann, json=advisory()).json()
    b = gov.call("POST", url, ann, json=advisory()).json()
    listed = gov.http.get("/api/v1/advisories", params={"per_page": 2}).json()
    assert [v["id"] for v in listed["vulns"]] == [b["id"], a["id"]]
    assert listed["total"] >= 2 and listed["per_page"] == 2
    since = gov.http.get("/api/v1/advisories", params={"since": b["modified"]}).json()
    assert [v["id"] for v in since["vulns"]] == [b["id"]]
    bad = gov.http.get("/api/v1/advisories", params={"since": "yesterday"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"commit": "abc123"}, "osv.commit"),
        ({"package": {"name": "x", "ecosystem": "npm"}, "version": "1"}, "osv.ecosystem"),
        ({"version": "1.0"}, "osv.package"),
        ({"package": {"name": "x", "ecosystem": "PyPI"}, "version": "not a version"}, None),
        ({"package": {"name": "x", "ecosystem": "PyPI"}, "version": "1" * 5000}, None),
        ({"package": {"purl": "pkg:pypi/x@" + "2" * 5000}}, None),
    ],
)
def test_osv_queries_the_hub_cannot_answer_are_400(
    gov: Gov, body: dict[str, Any], code: str | None
) -> None:
    ann = gov.token("ann")
    if gov.http.get("/simple/x/").status_code == 404:
        _publish(gov, ann, "x", "1.0.0")
    r = gov.http.post("/osv/v1/query", json=body)
    assert r.status_code == 400, r.text
    assert problem(r)["code"] == (code or "advisory.version")


def test_purl_queries_are_answered(gov: Gov) -> None:
    ann = gov.token("ann")
    _publish(gov, ann, "adv-purl", "1.0.0")
    osv_id = gov.call(
        "POST", "/api/v1/components/adv-purl/advisories", ann, json=advisory()
    ).json()["id"]
    r = gov.http.post("/osv/v1/query", json={"package": {"purl": "pkg:pypi/adv-purl@1.0.0"}})
    assert [v["id"] for v in r.json()["vulns"]] == [osv_id]


def test_osv_queries_are_answered_while_the_hub_is_read_only(gov: Gov) -> None:
    """They are reads sent as POST: maintenance must not stop an audit (publishing stops)."""
    from pysetl_hub_server.security.readonly import set_read_only

    ann = gov.token("ann")
    _publish(gov, ann, "adv-ro", "1.0.0")
    osv_id = gov.call("POST", "/api/v1/components/adv-ro/advisories", ann, json=advisory()).json()[
        "id"
    ]
    gov.live.run(lambda hub: set_read_only(hub, True))
    try:
        assert _query(gov, "adv-ro", "1.0.0") == [osv_id]
        batch = {"queries": [{"package": {"name": "adv-ro", "ecosystem": "PyPI"}, "version": "1"}]}
        assert gov.http.post("/osv/v1/querybatch", json=batch).status_code == 200
        refused = gov.call("POST", "/api/v1/components/adv-ro/advisories", ann, json=advisory())
        assert refused.status_code == 503
    finally:
        gov.live.run(lambda hub: set_read_only(hub, False))
