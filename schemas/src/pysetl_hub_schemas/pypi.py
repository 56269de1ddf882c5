"""The PyPI JSON API (https://docs.pypi.org/api/json/): `GET /pypi/{name}/json` and
`GET /pypi/{name}/{version}/json`, the documents dependency bots and auditors read.

An external format: field names and nulls are PyPI's (every field is written, null included,
as PyPI writes them); `releases` is only in the project document.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType


class _PyPI(msgspec.Struct, kw_only=True):
    """PyPI writes every field, nulls included."""


class PypiInfo(_PyPI, kw_only=True):
    name: str
    version: str
    summary: str | None = None
    description: str | None = None
    description_content_type: str | None = None
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    maintainer_email: str | None = None
    license: str | None = None
    keywords: str | None = None
    classifiers: list[str] = []
    home_page: str | None = None
    download_url: str | None = None
    project_urls: dict[str, str] | None = None
    requires_dist: list[str] | None = None
    requires_python: str | None = None
    platform: str | None = None
    bugtrack_url: None = None
    docs_url: None = None
    yanked: bool = False
    yanked_reason: str | None = None
    package_url: str
    project_url: str
    release_url: str


class PypiDigests(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The file's digests; md5 is absent (the hub never computes it for storage)."""

    sha256: str
    blake2b_256: str | None = None
    md5: str | None = None


class PypiFile(_PyPI, kw_only=True):
    filename: str
    url: str
    digests: PypiDigests
    size: int
    packagetype: str
    python_version: str
    requires_python: str | None = None
    upload_time: str
    upload_time_iso_8601: datetime
    yanked: bool = False
    yanked_reason: str | None = None
    has_sig: bool = False
    comment_text: str = ""


class PypiVulnerability(_PyPI, kw_only=True):
    id: str
    aliases: list[str] = []
    summary: str | None = None
    details: str | None = None
    fixed_in: list[str] = []
    link: str
    source: str
    withdrawn: datetime | None = None


class PypiProject(_PyPI, kw_only=True):
    """The project (releases set) or one release (releases unset) document."""

    info: PypiInfo
    last_serial: int
    releases: dict[str, list[PypiFile]] | UnsetType = UNSET
    urls: list[PypiFile]
    vulnerabilities: list[PypiVulnerability]
