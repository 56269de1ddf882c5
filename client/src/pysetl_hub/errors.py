"""The client's error tree. Every error carries its data and says how to fix it.

HubError
├── ConfigError          bad or missing configuration
├── NotLoggedIn          a command needs a token and none is configured (nothing was sent)
├── TransportError       the hub could not be reached (after retries)
├── APIError             the hub answered 4xx/5xx with a problem+json body
│   ├── Invalid          400, 413, 415, 422: the request broke a rule
│   ├── Unauthorized     401: no token, or a bad one
│   ├── Forbidden        403: the token may not do this
│   ├── NotFound         404
│   └── Conflict         409: e.g. a filename already taken
├── IntegrityError       downloaded bytes differ from the published digest
│   └── LockedHashMismatch   ... or from the digest a lock file records
├── LockFileError        a pylock.toml that cannot be read, or does not fit this environment
├── ResolutionError      no release fits the requirement and environment
│   ├── BadRequirement   the requirement is not PEP 508 (a usage error)
│   └── NotOnHub         the hub hosts no component of that name
├── InstallError         the installer (pip or uv) failed
└── ProvenanceError      a signature check failed (see below)
    └── LockedPublisherMismatch  a file not signed by the publisher its lock file records
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pysetl_hub.i18n import N_, _, ngettext

if TYPE_CHECKING:  # the CLI imports this module at start-up: keep it free of msgspec
    from pysetl_hub_schemas import Problem


class HubError(Exception):
    """Base of every error the client raises."""

    # The fix. A class's own is marked with N_ and translated when shown (`fix`); one made
    # for an instance, with its data, is translated as it is made.
    hint = ""

    def fix(self) -> str:
        """The hint in the user's language."""
        return _(self.hint) if self.hint else ""

    def diagnostics(self) -> str:
        """The message and the fix, as the CLI prints them."""
        text, fix = str(self), self.fix()
        return _("{message}\nhint: {hint}").format(message=text, hint=fix) if fix else text


class ConfigError(HubError):
    hint = N_("check `pysetl-hub config`, PYSETL_HUB_URL and PYSETL_HUB_TOKEN")


# What a call without a token was doing (NotLoggedIn's `action`), as whole sentences.
NEEDS_TOKEN = {
    "publishing": N_("publishing needs an API token, and none is configured for {url}"),
    "checking who a token belongs to": N_(
        "checking who a token belongs to needs an API token, and none is configured for {url}"
    ),
}


class NotLoggedIn(HubError):
    """A call that needs a token, refused before anything was sent: no HTTP status exists."""

    def __init__(self, action: str, url: str) -> None:
        template = NEEDS_TOKEN.get(action)
        message = (
            _(template).format(url=url)
            if template
            else _("{action} needs an API token, and none is configured for {url}").format(
                action=action, url=url
            )
        )
        super().__init__(message)
        self.action, self.url = action, url
        self.hint = _(
            "log in with `pysetl-hub login` (or set PYSETL_HUB_TOKEN); an admin creates tokens "
            "with `pysetl-hub-server tokens create USER`"
        )


class TransportError(HubError):
    def __init__(self, url: str, cause: str, attempts: int) -> None:
        super().__init__(
            # The English is the same for one attempt (as it always was); a language may differ.
            ngettext(
                "could not reach {url}: {cause} ({attempts} attempts)",
                "could not reach {url}: {cause} ({attempts} attempts)",
                attempts,
            ).format(url=url, cause=cause, attempts=attempts)
        )
        self.url, self.cause, self.attempts = url, cause, attempts
        self.hint = _("check the hub URL (`pysetl-hub config`) and that the server is running")


