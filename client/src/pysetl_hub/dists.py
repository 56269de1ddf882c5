"""Local distribution files: what they are, and the upload form twine would send for them."""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import Metadata
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import N_, _
from pysetl_hub_provenance.coremetadata import CoreMetadataError, read_core_metadata

CHUNK = 1 << 16


class DistError(HubError):
    hint = N_(
        "build the project with `python -m build` (or `uv build`) and pass the files in dist/"
    )


@dataclass(frozen=True)
class Dist:
    path: Path
    name: str
    version: str
    filetype: str  # bdist_wheel | sdist
    metadata: Metadata
    raw_metadata: bytes


def file_digests(path: Path) -> tuple[str, str, str]:
    """sha256, blake2b-256 and md5 in one pass (the legacy upload API names all three)."""
    sha, blake, md5 = hashlib.sha256(), hashlib.blake2b(digest_size=32), hashlib.md5()  # noqa: S324
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
            blake.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), blake.hexdigest(), md5.hexdigest()


def _wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        names = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1:
            raise DistError(
                _("{file}: expected one .dist-info/METADATA, found {count}").format(
                    file=path.name, count=len(names)
                )
            )
        return zf.read(names[0])


def _sdist_metadata(path: Path) -> bytes:
    with tarfile.open(path, "r:gz") as tf:
        for member in tf.getmembers():
            if (
                member.isfile()
                and member.name.count("/") == 1
                and member.name.endswith("/PKG-INFO")
            ):
                f = tf.extractfile(member)
                if f is not None:
                    return f.read()
    raise DistError(_("{file}: no PKG-INFO at the top of the sdist").format(file=path.name))


def open_dist(path: Path) -> Dist:
    """Read a wheel or sdist's core metadata, checking the filename agrees with it."""
    if not path.is_file():
        raise DistError(_("{file}: no such file").format(file=path))
    try:
        if path.name.endswith(".whl"):
            fname, fversion, _build, _tags = parse_wheel_filename(path.name)
            raw, filetype = _wheel_metadata(path), "bdist_wheel"
        elif path.name.endswith(".tar.gz"):
            fname, fversion = parse_sdist_filename(path.name)
            raw, filetype = _sdist_metadata(path), "sdist"
        else:
            raise DistError(
                _("{file}: not a wheel (.whl) or an sdist (.tar.gz)").format(file=path.name)
            )
    except (InvalidWheelFilename, InvalidSdistFilename, zipfile.BadZipFile, tarfile.TarError) as e:
        raise DistError(f"{path.name}: {e}") from e
    try:
        meta = read_core_metadata(raw)
    except CoreMetadataError as exc:
        raise DistError(
            _("{file}: invalid core metadata: {error}").format(file=path.name, error=exc)
        ) from exc
    if canonicalize_name(meta.name) != fname or meta.version != fversion:
        raise DistError(
            _(
                "{file}: the filename says {name} {version}, the metadata "
                "{meta_name} {meta_version}"
            ).format(
                file=path.name,
                name=fname,
                version=fversion,
                meta_name=meta.name,
                meta_version=meta.version,
            )
        )
    return Dist(path, meta.name, str(meta.version), filetype, meta, raw)


def upload_fields(dist: Dist) -> list[tuple[str, str]]:
    """The form fields of `POST /legacy/`, as twine sends them (metadata 2.x names)."""
    sha256, blake2, md5 = file_digests(dist.path)
    m = dist.metadata
    fields: list[tuple[str, str]] = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", m.metadata_version),
        ("name", m.name),
        ("version", str(m.version)),
        ("filetype", dist.filetype),
        ("pyversion", "source" if dist.filetype == "sdist" else _pyversion(dist.path)),
        ("sha256_digest", sha256),
        ("blake2_256_digest", blake2),
        ("md5_digest", md5),
    ]
    optional = {
        "summary": m.summary,
        "description": m.description,
        "description_content_type": m.description_content_type,
        "author": m.author,
        "author_email": m.author_email,
        "license": m.license,
        "license_expression": m.license_expression,
        "requires_python": str(m.requires_python) if m.requires_python else None,
        "keywords": ",".join(m.keywords) if m.keywords else None,
    }
    fields += [(k, v) for k, v in optional.items() if v]
    fields += [("requires_dist", str(r)) for r in m.requires_dist or []]
    fields += [("classifiers", c) for c in m.classifiers or []]
    fields += [("project_urls", f"{k}, {v}") for k, v in (m.project_urls or {}).items()]
    return fields


def _pyversion(path: Path) -> str:
    _, _, _, tags = parse_wheel_filename(path.name)
    return sorted({t.interpreter for t in tags})[0]
