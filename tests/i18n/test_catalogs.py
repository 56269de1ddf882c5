"""Every translation catalog of the repository, whatever its domain: found by walking the
`locale/` folders of server/src and client/src, so a domain added later is checked too.

Spanish is complete (every entry translated, none fuzzy); Arabic is complete for the web pages
and may lag elsewhere, but what it has is reviewed (not fuzzy). A translation keeps its
msgid's placeholders, and the compiled .mo says exactly what the .po says, so a forgotten
`make i18n-compile` (or `make i18n-extract`) fails here rather than shipping stale text.
"""

from __future__ import annotations

import gettext
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO_FILES = sorted(
    path
    for top in (ROOT / "server" / "src", ROOT / "client" / "src")
    for path in top.glob("*/locale/*/LC_MESSAGES/*.po")
)
COMPLETE = {"es": None, "ar": {"web"}}  # language -> the domains it must cover (None: all)
# Arabic also covers the API messages the public pages show (an error page's detail, a search
# form's problem): every msgid of the modules those pages raise errors from.
SERVER = ROOT / "server" / "src" / "pysetl_hub_server"
ARABIC_PAGE_ERRORS = [
    *sorted((SERVER / "web").glob("*.py")),
    *(SERVER / m for m in ("errors.py", "problems.py", "bounds.py", "i18n/negotiate.py")),
    *(SERVER / "governance" / m for m in ("lookup.py", "orgs.py")),
    SERVER / "components" / "services.py",
    *(
        SERVER / "search" / m
        for m in ("engine.py", "services.py", "query.py", "fields.py", "rules.py")
    ),
]


def _ids(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.stem}"


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=path.parent.parent.name)


def _entries(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _translated(message: Message) -> bool:
    return all(_strings(message.string)) and bool(_strings(message.string))


_BRACE = re.compile(r"\{([^{}]*)\}")
_PERCENT = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def placeholders(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """`{name!r}`-style and `%(name)s`-style fields of a text; `{{`/`}}` are literal braces."""
    unescaped = text.replace("{{", "").replace("}}", "")
    return frozenset(_BRACE.findall(unescaped)), frozenset(_PERCENT.findall(text))


def test_the_catalogs_are_found() -> None:
    found = {p.stem for p in PO_FILES}
    assert "api" in found, PO_FILES
    for lang in COMPLETE:
        assert any(p.parent.parent.name == lang for p in PO_FILES)


def _must_be_complete(path: Path) -> bool:
    language = path.parent.parent.name
    if language not in COMPLETE:
        return False
    domains = COMPLETE[language]
    return domains is None or path.stem in domains


@pytest.mark.parametrize("path", [p for p in PO_FILES if _must_be_complete(p)], ids=_ids)
def test_complete_languages_translate_every_entry(path: Path) -> None:
    catalog = _catalog(path)
    missing = [m.id for m in _entries(catalog) if not _translated(m)]
    fuzzy = [m.id for m in _entries(catalog) if m.fuzzy]
    assert not missing, f"{len(missing)} untranslated in {path}: {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {path}: {fuzzy[:5]}"


def test_arabic_translates_every_api_message_the_public_pages_show() -> None:
    from babel.messages.extract import extract_from_file

    wanted: set[str] = set()
    for module in ARABIC_PAGE_ERRORS:
        assert module.is_file(), module  # a module moved: update the list
        for _line, msgid, _comments, _context in extract_from_file(
            "python", str(module), keywords={"_": None, "N_": None}
        ):
            wanted.add(msgid if isinstance(msgid, str) else msgid[0])
    catalog = _catalog(SERVER / "locale" / "ar" / "LC_MESSAGES" / "api.po")
    missing = sorted(i for i in wanted if (m := catalog.get(i)) is None or not _translated(m))
    assert len(wanted) > 40, wanted  # the extraction found the messages
    assert not missing, f"{len(missing)} untranslated in ar/api.po: {missing}"


@pytest.mark.parametrize("path", PO_FILES, ids=_ids)
def test_no_entry_is_fuzzy(path: Path) -> None:
    """A partial catalog is fine; a guessed one is not: fuzzy entries are never shipped."""
    fuzzy = [m.id for m in _entries(_catalog(path)) if m.fuzzy]
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {path}: {fuzzy[:5]}"


@pytest.mark.parametrize("path", PO_FILES, ids=_ids)
def test_translations_keep_their_placeholders(path: Path) -> None:
    wrong = []
    for m in _entries(_catalog(path)):
        ids = _strings(m.id)
        for index, text in enumerate(_strings(m.string)):
            if not text:
                continue
            source = ids[min(index, len(ids) - 1)]
            if placeholders(text) != placeholders(source) and (
                len(ids) == 1 or placeholders(text) != placeholders(ids[0])
            ):
                wrong.append((source, text))
    assert not wrong, f"{path}: {wrong[:3]}"


@pytest.mark.parametrize("path", PO_FILES, ids=_ids)
def test_the_compiled_catalog_matches_the_po(path: Path) -> None:
    mo = path.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `make i18n-compile`"
    with mo.open("rb") as f:
        compiled = dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)
    expected: dict[object, str] = {}
    for m in _entries(_catalog(path)):
        if m.fuzzy or not _translated(m):
            continue
        # gettext keys a message with a context (pgettext) as "context\x04msgid".
        prefix = f"{m.context}\x04" if m.context else ""
        if m.pluralizable:
            for index, text in enumerate(_strings(m.string)):
                expected[(prefix + _strings(m.id)[0], index)] = text
        else:
            expected[prefix + str(m.id)] = str(m.string)
    stale = sorted(str(k) for k in expected.keys() ^ compiled.keys())
    changed = sorted(
        str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k]
    )
    assert not stale and not changed, (
        f"{mo} is stale (run `make i18n-compile`): {stale[:3]} {changed[:3]}"
    )


