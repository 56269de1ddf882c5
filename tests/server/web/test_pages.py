"""The pages over HTTP, as a browser would fetch them but without one: languages, caching,
errors, redirects and CSRF. The browser itself is in test_browser.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from pysetl_hub_server.web.component import safe_links
from pysetl_hub_server.web.context import local_path
from tests.server.web.conftest import PASSWORD, Site

HTML = {"Accept": "text/html"}
PAGES = [
    "/",
    "/search",
    "/search?q=csv",
    "/components/csv-dedupe",
    "/users/alice",
    "/guides",
    "/guides/publish",
    "/guides/install",
    "/schema",
    "/account/sign-in",
]


@pytest.fixture
def http(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30, headers=HTML) as client:
        yield client


def _signed_in(http: httpx.Client, user: str = "alice") -> str:
    """Sign in through the form; the CSRF token the signed-in pages carry."""
    form = http.get("/account/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = http.post(
        "/account/sign-in",
        data={
            "csrf_token": token.group(1),
            "username": user,
            "password": PASSWORD,
            "next": "/account",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/account", r.text
    page = http.get("/account/tokens")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_in_its_language_and_loads_only_from_the_hub(
    http: httpx.Client, path: str
) -> None:
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    if path != "/schema":  # Litestar's OpenAPI router sends the reference page without it
        assert r.headers["content-language"] == "en"
    assert '<html lang="en" dir="ltr">' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    # Every asset the page loads is the hub's own (scripts, styles, images, icons).
    for attr, url in re.findall(r'<(?:script|link|img)\b[^>]*\b(src|href)="([^"]+)"', r.text):
        assert url.startswith("/"), (attr, url)
        assert not url.startswith("//"), url
    assert "<script>" not in r.text and " style=" not in r.text  # nothing inline for CSP to allow


def test_accept_language_then_the_picker_cookie_choose_the_language(http: httpx.Client) -> None:
    r = http.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es" dir="ltr">' in r.text and r.headers["content-language"] == "es"
    r = http.get("/", headers={"Accept-Language": "fr-FR, ar;q=0.8"})
    assert '<html lang="ar" dir="rtl">' in r.text
    picked = http.get("/language/ar", params={"next": "/search?q=csv"})
    assert picked.status_code == 303 and picked.headers["location"] == "/search?q=csv"
    cookie = picked.headers["set-cookie"]
    assert "pysetl_hub_lang=ar" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    r = http.get("/search?q=csv", headers={"Accept-Language": "es"})  # the choice wins
    assert '<html lang="ar" dir="rtl">' in r.text and r.headers["content-language"] == "ar"
    http.cookies.clear()
    assert http.get("/language/xx").status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nSet-Cookie: x=1",
        "http:/evil.example",
    ],
)
def test_the_picker_never_sends_the_reader_to_another_site(http: httpx.Client, target: str) -> None:
    r = http.get("/language/es", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert local_path(target) == "/"


def test_local_paths_keep_their_query() -> None:
    assert local_path("/components/x?tab=files") == "/components/x?tab=files"
    assert local_path(None, "/account") == "/account"


def test_an_anonymous_page_has_an_etag_and_changes_when_the_component_does(
    site: Site, http: httpx.Client
) -> None:
    first = http.get("/components/daily-sales-pipeline")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    assert (
        http.get("/components/daily-sales-pipeline", headers={"If-None-Match": etag}).status_code
        == 304
    )
    version = re.search(r'class="version">([^<]+)<', first.text)
    assert version is not None
    site.cli(
        "yank",
        "daily-sales-pipeline",
        version.group(1),
        "--reason",
        "broken on Spark 4",
        token=site.alice,
    )
    after = http.get("/components/daily-sales-pipeline", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert "broken on Spark 4" in after.text and "yanked" in after.text
    site.cli("unyank", "daily-sales-pipeline", version.group(1), token=site.alice)


def test_the_component_page_shows_readme_matrix_signer_and_install_commands(
    http: httpx.Client,
) -> None:
    page = http.get("/components/csv-dedupe").text
    assert '<h2 id="matrix-title">Compatibility</h2>' in page and "<table>" in page
    assert "Signed by GitHub Actions acme/csv-dedupe, workflow release.yml" in page
    assert "Not signed" in page or "1.1.0" in page
    assert "pysetl-hub install csv-dedupe" in page and "/simple/ csv-dedupe" in page
    assert 'href="https://example.org/pysetl/csv-dedupe"' in page  # the project link


def test_only_http_links_are_offered() -> None:
    assert safe_links(
        {
            "Home": "https://x.org",
            "Bad": "javascript:alert(1)",
            "Data": "data:,x",
            "File": "file:///etc/passwd",
            "Plain": "http://y.org",
        }
    ) == [
        ("Home", "https://x.org"),
        ("Plain", "http://y.org"),
    ]


def test_a_browser_gets_error_pages_and_other_clients_get_problems(http: httpx.Client) -> None:
    page = http.get("/components/no-such-thing")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'action="/search"' in page.text
    unknown = http.get("/no/such/page")
    assert unknown.status_code == 404 and "Page not found" in unknown.text
    spanish = http.get("/no/such/page", headers={"Accept-Language": "es"})
    assert spanish.status_code == 404 and '<html lang="es"' in spanish.text
    for headers in ({"Accept": "application/json"}, {"Accept": "*/*"}):
        problem = http.get("/no/such/page", headers=headers)
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
    api = http.get("/api/v1/components/no-such-thing")  # an API path stays an API path
    assert api.headers["content-type"] == "application/problem+json"


def test_search_works_without_javascript_and_htmx_gets_only_the_results(http: httpx.Client) -> None:
    full = http.get("/search", params={"q": "csv"})
    assert '<form id="search-form"' in full.text and "/components/csv-dedupe" in full.text
    fragment = http.get("/search", params={"q": "csv"}, headers={"HX-Request": "true"})
    assert (
        fragment.text.lstrip().startswith('<section id="results"') and "<html" not in fragment.text
    )
    narrowed = http.get("/search", params={"kind": "pipeline"})
    assert "/components/daily-sales-pipeline" in narrowed.text
    assert "/components/csv-dedupe" not in narrowed.text
    bad = http.get("/search", params={"python": "not-a-version"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text


def test_a_signed_in_form_without_its_csrf_token_changes_nothing(
    site: Site, http: httpx.Client
) -> None:
    csrf = _signed_in(http)
    before = httpx.get(
        f"{site.url}/api/v1/tokens", headers={"Authorization": f"Bearer {site.alice}"}
    ).json()
    for sent in ({}, {"csrf_token": "0" * 64}, {"csrf_token": csrf[:-1]}):
        r = http.post("/account/tokens", data={"name": "sneaky", **sent})
        assert r.status_code == 403 and "form is out of date" in r.text
    after = httpx.get(
        f"{site.url}/api/v1/tokens", headers={"Authorization": f"Bearer {site.alice}"}
    ).json()
    assert after == before
    made = http.post(
        "/account/tokens", data={"name": "from the web", "csrf_token": csrf, "actions": "upload"}
    )
    assert made.status_code == 201 and "pshub_" in made.text
    assert made.headers["cache-control"] == "no-store"


def test_the_sign_in_form_is_protected_against_login_csrf(site: Site) -> None:
    with httpx.Client(base_url=site.url, headers=HTML) as other_site:
        r = other_site.post("/account/sign-in", data={"username": "alice", "password": PASSWORD})
        assert r.status_code == 403 and "pshub_session" not in r.headers.get("set-cookie", "")


def test_the_session_cookie_is_http_only_and_same_site(site: Site) -> None:
    with httpx.Client(base_url=site.url, headers=HTML) as http:
        form = http.get("/account/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        form_cookie = form.headers["set-cookie"]
        assert "HttpOnly" in form_cookie and "SameSite=strict" in form_cookie
        r = http.post(
            "/account/sign-in",
            data={"csrf_token": token.group(1), "username": "alice", "password": PASSWORD},
        )
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("pshub_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert http.get("/account").headers["cache-control"] == "private, no-store"


def test_signed_out_visitors_are_sent_to_sign_in(http: httpx.Client) -> None:
    r = http.get("/account/tokens")
    assert r.status_code == 303 and r.headers["location"].startswith(
        "/account/sign-in?next=/account/tokens"
    )


def test_a_warm_page_from_the_hot_path_is_the_page_the_app_renders(site: Site) -> None:
    """The second request is answered before the framework runs (web/hot.py): same bytes,
    same headers; a signed-in visitor and a HEAD are handled too."""
    with httpx.Client(base_url=site.url, headers={**HTML, "Accept-Language": "es"}) as http:
        for path in ("/", "/components/csv-dedupe"):
            cold, warm = http.get(path), http.get(path)
            assert warm.content == cold.content
            for name in ("content-type", "etag", "content-language", "vary", "cache-control",
                         "content-security-policy", "x-content-type-options"):  # fmt: skip
                assert warm.headers[name] == cold.headers[name], (path, name)
            head = http.head(path)
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-length"] == str(len(cold.content))
            assert (
                http.get(path, headers={"If-None-Match": cold.headers["etag"]}).status_code == 304
            )
        _signed_in(http)  # now with a session cookie: the app renders the page for alice
        mine = http.get("/components/csv-dedupe")
        assert mine.headers["cache-control"] == "private, no-store" and "etag" not in mine.headers
        assert "Administrar este componente" in mine.text


COLD_PAGES = [
    "/components/daily-sales-pipeline",
    "/components/no-such-thing",
    "/search?q=dedupe",
    "/guides",
    "/guides/install",
    "/users/alice",
    "/simple/",
    "/simple/csv-dedupe/",
    "/account/sign-in",
]


@pytest.mark.parametrize("path", COLD_PAGES)
def test_head_of_a_page_not_yet_rendered_is_its_get_without_the_body(site: Site, path: str) -> None:
    """HEAD comes first, so no memo holds the page (a language no other test asks for): the app
    answers it as the GET it would answer, headers and status, without the body."""
    headers = {**HTML, "Accept-Language": "ar"}
    with httpx.Client(base_url=site.url, headers=headers) as http:
        head = http.head(path)
        got = http.get(path)
    assert head.status_code == got.status_code != 405, (path, head.status_code)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if "etag" in got.headers and not path.startswith("/account/"):  # a form's token is new
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-length"] == str(len(got.content))


def test_sign_in_asks_for_the_second_factor_once_it_is_on(site: Site) -> None:
    """The web form takes the TOTP code; without it (or with a wrong one) no session starts."""
    import pyotp

    assert site.carol  # carol exists; turning two-factor on takes a signed-in session
    session = httpx.post(
        f"{site.url}/api/v1/session", json={"username": "carol", "password": PASSWORD}
    ).json()["session"]
    auth = {"Authorization": f"Bearer {session}"}
    setup = httpx.post(f"{site.url}/api/v1/me/totp", headers=auth)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirmed = httpx.post(
        f"{site.url}/api/v1/me/totp/confirm", headers=auth, json={"code": pyotp.TOTP(secret).now()}
    )
    assert confirmed.status_code == 200, confirmed.text
    with httpx.Client(base_url=site.url, headers=HTML) as http:
        for otp in ("", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"):
            form = http.get("/account/sign-in")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None
            r = http.post(
                "/account/sign-in",
                data={"csrf_token": csrf.group(1), "username": "carol", "password": PASSWORD,
                      "otp": otp},
            )  # fmt: skip
            assert r.status_code == 401 and "pshub_session" not in r.headers.get("set-cookie", "")
            assert 'lang="en"' in r.text  # an error page, in the reader's language
        form = http.get("/account/sign-in")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        r = http.post(
            "/account/sign-in",
            # The next step's code: the one that confirmed the set-up is spent (no replay).
            data={"csrf_token": csrf.group(1), "username": "carol", "password": PASSWORD,
                  "otp": pyotp.TOTP(secret).at(time.time() + 30)},
        )  # fmt: skip
        assert r.status_code == 303 and http.get("/account").status_code == 200


def test_an_owner_withdraws_an_invitation_sent_to_the_wrong_person(site: Site) -> None:
    with httpx.Client(base_url=site.url, headers=HTML) as http:
        csrf = _signed_in(http)
        sent = http.post(
            "/account/components/daily-sales-pipeline/invite",
            data={"csrf_token": csrf, "username": "carol", "role": "owner"},
        )
        assert sent.status_code == 303
        page = http.get("/account/components/daily-sales-pipeline").text
        found = re.search(r"/invitations/(\d+)/revoke", page)
        assert found is not None and "Waiting for an answer" in page
        without = http.post(
            f"/account/components/daily-sales-pipeline/invitations/{found.group(1)}/revoke"
        )
        assert without.status_code == 403  # no CSRF token, no change
        assert "Waiting for an answer" in http.get("/account/components/daily-sales-pipeline").text
        done = http.post(
            f"/account/components/daily-sales-pipeline/invitations/{found.group(1)}/revoke",
            data={"csrf_token": csrf},
        )
        assert done.status_code == 303
        assert (
            "Waiting for an answer" not in http.get("/account/components/daily-sales-pipeline").text
        )
    mine = httpx.get(
        f"{site.url}/api/v1/invitations", headers={"Authorization": f"Bearer {site.carol}"}
    )
    assert all(i["status"] != "pending" for i in mine.json()["invitations"])


def test_a_bug_is_a_page_for_a_browser_and_a_problem_for_every_other_client(site: Site) -> None:
    """The 500 answer: an HTML page that says what to do for a browser on a web page, the
    problem+json it always was for the API (twine, the CLI), never the other way round."""
    from pysetl_hub_server.web import pages

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    original = pages.catalog.user_components
    pages.catalog.user_components = broken  # type: ignore[assignment]
    try:
        with httpx.Client(base_url=site.url, headers={**HTML, "Accept-Language": "es"}) as http:
            page = http.get("/users/bob")  # a page no other test has warmed
        assert page.status_code == 500 and '<html lang="es"' in page.text
        assert "internal" in page.text and "a bug" not in page.text
        problem = httpx.get(f"{site.url}/users/bob", headers={"Accept": "application/json"})
        assert problem.status_code == 500
        assert problem.headers["content-type"] == "application/problem+json"
    finally:
        pages.catalog.user_components = original


def test_the_component_page_shows_advisories_the_versions_they_affect_and_the_quality_score(
    site: Site, http: httpx.Client
) -> None:
    """The page is in the memo first; publishing and withdrawing an advisory drop it there
    (advisories/services.py announces the change), so the next visit shows each state."""
    auth = {"Authorization": f"Bearer {site.alice}"}
    before = http.get("/components/csv-dedupe").text
    document = http.get("/api/v1/components/csv-dedupe").json()
    quality = document["quality"]
    assert f"<strong>{quality['total']}</strong> / 100" in before
    for signal in quality["signals"]:
        assert f">{signal['explanation']}</span>" in before.replace("&#39;", "'"), signal
    assert "Documented entry points" in before
    assert "No security advisory has been published for this component." in before
    assert "1.0.0" in document["versions"] and "1.1.0" in document["versions"]
    r = http.post(
        "/api/v1/components/csv-dedupe/advisories",
        headers=auth,
        json={
            "aliases": ["CVE-2026-12345"],
            "summary": "Dedupe keeps the first of two rows whose keys differ only in case",
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"}
            ],
            "affected": [
                {
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}
                    ]
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    osv_id = r.json()["id"]
    page = http.get("/components/csv-dedupe").text
    assert f'<a href="/api/v1/advisories/{osv_id}">{osv_id}</a>' in page
    assert "Dedupe keeps the first of two rows" in page and "CVE-2026-12345" in page
    assert '<code dir="ltr">&lt;1.1.0</code>' in page  # affected: every version before 1.1.0
    assert "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N" in page
    versions = re.findall(r"<li[^>]*><span class=\"v\">([^<]+)</span>(.*?)</li>", page)
    marks = {version: f'href="#{osv_id}"' in rest for version, rest in versions}
    assert marks["1.0.0"] and not marks["1.1.0"], marks
    spanish = http.get("/components/csv-dedupe", headers={"Accept-Language": "es"}).text
    assert "Avisos de seguridad" in spanish and "Puntuación de calidad" in spanish
    arabic = http.get("/components/csv-dedupe", headers={"Accept-Language": "ar"}).text
    assert "Security advisories" not in arabic and "Quality score" not in arabic

    r = http.post(f"/api/v1/advisories/{osv_id}/withdraw", headers=auth, json={"reason": "x"})
    assert r.status_code == 200, r.text
    withdrawn = http.get("/components/csv-dedupe").text
    assert 'class="advisory withdrawn"' in withdrawn and ">withdrawn</span>" in withdrawn
    assert f'href="#{osv_id}"' not in withdrawn  # no version is affected any more
