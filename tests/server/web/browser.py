"""Debian's Chromium driven by Playwright, with what every browser test checks built in.

Playwright's own browser download cannot work on these machines: it launches
/usr/bin/chromium (installed by `make test`, scripts/system-deps.sh). Each page records the
requests it makes and the console's Content-Security-Policy reports, so a test can assert
that nothing left the hub's origin and that nothing inline was blocked (or needed).
axe-core, vendored under tests/support/vendor, is added to every page by an init script
(run by the browser itself, so the hub's CSP does not apply to it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.parts import missing

AXE = Path(__file__).resolve().parents[2] / "support" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@dataclass
class Watched:
    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    csp_reports: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [
            url for url in self.requests
            if url.startswith(("http:", "https:", "ws:", "wss:"))
            and not url.startswith(self.origin)
        ]  # fmt: skip

    def axe(self) -> list[dict[str, Any]]:
        """Serious and critical violations of WCAG 2.x A/AA rules on the current page."""
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }"""
        )
        return [v for v in result if v["impact"] in ("serious", "critical")]


@contextmanager
def launched() -> Iterator[Browser]:
    """Chromium, or a clear failure under CI=true (a skip on a laptop) when it is missing."""
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        missing("Chromium", "apt-get install -y chromium (make test does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def new_context(
    browser: Browser, *, viewport: dict[str, int] = DESKTOP, locale: str = "en-US"
) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale=locale)
    context.add_init_script(path=str(AXE))
    return context


def watch(context: BrowserContext, origin: str) -> Watched:
    page = context.new_page()
    watched = Watched(page, origin)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on(
        "console",
        lambda msg: (
            watched.csp_reports.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: watched.errors.append(str(exc)))
    return watched