def _domains() -> list[tuple[str, str, str]]:
    """(package folder, domain, Babel mapping) of each domain, as scripts/i18n.sh lists them."""
    script = (ROOT / "scripts" / "i18n.sh").read_text()
    block = re.search(r'DOMAINS="([^"]*)"', script)
    assert block is not None
    rows = [tuple(shlex.split(line)) for line in block.group(1).splitlines() if line.strip()]
    return [(r[0], r[1], r[2]) for r in rows]


@pytest.mark.parametrize(
    ("package", "domain", "mapping"),
    [d for d in _domains() if (ROOT / d[0] / "locale" / f"{d[1]}.pot").is_file()],
    ids=lambda value: str(value).rsplit("/", 1)[-1],
)
def test_the_template_holds_every_msgid_of_the_sources(
    package: str, domain: str, mapping: str, tmp_path: Path
) -> None:
    """A msgid added to the code but never extracted is in no catalog, so it would stay
    English in every language without any other test noticing."""
    fresh = tmp_path / f"{domain}.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            mapping,
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "ngettext:1,2",
            "-k",
            "lazy_gettext",
            "-k",
            "pgettext:1c,2",
            "--no-location",
            "-o",
            str(fresh),
            package,
        ],
        cwd=ROOT,
        check=True,
    )
    with fresh.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(read_po(f))}
    with (ROOT / package / "locale" / f"{domain}.pot").open("rb") as f:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(read_po(f))}
    assert wanted == committed, (
        f"{domain}.pot is stale (run `make i18n-extract i18n-update`): "
        f"new {sorted(wanted - committed)[:3]}, gone {sorted(committed - wanted)[:3]}"
    )
    for po in (ROOT / package / "locale").glob(f"*/LC_MESSAGES/{domain}.po"):
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(_catalog(po))}
        assert ids == committed, f"{po} is not merged with the template: run `make i18n-update`"
