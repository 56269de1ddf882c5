"""Publishing rules, one function each, all raising `InvalidUpload` with the rule and the fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pysetl_hub_server.bounds import MAX_FILENAME, MAX_VERSION
from pysetl_hub_server.errors import BadRequest, InvalidUpload
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.publishing.archive import ArchiveContents, inspect_wheel
from pysetl_hub_server.publishing.form import UploadedFile, UploadForm
from pysetl_hub_server.publishing.sdist import inspect_sdist
from pysetl_hub_server.publishing.tags import check_tag_families, check_wheel_file
from pysetl_hub_server.settings import UploadLimits

# What a wheel or sdist filename may hold: the normalized name's [a-z0-9_.], a PEP 440 version
# ("!" for an epoch, "+" only to be refused as a local version with its own message) and tags.
FILENAME_CHARS = re.compile(r"[A-Za-z0-9._!+-]+")


@dataclass(frozen=True, slots=True)
class ParsedFilename:
    """An uploaded filename, and the one spelling the hub stores and serves it under."""

    filename: str  # normalized: `{normalized_name}-{version}[-{build}-{tags}.whl|.tar.gz]`
    name: NormalizedName
    version: Version
    packagetype: str  # "bdist_wheel" | "sdist"
    stem: str  # "<name>-<version>" as written in the filename
    tags: frozenset[Tag] = frozenset()  # a wheel's expanded compatibility tags
    build: str = ""  # a wheel's build tag as written, "" when it has none
    uploaded: str = ""  # the filename as sent, when it spells the name another way


def check_form(form: UploadForm) -> UploadedFile:
    """The envelope twine sends: action, protocol version, name, version and one file."""
    action = form.get(":action")
    if action != "file_upload":
        raise BadRequest(
            "form.action",
            _(
                "unsupported :action {action!r}: this endpoint accepts only file_upload",
                action=action,
            ),
        )
    protocol = form.get("protocol_version")
    if protocol not in (None, "1"):
        raise BadRequest(
            "form.protocol_version",
            _("unsupported protocol_version {protocol!r}", protocol=protocol),
        )
    for required in ("name", "version"):
        if not form.get(required):
            raise BadRequest(
                f"form.{required}", _("the form field {required!r} is required", required=required)
            )
    if form.file is None:
        raise BadRequest("form.content", _("the form has no `content` file part"))
    return form.file


def parse_filename(filename: str) -> ParsedFilename:
    """A wheel or a PEP 625 sdist whose name part is normalized and whose version is PEP 440."""
    if len(filename) > MAX_FILENAME:
        raise InvalidUpload(
            "filename.too_long",
            _(
                "the filename is {filename_count} characters long; at most {MAX_FILENAME} are "
                "accepted, with a version of at most {MAX_VERSION}",
                filename_count=len(filename),
                MAX_FILENAME=MAX_FILENAME,
                MAX_VERSION=MAX_VERSION,
            ),
        )
    if FILENAME_CHARS.fullmatch(filename) is None:
        raise InvalidUpload(
            "filename.characters",
            _(
                "filename {filename!r} may hold only ASCII letters, digits and the characters ."
                " _ - ! +: upload the file your build backend wrote, under the name it wrote",
                filename=filename,
            ),
        )
    parts = filename.split("-")
    tags: frozenset[Tag] = frozenset()
    build = ""
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            build = parts[2] if len(parts) == 6 else ""  # as written, to compare with WHEEL's
            check_tag_families(filename, tags)
            packagetype = "bdist_wheel"
        elif filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
            packagetype = "sdist"
        else:
            raise InvalidUpload(
                "filename.extension",
                _(
                    "{filename!r} is neither a wheel (.whl) nor an sdist (.tar.gz, PEP 625): "
                    "upload what `python -m build` produces",
                    filename=filename,
                ),
            )
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion) as exc:
        raise InvalidUpload(
            "filename.invalid",
            _(
                "{filename!r} is not a valid distribution filename: {exc}",
                filename=filename,
                exc=exc,
            ),
        ) from exc
    name_part, version_part = parts[:2]
    if packagetype == "sdist":
        stem = filename.removesuffix(".tar.gz")
        name_part, _sep, version_part = stem.rpartition("-")
    if len(version_part) > MAX_VERSION:
        raise InvalidUpload(
            "version.too_long",
            _(
                "version {version_part}... is longer than {MAX_VERSION} characters",
                version_part=version_part[:20],
                MAX_VERSION=MAX_VERSION,
            ),
        )
    if version_part != str(version):
        # 1.0, 1.00 and 1.0000...0 are one version: one spelling per file, so no look-alike
        # filename can stand beside the real one.
        raise InvalidUpload(
            "filename.version_not_normalized",
            _(
                "{filename!r} spells version {version} as {version_part!r}: rebuild with a "
                "current build backend, which writes the normalized PEP 440 form",
                filename=filename,
                version=version,
                version_part=version_part,
            ),
        )
    # setuptools before 69.3 (sdists) and 75.8.1 (wheels), and older flit and poetry, write the
    # name as the project spells it: `csv-dedupe-1.0.0.tar.gz`, `CSV_Dedupe-1.0...whl`. pip and
    # the public index accept those; the hub does too, and stores the file under the one
    # normalized spelling, so no two spellings of one file can stand side by side.
    normalized = name.replace("-", "_")
    stored = normalized + filename[len(name_part) :]
    if version.local is not None:
        raise InvalidUpload(
            "version.local",
            _(
                "version {version} has a local part (+{local}): local versions are for private "
                "builds and cannot be published; drop the '+...' suffix",
                version=version,
                local=version.local,
            ),
        )
    return ParsedFilename(
        stored,
        name,
        version,
        packagetype,
        f"{name_part}-{version_part}",
        tags,
        build,
        filename if stored != filename else "",
    )


def check_form_agrees(form: UploadForm, parsed: ParsedFilename) -> None:
    form_name = form.get("name") or ""
    form_version = form.get("version") or ""
    if canonicalize_name(form_name) != parsed.name:
        raise InvalidUpload(
            "form.name_mismatch",
            _(
                "the form says name {form_name!r} but the file {filename!r} is for "
                "{file_name!r}: upload the file with its own metadata",
                form_name=form_name,
                filename=parsed.filename,
                file_name=parsed.name,
            ),
        )
    if len(form_version) > MAX_VERSION:
        raise InvalidUpload(
            "version.invalid",
            _(
                "the form's version is longer than {MAX_VERSION} characters",
                MAX_VERSION=MAX_VERSION,
            ),
        )
    try:
        same = Version(form_version) == parsed.version
    except InvalidVersion as exc:
        raise InvalidUpload(
            "version.invalid",
            _("version {form_version!r} is not a PEP 440 version", form_version=form_version),
        ) from exc
    if not same:
        raise InvalidUpload(
            "form.version_mismatch",
            _(
                "the form says version {form_version!r} but the file is version {version}",
                form_version=form_version,
                version=parsed.version,
            ),
        )
    filetype = form.get("filetype")
    if filetype is not None and filetype != parsed.packagetype:
        raise InvalidUpload(
            "form.filetype_mismatch",
            _(
                "the form says filetype {filetype!r} but {filename!r} is a {packagetype}",
                filetype=filetype,
                filename=parsed.filename,
                packagetype=parsed.packagetype,
            ),
        )


def check_digests(form: UploadForm, file: UploadedFile) -> None:
    """At least one digest is sent, and every one sent equals the one computed over the bytes
    received: a client that states no digest cannot tell a corrupted upload from its file."""
    given = {
        "sha256_digest": file.sha256,
        "blake2_256_digest": file.blake2b_256,
        "md5_digest": file.md5,
    }
    if not any((form.get(field) or "").strip() for field in given):
        raise InvalidUpload(
            "digest.missing",
            _(
                "the upload carries no digest: send sha256_digest (or blake2_256_digest or "
                "md5_digest) computed over the file, as twine and pysetl-hub publish do"
            ),
        )
    for field, actual in given.items():
        value = form.get(field)
        if value is not None and value.strip().lower() != actual:
            raise InvalidUpload(
                "digest.mismatch",
                _(
                    "{field} {value!r} does not match the uploaded bytes ({actual}): the file "
                    "was corrupted in transit or changed after hashing; upload it again",
                    field=field,
                    value=value,
                    actual=actual,
                ),
            )
    if file.size == 0:
        raise InvalidUpload("upload.empty", _("the uploaded file is empty"))


def inspect(path: Path, parsed: ParsedFilename, limits: UploadLimits) -> ArchiveContents:
    """The archive's structure, and for a wheel its WHEEL file agreeing with the filename."""
    if parsed.packagetype == "bdist_wheel":
        contents = inspect_wheel(path, limits, parsed.stem)
        check_wheel_file(parsed.filename, contents.wheel, parsed.tags, parsed.build)
        return contents
    return inspect_sdist(path, limits, parsed.stem)
