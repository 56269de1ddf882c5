"""The CLI in the user's language: the `cli` catalog is complete and compiled, and the real
CLI (click's runner in-process, and a subprocess) speaks Spanish when the environment asks
for it and English otherwise (C, unset, or a language without a catalog)."""

from __future__ import annotations

import gettext
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner, Result

from pysetl_hub import i18n
from tests.support.live import LiveServer

LOCALE = Path(i18n.__file__).parent / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "cli.po"
MO = LOCALE / "es" / "LC_MESSAGES" / "cli.mo"
# The keywords scripts/i18n.sh extracts with.
KEYWORDS = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
}
# client/babel.cfg: click's help texts in the commands' modules, then every `_()` call.
METHOD_MAP = [("cli/**.py", "pysetl_hub.cli.help_extract.extract"), ("**.py", "python")]
# str.format fields ({name}, {name!r}) and %-format ones (%(name)s); `{{` is no field.
FIELDS = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})|%\([^)]+\)[a-z]")

SPANISH: dict[str, str | None] = {
    "LANGUAGE": None,
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "LANG": "es_ES.UTF-8",
}


def _catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


def _messages() -> list[Message]:
    return [m for m in _catalog() if m.id]


def _forms(m: Message) -> tuple[list[str], list[str]]:
    """The English forms and the Spanish ones of a message."""
    ids = list(m.id) if isinstance(m.id, tuple) else [m.id]
    strings = list(m.string) if isinstance(m.string, tuple) else [m.string]
    return ids, strings


# The catalog.


def test_every_spanish_entry_is_translated_and_none_is_fuzzy() -> None:
    catalog = _catalog()
    assert catalog.locale is not None and str(catalog.locale) == "es"
    untranslated = [m.id for m in _messages() if not all(_forms(m)[1])]
    fuzzy = [m.id for m in _messages() if m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_placeholders_match_in_every_form() -> None:
    """Each translation keeps its msgid's fields, no more and no fewer (a plural's first form
    against the singular, the others against the plural)."""
    wrong = []
    for m in _messages():
        ids, strings = _forms(m)
        for index, text in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]
            if sorted(FIELDS.findall(text)) != sorted(FIELDS.findall(source)):
                wrong.append((source, text))
    assert wrong == []


def test_the_compiled_catalog_is_the_po() -> None:
    """The .mo the client loads says what the .po says (`make i18n-compile` was run)."""
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in _messages():
        ids, strings = _forms(m)
        if len(ids) == 1:
            got = compiled.pgettext(m.context, ids[0]) if m.context else compiled.gettext(ids[0])
            if got != strings[0]:
                stale.append(ids[0])
        else:  # the form for 1, for a million, and for the rest
            got_forms = [compiled.ngettext(ids[0], ids[1], n) for n in (1, 1_000_000, 2)]
            if got_forms != strings:
                stale.append(ids[0])
    assert stale == []
    header = compiled.info()
    assert header["language"] == "es" and header["plural-forms"]


def test_the_catalog_holds_every_text_the_sources_mark() -> None:
    """Every msgid the client's modules mark is in the Spanish catalog, and nothing else is
    (`make i18n-extract i18n-update` was run after the last change)."""
    marked = {
        (context, msgid)
        for _file, _line, msgid, _comments, context in extract_from_dir(
            str(LOCALE.parent),
            method_map=METHOD_MAP,
            keywords=KEYWORDS,
        )
    }
    in_catalog = {(m.context, m.id) for m in _messages()}
    assert marked == in_catalog


