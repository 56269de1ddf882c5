"""The README sanitiser (web/readme.py), judged both ways: every hostile construct comes out
inert, and what real READMEs use (headings, tables, code, links) survives."""

from __future__ import annotations

import pytest

from pysetl_hub_server.web.readme import content_type, render
from tests.server.web.hostile import MARKDOWN, RST, RST_RAW, corpus_markdown, dangers


@pytest.mark.parametrize(("why", "text"), MARKDOWN, ids=[why for why, _ in MARKDOWN])
def test_a_hostile_markdown_readme_renders_inert(why: str, text: str) -> None:
    html = render(f"# Title\n\n{text}\n\nafter", "text/markdown")
    assert dangers(html) == [], (why, html)
    assert "<h1>Title</h1>" in html and "after" in html  # the rest of the README still shows


def test_the_whole_corpus_at_once_is_inert() -> None:
    html = render(corpus_markdown(), "text/markdown")
    assert dangers(html) == []
    assert "evil.example/x.css" not in html and "<style" not in html


def test_a_hostile_rst_readme_renders_inert() -> None:
    html = render(RST, "text/x-rst")
    assert dangers(html) == [], html
    assert 'href="https://example.org/"' in html and "<h1>Hostile" in html
    raw = render(RST_RAW, "text/x-rst")
    assert raw.startswith("<pre>") and "&lt;script&gt;" in raw and dangers(raw) == []


def test_images_become_links_so_the_page_loads_nothing_from_elsewhere() -> None:
    html = render('![the logo](https://example.org/logo.png "Logo")', "text/markdown")
    assert "<img" not in html
    assert (
        '<a href="https://example.org/logo.png" rel="nofollow noopener noreferrer ugc">'
        "[the logo]</a>" in html
    )


def test_the_audit_itself_sees_each_danger() -> None:
    """The checker the tests above trust finds what it must (a check that cannot fail is none)."""
    assert dangers(
        '<script>x</script><a href="javascript:x">a</a><p onclick="x" style="y">p</p>'
    ) == [
        "tag <script>",
        "href scheme 'javascript'",
        "attribute onclick on <p>",
        "attribute style on <p>",
    ]
    assert dangers('<img src="https://x/y.png"><iframe></iframe>') == [
        "tag <img>",
        "attribute src on <img>",
        "tag <iframe>",
    ]


def test_what_real_readmes_use_survives() -> None:
    text = (
        "# csv-dedupe\n\n**Bold**, *em*, `code`, ~~gone~~.\n\n"
        "| option | default |\n|---|---|\n| dateFormat | yyyy-MM-dd |\n\n"
        "```python\nprint('hi')\n```\n\n- one\n- two\n\n> quoted\n\n"
        "[docs](https://example.org/docs) and <mailto:me@example.org>\n"
    )
    html = render(text, "text/markdown; charset=UTF-8; variant=GFM")
    for good in (
        "<h1>csv-dedupe</h1>",
        "<strong>Bold</strong>",
        "<em>em</em>",
        "<code>code</code>",
        "<s>gone</s>",
        "<table>",
        "<td>yyyy-MM-dd</td>",
        '<code class="language-python">',
        "<li>one</li>",
        "<blockquote>",
        'href="https://example.org/docs"',
        'href="mailto:me@example.org"',
    ):
        assert good in html, good
    assert 'rel="nofollow noopener noreferrer ugc"' in html


def test_plain_text_and_unknown_types_are_shown_as_text() -> None:
    assert render("<b>not bold</b>", None) == "<pre>&lt;b&gt;not bold&lt;/b&gt;</pre>"
    assert render("<b>x</b>", "text/x-unknown") == "<pre>&lt;b&gt;x&lt;/b&gt;</pre>"
    assert render("   ", "text/markdown") == ""


def test_content_type_parameters_are_ignored() -> None:
    assert content_type("text/markdown; charset=UTF-8; variant=CommonMark") == "text/markdown"
    assert content_type("TEXT/X-RST") == "text/x-rst"
    assert content_type(None) == "text/plain"


def test_page_structure_of_the_hub_cannot_be_faked_by_a_readme() -> None:
    """Landmarks and page furniture stay the hub's: a README's <nav>, <header>, <main> or
    image map would confuse screen readers (axe's landmark rules) and the layout."""
    html = render(
        "<header>h</header><nav>n</nav><main>m</main><footer>f</footer><aside>a</aside>"
        '<map name="m"><area href="https://x.org/"></map><center>c</center><!-- hidden note -->',
        "text/markdown",
    )
    for tag in ("<header", "<nav", "<main", "<footer", "<aside", "<map", "<area", "<center"):
        assert tag not in html, tag
    assert "hidden note" not in html and "<!--" not in html


def test_an_image_without_a_source_or_a_text_still_reads_well() -> None:
    assert render('<img alt="diagram">', "text/markdown") == "[diagram]"  # text, no link
    assert "[image]" in render('<img src="https://x.org/a.png">', "text/markdown")
    assert render(None, "text/markdown") == "" and render("", None) == ""