class APIError(HubError):
    """An error answer from the hub; `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: Problem, url: str = "") -> None:
        detail = problem.detail or problem.title or f"HTTP {status}"
        super().__init__(f"{detail} (HTTP {status}{', ' + problem.code if problem.code else ''})")
        self.status, self.problem, self.url = status, problem, url
        self.hint = self.default_hint()

    def default_hint(self) -> str:
        return ""


class Invalid(APIError):
    def default_hint(self) -> str:
        return _("the hub named the rule above; fix the request or the file and try again")


class Unauthorized(APIError):
    def default_hint(self) -> str:
        return _("log in with `pysetl-hub login` or set PYSETL_HUB_TOKEN to a valid API token")


class Forbidden(APIError):
    def default_hint(self) -> str:
        return _("use a token of an owner of this component, or ask an owner to add you")


class NotFound(APIError):
    def default_hint(self) -> str:
        return _("check the spelling, or find the name with `pysetl-hub search`")


class Conflict(APIError):
    def default_hint(self) -> str:
        if (self.problem.code or "file.").startswith("file."):
            return _("published files never change: bump the version and build again")
        return ""  # the hub's own detail (a last owner, a pending invitation) says what to do


_BY_STATUS: dict[int, type[APIError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: Invalid,
    415: Invalid,
    422: Invalid,
}


def api_error(status: int, problem: Problem, url: str = "") -> APIError:
    return _BY_STATUS.get(status, APIError)(status, problem, url)


class IntegrityError(HubError):
    def __init__(self, filename: str, expected: str, actual: str) -> None:
        super().__init__(
            _(
                "{filename}: sha256 is {actual}, but the hub published {expected}; "
                "the partial file was deleted"
            ).format(filename=filename, actual=actual, expected=expected)
        )
        self.filename, self.expected, self.actual = filename, expected, actual
        self.hint = _(
            "the bytes were changed in transit or in storage: try again, and report it to "
            "the hub's operators if it repeats"
        )


@dataclass(frozen=True)
class Rejection:
    """Why one release of a component cannot be used."""

    version: str
    reason: str


class ResolutionError(HubError):
    def __init__(
        self, requirement: str, rejections: list[Rejection], summary: str = "", hint: str = ""
    ) -> None:
        self.summary = summary or _("no release of {requirement} fits this environment").format(
            requirement=requirement
        )
        lines = [self.summary]
        lines += [f"  {r.version}: {r.reason}" for r in rejections]
        super().__init__("\n".join(lines))
        self.requirement, self.rejections = requirement, rejections
        self.hint = hint or _(
            "relax the version specifier, or target another environment with "
            "--python / --pysetl-version / --spark-version / --python-version"
        )


class BadRequirement(ResolutionError):
    """The requirement text is not PEP 508, so nothing was looked up."""

    def __init__(self, requirement: str, reason: str) -> None:
        super().__init__(
            requirement,
            [],
            _("{requirement} is not a valid requirement: {reason}").format(
                requirement=repr(requirement), reason=reason
            ),
            hint=_(
                "write NAME, NAME==1.2.0 or NAME>=1,<2 (PEP 508); quote it in the shell, "
                "e.g. 'row-dedupe>=1,<2'"
            ),
        )


class NotOnHub(ResolutionError):
    """The hub answered that it hosts no component of this name."""

    def __init__(self, requirement: str, name: str) -> None:
        super().__init__(
            requirement,
            [],
            _("{name} is not on this hub").format(name=name),
            hint=_("check the name with `pysetl-hub search`, or the hub with `pysetl-hub config`"),
        )
        self.name = name


class InstallError(HubError):
    def __init__(self, command: list[str], returncode: int, output: str) -> None:
        super().__init__(
            _("{installer} exited with {code}:\n{output}").format(
                installer=command[0], code=returncode, output=output.strip()
            )
        )
        self.command, self.returncode, self.output = command, returncode, output
        self.hint = _("the files were verified; the installer's own message is above")


class ProvenanceError(HubError):
    """A file's signed provenance does not hold up; nothing was installed."""


class SignatureInvalid(ProvenanceError):
    def __init__(self, filename: str, check: str, detail: str) -> None:
        super().__init__(
            _("{filename}: its attestation failed the {check} check: {detail}").format(
                filename=filename, check=check, detail=detail
            )
        )
        self.filename, self.check = filename, check
        self.hint = _(
            "do not install this file: it is not what its publisher signed, or not signed by "
            "whom the hub says; report it to the component's owners and the hub's operators"
        )


