"""Admins: quarantine (hidden everywhere, files kept but not served, uploads refused, owners told
why), prohibited names, and the server's `admin` command line."""

from __future__ import annotations

import subprocess
import time

from sqlalchemy import select

from pysetl_hub_server.db import models
from tests.server.governance.conftest import Gov
from tests.support.clients import BIN
from tests.support.upload import problem

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def root_names(gov: Gov) -> set[str]:
    return {p["name"] for p in gov.http.get("/simple/", headers=JSON).json()["projects"]}


def searchable(gov: Gov, name: str) -> bool:
    hits = gov.http.get("/api/v1/search", params={"q": name}).json()["hits"]
    return any(h["name"] == name for h in hits)


def eventually(check: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the change did not show in time"
        time.sleep(0.05)


def test_quarantine_hides_keeps_and_refuses(gov: Gov) -> None:
    vic, wes, admin = gov.token("vic"), gov.token("wes"), gov.token("boss", admin=True)
    name = "quar-tool"
    assert gov.publish(vic, name).status_code == 200
    # Everything in memory first: the root list, the project page, the file.
    assert name in root_names(gov)
    page = gov.http.get(f"/simple/{name}/", headers=JSON).json()
    file_url = page["files"][0]["url"]
    assert gov.http.get(file_url).status_code == 200
    eventually(lambda: searchable(gov, name))

    url = f"/api/v1/admin/components/{name}/quarantine"
    refused = gov.call("POST", url, vic, json={"reason": "mine"})
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.admin"
    assert "only a hub admin may quarantine" in problem(refused)["detail"]
    r = gov.call("POST", url, admin, json={"reason": "reported as malware (#12)"})
    assert r.status_code == 200
    assert r.json()["quarantined"] is True and r.json()["reason"] == "reported as malware (#12)"

    # Gone for the public at once, cached pages included.
    assert name not in root_names(gov)
    assert gov.http.get(f"/simple/{name}/", headers=JSON).status_code == 404
    assert gov.http.get(file_url).status_code == 404
    assert gov.http.get(f"{file_url}.metadata").status_code == 404
    assert gov.http.get(f"/api/v1/components/{name}").status_code == 404
    assert gov.http.get(f"/api/v1/components/{name}/1.0.0").status_code == 404
    listed = gov.http.get("/api/v1/components", params={"per_page": 100}).json()["items"]
    assert name not in [c["name"] for c in listed]
    eventually(lambda: not searchable(gov, name))
    # Its owner still sees it, and why; so does an admin; a stranger does not.
    seen = gov.call("GET", f"/api/v1/components/{name}", vic).json()
    assert seen["quarantined"] is True and seen["quarantine_reason"] == "reported as malware (#12)"
    assert gov.call("GET", f"/api/v1/components/{name}", admin).status_code == 200
    assert gov.call("GET", f"/api/v1/components/{name}", wes).status_code == 404
    # Uploads are refused, saying why and whom to contact.
    upload = gov.publish(vic, name, "1.1.0")
    assert upload.status_code == 403
    body = problem(upload)
    assert body["code"] == "component.quarantined"
    assert "reported as malware (#12)" in body["detail"] and "boss" in body["detail"]
    assert ("component.quarantine", "boss") in [(a, who) for a, who, _ in gov.events(name)]

    # Files were kept: released, everything is back.
    released = gov.call("DELETE", url, admin)
    assert released.status_code == 200 and released.json()["quarantined"] is False
    assert name in root_names(gov)
    assert gov.http.get(file_url).status_code == 200
    assert gov.publish(vic, name, "1.1.0").status_code == 200
    eventually(lambda: searchable(gov, name))


def test_a_prohibited_name_cannot_be_created(gov: Gov) -> None:
    """Neither by a first upload nor by reserving it for a trusted publisher."""
    yan, admin = gov.token("yan"), gov.token("boss2", admin=True)
    body = {"name": "Evil_Pkg", "reason": "typosquat of evil-pkg-real"}
    refused = gov.call("POST", "/api/v1/admin/prohibited-names", yan, json=body)
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.admin"
    r = gov.call("POST", "/api/v1/admin/prohibited-names", admin, json=body)
    assert r.status_code == 201 and r.json() == {"name": "evil-pkg", "reason": body["reason"]}
    for candidate in ("evil-pkg", "evi1.pkg"):  # the name and a look-alike
        upload = gov.publish(yan, candidate)
        assert upload.status_code == 403 and problem(upload)["code"] == "name.prohibited"
        assert "typosquat of evil-pkg-real" in problem(upload)["detail"]
        publisher = {"kind": "github", "repository": "yan/x", "workflow": "ci.yml"}
        reserve = gov.call(
            "POST", f"/api/v1/components/{candidate}/publishers", yan, json=publisher
        )
        assert reserve.status_code == 403 and problem(reserve)["code"] == "name.prohibited"


def admin_cli(gov: Gov, *args: str) -> subprocess.CompletedProcess[str]:
    settings = gov.live.settings
    return subprocess.run(
        [
            str(BIN / "pysetl-hub-server"),
            "--data-dir",
            str(settings.data_dir),
            "--database-url",
            settings.effective_database_url,
            "admin",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_server_admin_command_line(gov: Gov) -> None:
    zoe = gov.token("zoe")
    assert gov.publish(zoe, "cli-tool").status_code == 200
    assert "cli-tool" in root_names(gov)

    r = admin_cli(gov, "quarantine", "cli-tool", "--reason", "under review")
    assert r.returncode == 0, r.stderr
    eventually(lambda: "cli-tool" not in root_names(gov))  # the server's cache follows the serial
    assert gov.http.get("/simple/cli-tool/").status_code == 404
    seen = gov.call("GET", "/api/v1/components/cli-tool", zoe).json()
    assert seen["quarantine_reason"] == "under review"
    assert admin_cli(gov, "release", "cli-tool").returncode == 0
    eventually(lambda: "cli-tool" in root_names(gov))

    assert admin_cli(gov, "prohibit", "cli-banned", "--reason", "no").returncode == 0
    assert problem(gov.publish(zoe, "cli-banned"))["code"] == "name.prohibited"
    assert gov.call("POST", "/api/v1/orgs", zoe, json={"name": "zoeco"}).status_code == 201
    assert admin_cli(gov, "reserve-prefix", "zoeco", "zoeco").returncode == 0
    other = gov.token("other-zoe")
    assert problem(gov.publish(other, "zoeco-x"))["code"] == "name.reserved"

    quarantine = {"reason": "x"}
    before = gov.call("POST", "/api/v1/admin/components/cli-tool/quarantine", zoe, json=quarantine)
    assert before.status_code == 403
    assert admin_cli(gov, "grant", "zoe").returncode == 0
    after = gov.call("POST", "/api/v1/admin/components/cli-tool/quarantine", zoe, json=quarantine)
    assert after.status_code == 200
    assert (
        gov.call("DELETE", "/api/v1/admin/components/cli-tool/quarantine", zoe).status_code == 200
    )
    assert admin_cli(gov, "revoke", "zoe").returncode == 0
    again = gov.call("POST", "/api/v1/admin/components/cli-tool/quarantine", zoe, json=quarantine)
    assert again.status_code == 403
    missing = admin_cli(gov, "grant", "nobody-here")
    assert missing.returncode == 1 and "no user named 'nobody-here'" in missing.stderr

    async def actors(hub):  # type: ignore[no-untyped-def]
        async with hub.sessions() as session:
            rows = await session.execute(
                select(models.AuditEvent.action, models.AuditEvent.actor).where(
                    models.AuditEvent.action.in_(["user.admin.grant", "name.prohibit"])
                )
            )
            return set(rows)

    assert {("user.admin.grant", "admin-cli"), ("name.prohibit", "admin-cli")} <= gov.live.run(
        actors
    )
