"""The checks on an advisory's own fields: alias shapes, CVSS vectors, reference URLs, ids.

CVSS vectors are checked by shape (the version prefix, every base metric once with one of its
values, no unknown metric), not scored: the score is the vector's reader's to compute.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pysetl_hub_schemas.osv import AdvisoryReference, AdvisorySeverity
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.i18n.messages import _

HUB_PREFIX = "PSHUB-"
_ALIASES = (
    re.compile(r"CVE-\d{4}-\d{4,19}"),
    re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}"),
    re.compile(r"PYSEC-\d{4}-\d{1,10}"),
)
_V3_BASE = {
    "AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC", "C": "HLN", "I": "HLN",
    "A": "HLN",
}  # fmt: skip
_V3_MORE = frozenset(
    ["E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"]
)
_V4_BASE = {
    "AV": "NALP", "AC": "LH", "AT": "NP", "PR": "NLH", "UI": "NPA", "VC": "HLN", "VI": "HLN",
    "VA": "HLN", "SC": "HLN", "SI": "HLN", "SA": "HLN",
}  # fmt: skip
_V4_MORE = frozenset(
    [
        "E",
        "CR",
        "IR",
        "AR",
        "MAV",
        "MAC",
        "MAT",
        "MPR",
        "MUI",
        "MVC",
        "MVI",
        "MVA",
        "MSC",
        "MSI",
        "MSA",
        "S",
        "AU",
        "R",
        "V",
        "RE",
        "U",
    ]
)
_CVSS = {
    "CVSS_V3": (re.compile(r"CVSS:3\.[01]"), _V3_BASE, _V3_MORE),
    "CVSS_V4": (re.compile(r"CVSS:4\.0"), _V4_BASE, _V4_MORE),
}
_METRIC = re.compile(r"([A-Z]{1,3}):([A-Za-z]{1,7})")


def check_aliases(aliases: list[str], own_id: str | None) -> list[str]:
    """CVE, GHSA and PYSEC ids, each once, in the order given."""
    seen: list[str] = []
    for alias in aliases:
        if not any(p.fullmatch(alias) for p in _ALIASES):
            raise BadRequest(
                "advisory.alias",
                _(
                    "alias {alias!r} is not a CVE, GHSA or PYSEC id; write it as CVE-2026-12345, "
                    "GHSA-xxxx-xxxx-xxxx (lower-case letters) or PYSEC-2026-1",
                    alias=alias,
                ),
            )
        if alias == own_id:
            raise BadRequest(
                "advisory.alias",
                _("alias {alias!r} is the advisory's own id; leave it out", alias=alias),
            )
        if alias not in seen:
            seen.append(alias)
    return seen


def check_severity(severity: list[AdvisorySeverity]) -> list[dict[str, str]]:
    types = [s.type for s in severity]
    if len(set(types)) != len(types):
        raise BadRequest(
            "advisory.severity",
            _("severity lists a CVSS version twice; give one vector per CVSS version"),
        )
    for s in severity:
        _check_vector(s.type, s.score)
    return [{"type": s.type, "score": s.score} for s in severity]


def _check_vector(kind: str, vector: str) -> None:
    prefix, base, more = _CVSS[kind]
    head, _sep, rest = vector.partition("/")
    metrics: dict[str, str] = {}
    ok = bool(prefix.fullmatch(head)) and bool(rest)
    for part in rest.split("/") if ok else []:
        match = _METRIC.fullmatch(part)
        if match is None or match[1] in metrics:
            ok = False
            break
        key, value = match[1], match[2]
        ok = (len(value) == 1 and value in base[key]) if key in base else key in more
        if not ok:
            break
        metrics[key] = value
    if not ok or not set(base) <= set(metrics):
        raise BadRequest(
            "advisory.severity",
            _(
                "{vector!r} is not a {kind} vector: it must start with {prefix} and give every "
                "base metric ({metrics}) once with one of its values, as in {example}",
                vector=vector,
                kind=kind,
                prefix="CVSS:3.1" if kind == "CVSS_V3" else "CVSS:4.0",
                metrics=", ".join(base),
                example=(
                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
                    if kind == "CVSS_V3"
                    else "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
                ),
            ),
        )


def check_references(references: list[AdvisoryReference]) -> list[dict[str, str]]:
    for ref in references:
        parts = urlsplit(ref.url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(c.isspace() or ord(c) < 32 for c in ref.url)
        ):
            raise BadRequest(
                "advisory.reference",
                _(
                    "reference {url!r} is not an http(s) URL; give the full address of the "
                    "page (https://...)",
                    url=ref.url,
                ),
            )
    return [{"type": r.type, "url": r.url} for r in references]


def check_id(osv_id: str) -> None:
    if osv_id.upper().startswith(HUB_PREFIX):
        raise BadRequest(
            "advisory.id",
            _(
                "ids starting with {prefix} are assigned by the hub; leave the id out to get "
                "the next one, or give your database's own id",
                prefix=HUB_PREFIX,
            ),
        )
