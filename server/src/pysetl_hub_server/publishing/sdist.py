"""Safe inspection of uploaded sdists (.tar.gz): the layout under one top-level folder named for
the distribution, no links out, no duplicates, bounded members, and the entry points its
metadata declares (pyproject.toml or an egg-info entry_points.txt). Reading rules shared with
wheels are in archive.py.
"""

from __future__ import annotations

import tarfile
import tomllib
from pathlib import Path

from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.publishing.archive import (
    ArchiveContents,
    Budget,
    bad,
    check_member_path,
    parse_entry_points,
    read_bounded,
    stem_matches,
)
from pysetl_hub_server.settings import UploadLimits


def inspect_sdist(path: Path, limits: UploadLimits, stem: str) -> ArchiveContents:
    """Check a `.tar.gz` sdist (PEP 625) and return its PKG-INFO and entry points."""
    budget = Budget(limits, path.stat().st_size)
    seen: set[str] = set()
    pkg_info: bytes | None = None
    pyproject: bytes | None = None
    egg_entry_points: bytes | None = None
    top: str | None = None
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                budget.member()
                name = check_member_path(member.name)
                if top is None:
                    # One top-level directory named for the project and version, spelled as
                    # the filename spells it or any equivalent way (a renamed legacy sdist).
                    top = name.split("/", 1)[0]
                    if not stem_matches(top, stem):
                        raise bad(
                            "sdist_layout",
                            _(
                                "the sdist's top-level directory {top!r} is not {stem!r}: an "
                                "sdist holds one directory named {{name}}-{{version}}; rebuild "
                                "it",
                                top=top,
                                stem=stem,
                            ),
                        )
                    prefix = f"{top}/"
                if name in seen:
                    raise bad("duplicate", _("archive member {name!r} appears twice", name=name))
                seen.add(name)
                if not (member.isfile() or member.isdir()):
                    raise bad(
                        "link",
                        _(
                            "archive member {name!r} is a link or special file: sdists may hold"
                            " only regular files and directories",
                            name=name,
                        ),
                    )
                if name != top and not name.startswith(prefix):
                    raise bad(
                        "sdist_layout",
                        _(
                            "archive member {name!r} is outside the top-level directory {top!r}",
                            name=name,
                            top=top,
                        ),
                    )
                if not member.isfile():
                    continue
                budget.consume(0)
                if member.size > limits.max_uncompressed_size:
                    raise bad(
                        "too_large_uncompressed", _("member {name!r} is too large", name=name)
                    )
                rel = name[len(prefix) :]
                keep = rel in ("PKG-INFO", "pyproject.toml") or (
                    rel.endswith(".egg-info/entry_points.txt") and rel.count("/") <= 2
                )
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data, _digest, _size = read_bounded(handle, budget, keep=keep, digest=False)
                if rel == "PKG-INFO":
                    pkg_info = data
                elif rel == "pyproject.toml":
                    pyproject = data
                elif keep:
                    egg_entry_points = data
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise bad("corrupt", _("the sdist is not a readable .tar.gz: {exc}", exc=exc)) from exc
    if pkg_info is None:
        raise bad(
            "sdist_layout",
            _("{top}/PKG-INFO is missing: rebuild with a build backend", top=top or stem),
        )
    entry_points: dict[str, dict[str, str]] = {}
    if pyproject is not None:
        entry_points = _pyproject_entry_points(pyproject)
    if not entry_points and egg_entry_points is not None:
        entry_points = parse_entry_points(egg_entry_points.decode("utf-8", "replace"))
    return ArchiveContents(pkg_info, entry_points)


def _pyproject_entry_points(raw: bytes) -> dict[str, dict[str, str]]:
    """An sdist's entry points as its pyproject.toml declares them: `[project.entry-points]`
    (PEP 621), else the backend's own table from before PEP 621, which poetry-core and flit-core
    still build from: `[tool.poetry.plugins]`, `[tool.flit.entrypoints]`. Neither backend writes
    an entry_points.txt into the sdist, so the pyproject is the only place they are."""
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise bad(
            "pyproject", _("pyproject.toml in the sdist does not parse: {exc}", exc=exc)
        ) from exc
    tool = document.get("tool")
    tools = tool if isinstance(tool, dict) else {}
    for table, key in (
        (document.get("project"), "entry-points"),
        (tools.get("poetry"), "plugins"),
        (tools.get("flit"), "entrypoints"),
    ):
        groups = table.get(key) if isinstance(table, dict) else None
        if isinstance(groups, dict):
            found = {
                str(g): {str(k): str(v) for k, v in eps.items()}
                for g, eps in groups.items()
                if isinstance(eps, dict)
            }
            if found:
                return found
    return {}