class PublisherChanged(ProvenanceError):
    def __init__(self, name: str, pinned: str, now: str, trust_file: str) -> None:
        super().__init__(
            _(
                "{name} was signed by {pinned} when you first installed it, but this release "
                "is signed by {now}"
            ).format(name=name, pinned=pinned, now=now)
        )
        self.name, self.pinned, self.now = name, pinned, now
        self.hint = _(
            "if the owners moved their release workflow, pass --accept-new-publisher to trust "
            "{now} from now on (pins are kept in {trust_file})"
        ).format(now=now, trust_file=trust_file)


class SignaturesRemoved(ProvenanceError):
    def __init__(self, name: str, filename: str, pinned: str) -> None:
        super().__init__(
            _(
                "{name} was signed by {pinned} when you first installed it, but {filename} is "
                "unsigned: its signatures were removed (downgrade)"
            ).format(name=name, pinned=pinned, filename=filename)
        )
        self.name, self.filename = name, filename
        self.hint = _(
            "a signed component does not usually stop signing; check with its owners, then "
            "pass --accept-new-publisher to accept unsigned releases of it"
        )


class Unsigned(ProvenanceError):
    def __init__(self, filenames: list[str]) -> None:
        super().__init__(
            _("unsigned, so refused by --require-signatures: {files}").format(
                files=", ".join(filenames)
            )
        )
        self.filenames = filenames
        self.hint = _(
            "ask the owners to publish with attestations, or drop --require-signatures "
            '(or set verify = "warn")'
        )


def from_provenance(exc: Exception) -> HubError:
    """The client error for one of `pysetl_hub_provenance`'s, so it gets the same exit code:
    a rejected attestation is a SignatureInvalid (9), a bad trust root a ConfigError (1), an
    unreadable attestation file or publisher spec a plain HubError (1)."""
    from pysetl_hub_provenance import AttestationRejected, TrustRootError

    if isinstance(exc, AttestationRejected):
        return SignatureInvalid(exc.filename, exc.check, exc.detail)
    if isinstance(exc, TrustRootError):
        return ConfigError(str(exc))
    return HubError(str(exc))


class LockFileError(HubError):
    """A pylock.toml that is not valid PEP 751, or that does not fit the target environment."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(_("{path} cannot be used: {detail}").format(path=path, detail=detail))
        self.path, self.detail = path, detail
        self.hint = _(
            "write the lock again with `pysetl-hub lock` for this environment (--python, "
            "--python-version), or fix the file by hand"
        )


class LockedHashMismatch(IntegrityError):
    """The bytes served for a locked file are not the bytes the lock recorded."""

    def __init__(self, filename: str, expected: str, actual: str, lock: str) -> None:
        HubError.__init__(
            self,
            _(
                "{filename}: the lock {lock} records sha256 {expected}, but the file served "
                "has sha256 {actual}; nothing was installed"
            ).format(filename=filename, lock=lock, expected=expected, actual=actual),
        )
        self.filename, self.expected, self.actual = filename, expected, actual
        self.hint = _(
            "the file changed since the lock was written, or the lock was edited: check with "
            "the component's owners, and write a new lock only if the change is expected"
        )


class LockedPublisherMismatch(ProvenanceError):
    """A locked file whose attestation does not come from the publisher the lock recorded."""

    def __init__(self, filename: str, expected: str, found: str, lock: str) -> None:
        super().__init__(
            _(
                "{filename}: the lock {lock} records publisher {expected}, but the file is "
                "now {found}; nothing was installed"
            ).format(filename=filename, lock=lock, expected=expected, found=found)
        )
        self.filename, self.expected, self.found = filename, expected, found
        self.hint = _(
            "do not install it until the owners confirm the new publisher; then write a new "
            "lock with `pysetl-hub lock`"
        )
