"""The marketplace in a real Chromium: what a visitor does, in English, Spanish and Arabic.

Every page visited is also checked for accessibility (axe-core: no serious or critical
violation), for requests leaving the hub's origin, for Content-Security-Policy reports and for
script errors. Screenshots of the main pages go to docs/images/ (shown in the README)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.server.web.browser import DESKTOP, PHONE, Watched, new_context, watch
from tests.server.web.conftest import PASSWORD, Site

IMAGES = Path(__file__).resolve().parents[3] / "docs" / "images"
PUBLIC = [
    "/",
    "/search?q=csv",
    "/components/csv-dedupe",
    "/components/hostile-readme",
    "/users/alice",
    "/guides",
    "/guides/publish",
    "/account/sign-in",
    "/no/such/page",
    "/schema",
]
SIGNED_IN = ["/account", "/account/tokens", "/account/components/csv-dedupe"]


def clean(watched: Watched) -> None:
    """What every visited page must show: nothing foreign, nothing blocked, nothing broken,
    nothing inaccessible."""
    assert watched.foreign_requests() == []
    assert watched.csp_reports == []
    assert watched.errors == []
    assert watched.axe() == [], watched.page.url


def choose_language(context: BrowserContext, site: Site, language: str) -> None:
    context.add_cookies([{"name": "pysetl_hub_lang", "value": language, "url": site.url}])


def sign_in(watched: Watched, site: Site, user: str = "alice") -> None:
    page = watched.page
    page.goto(f"{site.url}/account/sign-in")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{site.url}/account")


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(browser)
    yield context
    context.close()


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_every_page_is_accessible_self_contained_and_in_its_language(
    browser: Browser, site: Site, language: str
) -> None:
    context = new_context(browser)
    choose_language(context, site, language)
    watched = watch(context, site.url)
    direction = "rtl" if language == "ar" else "ltr"
    for path in PUBLIC:
        watched.page.goto(site.url + path)
        html = watched.page.locator("html")
        expect(html).to_have_attribute("lang", language)
        expect(html).to_have_attribute("dir", direction)
        clean(watched)
    sign_in(watched, site)
    for path in SIGNED_IN:
        watched.page.goto(site.url + path)
        expect(watched.page.locator("html")).to_have_attribute("dir", direction)
        clean(watched)
    context.close()


def test_the_api_reference_is_served_by_the_hub(desktop: BrowserContext, site: Site) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    page.goto(f"{site.url}/schema")
    upload = page.locator("details.operation", has_text="/legacy")
    expect(upload.first).to_be_visible()
    upload.first.locator("summary").click()
    expect(upload.first.locator("h3", has_text="Responses")).to_be_visible()
    page.locator("a[href='#schemas']").click()
    expect(page.locator("#schema-ComponentPage")).to_be_visible()
    clean(watched)  # axe-clean, no script errors, nothing from elsewhere


def test_search_as_you_type_finds_a_component_and_facets_narrow(
    desktop: BrowserContext, site: Site
) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    page.goto(f"{site.url}/search")
    page.locator("#q").press_sequentially("dedupe", delay=40)
    results = page.locator("#results")
    expect(results.locator("a[href='/components/csv-dedupe']")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/search\?q=dedupe"))  # the URL carries the query
    page.locator("#q").fill("")
    page.select_option("select[name=kind]", "pipeline")
    expect(results.locator("a[href='/components/daily-sales-pipeline']")).to_be_visible()
    expect(results.locator("a[href='/components/csv-dedupe']")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"kind=pipeline"))
    page.reload()  # a shared link shows the same results
    expect(page.locator("select[name=kind]")).to_have_value("pipeline")
    expect(results.locator("a[href='/components/csv-dedupe']")).to_have_count(0)
    clean(watched)


def test_the_component_page_shows_the_readme_the_matrix_and_the_signer(
    desktop: BrowserContext, site: Site
) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    page.goto(f"{site.url}/components/csv-dedupe")
    expect(page.locator(".prose h1")).to_have_count(1)  # the README, rendered from Markdown
    matrix = page.locator(".matrix table")
    expect(matrix).to_be_visible()
    expect(matrix.locator("thead")).to_contain_text("Python")
    expect(matrix.locator("tbody tr")).to_have_count(2)  # 1.1.0 and 1.0.0
    expect(page.locator(".signer").first).to_contain_text(
        "Signed by GitHub Actions acme/csv-dedupe, workflow release.yml"
    )
    expect(page.locator(".install code").first).to_have_text("pysetl-hub install csv-dedupe")
    clean(watched)


def test_sign_in_create_a_token_shown_once_then_revoke_it(
    desktop: BrowserContext, site: Site
) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    sign_in(watched, site)
    page.goto(f"{site.url}/account/tokens")
    page.fill("#token-name", "browser-made")
    page.fill("#token-components", "csv-dedupe")
    page.click("section[aria-labelledby=new-token] button[type=submit]")
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("pshub_")
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    clean(watched)
    page.goto(f"{site.url}/account/tokens")
    assert secret not in page.content()  # shown once: never again
    row = page.locator("tr", has_text="browser-made")
    row.locator("button.danger").click()
    expect(page.locator("tr", has_text="browser-made").locator(".badge.danger")).to_be_visible()
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401


def test_invite_a_maintainer_who_accepts(browser: Browser, site: Site) -> None:
    alice_ctx, bob_ctx = new_context(browser), new_context(browser)
    alice, bob = watch(alice_ctx, site.url), watch(bob_ctx, site.url)
    sign_in(alice, site, "alice")
    alice.page.goto(f"{site.url}/account/components/hostile-readme")
    alice.page.fill("#invite-user", "bob")
    alice.page.select_option("#invite-role", "maintainer")
    alice.page.click("text=Send invitation")
    expect(alice.page).to_have_url(re.compile(r"done=invited"))
    waiting = alice.page.locator("section[aria-labelledby=collab-title] li", has_text="bob")
    expect(waiting.locator("button", has_text="Withdraw")).to_be_visible()
    sign_in(bob, site, "bob")
    invitation = bob.page.locator("li", has_text="hostile-readme")
    expect(invitation).to_contain_text("maintainer")
    invitation.locator("button", has_text="Accept").click()
    expect(bob.page).to_have_url(re.compile(r"done=accept"))
    bob.page.goto(f"{site.url}/components/hostile-readme")
    expect(bob.page.locator(".people")).to_contain_text("bob")
    clean(bob)
    alice_ctx.close()
    bob_ctx.close()


def test_yank_a_release_and_see_the_mark(desktop: BrowserContext, site: Site) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    sign_in(watched, site)
    page.goto(f"{site.url}/account/components/csv-dedupe")
    row = page.locator("section[aria-labelledby=rel-title] li", has_text="1.0.0")
    row.locator("input[name=reason]").fill("wrong delimiter default")
    row.locator("button", has_text="Yank").click()
    expect(page).to_have_url(re.compile(r"done=yanked"))
    page.goto(f"{site.url}/components/csv-dedupe")
    versions = page.locator(".versions li.yanked")
    expect(versions).to_contain_text("1.0.0")
    expect(versions).to_contain_text("wrong delimiter default")
    clean(watched)
    page.goto(f"{site.url}/account/components/csv-dedupe")
    page.locator("section[aria-labelledby=rel-title] li", has_text="1.0.0").locator(
        "button", has_text="Unyank"
    ).click()
    expect(page).to_have_url(re.compile(r"done=unyanked"))


def test_switch_to_spanish_then_to_arabic(desktop: BrowserContext, site: Site) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    page.goto(f"{site.url}/components/csv-dedupe")
    page.click("details.languages summary")
    page.click("a[hreflang=es]")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(f"{site.url}/components/csv-dedupe")  # back where the reader was
    expect(page.locator("#install-title")).to_have_text("Instalación")
    page.click("details.languages summary")
    page.click("a[hreflang=ar]")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    # Right to left for real: the brand sits at the right edge, the sidebar on the left.
    brand = page.locator(".brand").bounding_box()
    aside = page.locator("aside.secondary").bounding_box()
    primary = page.locator(".primary").bounding_box()
    assert brand and aside and primary
    assert brand["x"] > DESKTOP["width"] / 2
    assert aside["x"] < primary["x"]
    clean(watched)


def test_keyboard_only_navigation_through_search(desktop: BrowserContext, site: Site) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()  # the first stop skips the navigation
    page.keyboard.press("/")  # the catalogue's shortcut to the search box
    expect(page.locator("#top-q")).to_be_focused()
    page.keyboard.type("csv")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=csv"))
    link = page.locator("#results a[href='/components/csv-dedupe']")
    for _ in range(60):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    outline = link.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/components/csv-dedupe")
    clean(watched)


def test_hostile_readmes_are_inert(desktop: BrowserContext, site: Site) -> None:
    watched = watch(desktop, site.url)
    page = watched.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site.url}/components/hostile-readme")
    prose = page.locator(".prose")
    expect(prose.locator("h2").first).to_be_visible()  # the README is there
    for selector in ("script", "iframe", "form", "object", "embed", "style", "img", "svg",
                     "[style]", "[onerror]", "[onload]", "[onmouseover]", "a[href^='javascript']",
                     "a[href^='data']"):  # fmt: skip
        expect(prose.locator(selector)).to_have_count(0)
    prose.hover()
    for link in prose.locator("a").all():
        link.hover()
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    clean(watched)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pages_fit_a_phone(browser: Browser, site: Site, language: str) -> None:
    context = new_context(browser, viewport=PHONE)
    choose_language(context, site, language)
    watched = watch(context, site.url)
    for path in ["/", "/search?q=csv", "/components/csv-dedupe", "/guides/publish"]:
        watched.page.goto(site.url + path)
        width = watched.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)  # no sideways scrolling
        clean(watched)
    context.close()


SHOTS = {"home": "/", "search": "/search?q=csv", "component": "/components/csv-dedupe"}


def _shoot(page: Page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots_of_the_main_pages(
    browser: Browser, site: Site, language: str, device: str
) -> None:
    context = new_context(browser, viewport=DESKTOP if device == "desktop" else PHONE)
    choose_language(context, site, language)
    page = context.new_page()
    for name, path in SHOTS.items():
        page.goto(site.url + path)
        page.wait_for_load_state("networkidle")
        target = IMAGES / f"{name}-{language}-{device}.png"
        _shoot(page, target)
        assert target.stat().st_size > 5_000
    context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_advisories_and_the_quality_score_on_the_component_page(
    browser: Browser, site: Site, language: str
) -> None:
    """An open and a withdrawn advisory on daily-sales-pipeline: both listed, the open one
    marks the version it affects, and the page stays axe-clean in both directions."""
    auth = {"Authorization": f"Bearer {site.alice}"}
    with httpx.Client(base_url=site.url, headers=auth, timeout=30) as api:
        mine = api.get("/api/v1/components/daily-sales-pipeline/advisories").json()["vulns"]
        if not mine:  # the first language's run publishes them
            every = [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
            for summary in ("Open: totals double-count refunds", "Withdrawn: a false report"):
                r = api.post(
                    "/api/v1/components/daily-sales-pipeline/advisories",
                    json={"summary": summary, "affected": every},
                )
                assert r.status_code == 201, r.text
            withdrawn = api.post(f"/api/v1/advisories/{r.json()['id']}/withdraw", json={})
            assert withdrawn.status_code == 200, withdrawn.text
    context = new_context(browser)
    choose_language(context, site, language)
    watched = watch(context, site.url)
    page = watched.page
    page.goto(f"{site.url}/components/daily-sales-pipeline")
    expect(page.locator(".advisory")).to_have_count(2)
    expect(page.locator(".advisory.withdrawn")).to_contain_text("Withdrawn: a false report")
    expect(page.locator(".versions li .badge.danger").first).to_be_visible()
    expect(page.locator(".quality .signals li")).to_have_count(9)
    clean(watched)
    context.close()