def _tree(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(where, English text) of every help text the command tree shows."""
    where = " ".join(("pysetl-hub", *path))
    if command.help:
        yield where, inspect.cleandoc(command.help)
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            yield f"{where} {param.opts[0]}", param.help
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _tree(sub, (*path, name))


def test_every_command_and_option_help_is_in_spanish() -> None:
    """A command or option added with English help and no translation fails here (the help
    texts are extracted by cli/help_extract.py)."""
    from pysetl_hub.cli import main

    with MO.open("rb") as f:
        spanish = gettext.GNUTranslations(f)
    texts = list(_tree(main))
    assert len(texts) > 100  # the walk found the tree
    untranslated = [(where, text) for where, text in texts if spanish.gettext(text) == text]
    assert untranslated == []


def test_help_is_shown_in_the_environments_language() -> None:
    from pysetl_hub.cli import main

    runner = CliRunner()
    es = runner.invoke(main, ["owners", "add", "--help"], env=SPANISH)
    assert es.exit_code == 0, es.output
    assert "Invita a USER a ser propietario de NAME." in es.stdout
    assert "Imprime JSON en stdout." in es.stdout and "Opciones:" in es.stdout
    top = runner.invoke(main, ["--help"], env=SPANISH)
    assert "Busca, verifica, instala y publica componentes de PySetl." in top.stdout
    assert "Olvida el token guardado para el hub." in top.stdout  # a command's short help
    en = runner.invoke(main, ["owners", "add", "--help"], env={**SPANISH, "LANG": "C"})
    assert "Invite USER to be an owner of NAME." in en.stdout  # the msgids stay English
    assert "Print JSON on stdout." in en.stdout


# The language, from the environment.


def test_the_language_comes_from_the_environment_in_gettexts_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in i18n.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert i18n._("never") == "never"  # nothing set: English
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    assert i18n._("never") == "nunca"  # looked up again: no cache to clear
    assert i18n.ngettext("{count} component found", "{count} components found", 2) == (
        "{count} componentes encontrados"
    )
    monkeypatch.setenv("LC_ALL", "C")  # before LANG
    assert i18n._("never") == "never"
    monkeypatch.setenv("LANGUAGE", "es")  # before everything
    assert i18n._("never") == "nunca"
    monkeypatch.setenv("LANGUAGE", "fr:es")  # no French catalog: the next in the list
    assert i18n._("never") == "nunca"
    monkeypatch.setenv("LANGUAGE", "fr_FR")
    assert i18n._("never") == "never"
    i18n.reset()


# The real CLI, in-process against the live hub.


def _lines(result: Result) -> str:
    return result.stderr + result.stdout


def test_spanish_success_error_hint_and_usage(
    run, published_catalog: str, live: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    r = run("login", "--token", published_catalog, language=SPANISH)
    assert r.exit_code == 0, _lines(r)
    assert f"sesión iniciada en {live.url} como alice; token guardado en " in r.stderr

    r = run("install", "no-such-component", language=SPANISH)
    assert r.exit_code == 3
    assert "error: no-such-component no está en este hub" in r.stderr
    assert "sugerencia: comprueba el nombre con `pysetl-hub search`" in r.stderr
    assert "hint:" not in r.stderr

    r = run("events", "csv-dedupe", "--all", language=SPANISH)  # the CLI's own usage error
    assert r.exit_code == 2
    assert "Error: indica NAME o --all, no ambos" in r.stderr

    r = run("install", language=SPANISH)  # click's own words
    assert r.exit_code == 2
    assert r.stderr.startswith("Uso: ") and " install [OPTIONS] REQUIREMENTS..." in r.stderr
    assert "Prueba '" in r.stderr and " install --help' para ver la ayuda." in r.stderr
    assert "Error: Falta el argumento 'REQUIREMENTS...'." in r.stderr


def test_spanish_plurals_and_tables(run) -> None:  # type: ignore[no-untyped-def]
    r = run("search", "csv", language=SPANISH)
    assert r.exit_code == 0, _lines(r)
    assert "1 componente coincide con 'csv'" in r.stderr
    assert "nombre" in r.stderr and "resumen" in r.stderr  # the headings
    r = run("search", "", language=SPANISH)
    assert "2 componentes encontrados" in r.stderr


@pytest.mark.parametrize(
    "language",
    [
        {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C"},
        {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None},
        {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "fr_FR.UTF-8"},
    ],
    ids=["C", "unset", "fr_FR"],
)
def test_english_without_a_spanish_environment(run, language: dict[str, str | None]) -> None:  # type: ignore[no-untyped-def]
    r = run("install", "no-such-component", language=language)
    assert r.exit_code == 3
    assert "error: no-such-component is not on this hub" in r.stderr
    assert "hint: check the name with `pysetl-hub search`" in r.stderr
    r = run("install", language=language)
    assert r.stderr.startswith("Usage: ") and "Try '" in r.stderr
    assert "Error: Missing argument 'REQUIREMENTS...'." in r.stderr


# A subprocess: the language as a shell gives it.


def _cli(
    live: LiveServer, tmp_path: Path, *args: str, **language: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in i18n.ENVIRONMENT}
    env.update(
        PYSETL_HUB_URL=live.url,
        PYSETL_HUB_CONFIG=str(tmp_path / "config.toml"),
        PYSETL_HUB_CACHE_DIR=str(tmp_path / "cache"),
        PYSETL_HUB_TOKEN="",
        NO_COLOR="1",
        COLUMNS="250",
        **language,
    )
    return subprocess.run(
        [sys.executable, "-m", "pysetl_hub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_subprocess_with_language_es_speaks_spanish(
    live: LiveServer, tmp_path: Path, published_catalog: str
) -> None:
    # LANGUAGE wins over LANG=C, as in gettext.
    r = _cli(
        live,
        tmp_path,
        "new",
        "factory",
        "my-dedupe",
        "--dir",
        str(tmp_path),
        LANGUAGE="es",
        LANG="C.UTF-8",
    )
    assert r.returncode == 0, r.stderr
    assert f"creado {tmp_path / 'my-dedupe'}" in r.stderr
    assert "siguiente paso: cd " in r.stderr
    r = _cli(live, tmp_path, "info", "no-such-component", LANGUAGE="es", LANG="C.UTF-8")
    assert r.returncode == 3
    assert (
        "sugerencia: revisa cómo está escrito, o busca el nombre con `pysetl-hub search`"
        in r.stderr
    )
    r = _cli(live, tmp_path, "new", "gizmo", "x", LANGUAGE="es", LANG="C.UTF-8")
    assert r.returncode == 2
    assert "Error: Valor no válido para '{factory|pipeline}'" in r.stderr


def test_a_subprocess_in_french_or_c_speaks_english(
    live: LiveServer, tmp_path: Path, published_catalog: str
) -> None:
    for language in ({"LANG": "fr_FR.UTF-8"}, {"LANG": "C"}, {}):
        r = _cli(live, tmp_path, "info", "no-such-component", **language)
        assert r.returncode == 3
        assert "hint: check the spelling, or find the name with `pysetl-hub search`" in r.stderr


def test_the_client_asks_the_hub_for_its_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problem details come back in the CLI's language (the hub localizes them by
    Accept-Language); English asks for nothing in particular."""
    from pysetl_hub.config import Config
    from pysetl_hub.core import headers

    config = Config(url="https://hub.example.org")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    assert headers(config, False, "https://hub.example.org/x")["Accept-Language"] == "es"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # no French catalog: the CLI speaks English
    assert "Accept-Language" not in headers(config, False, "https://hub.example.org/x")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert "Accept-Language" not in headers(config, False, "https://hub.example.org/x")
