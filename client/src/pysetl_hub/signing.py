"""`publish --attest`: sign dists in CI with Sigstore, from the job's ambient OIDC identity.

The `id` package finds the identity token GitHub Actions (with `id-token: write`) or GitLab CI
(with a `SIGSTORE_ID_TOKEN` id_token) provide; sigstore exchanges it at Fulcio for a short-lived
certificate and logs the signature in Rekor. Outside CI there is no such token, and no
fallback: signing from a laptop would sign as a person, not as the release workflow the
component's owners registered.
"""

from __future__ import annotations

from pathlib import Path

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import _


class SigningError(HubError):
    """Signing could not start or did not finish; nothing was uploaded."""


def ambient_token() -> str:
    import id as oidc_id  # the `id` package

    try:
        token = oidc_id.detect_credential(audience="sigstore")
    except oidc_id.IdentityError as exc:
        raise SigningError(
            _("--attest: the CI job's OIDC token could not be fetched: {error}").format(error=exc)
        ) from exc
    if not token:
        error = SigningError(
            _(
                "--attest signs with the CI job's identity, and no ambient OIDC credential was "
                "found (this is not GitHub Actions with `permissions: id-token: write`, nor GitLab "
                "CI with an `id_tokens: SIGSTORE_ID_TOKEN` entry)"
            )
        )
        error.hint = _(
            "run publish --attest in the release workflow you registered with `pysetl-hub "
            "publishers add`; locally, publish without --attest"
        )
        raise error
    return str(token)


def attest(dists: list[Path], token: str | None = None) -> list[Path]:
    """Sign each dist (PEP 740 publish attestation) and write `<file>.publish.attestation`."""
    from pypi_attestations import Attestation, AttestationError, Distribution
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityError, IdentityToken
    from sigstore.sign import SigningContext

    identity = IdentityToken(token or ambient_token())
    written = []
    try:
        context = SigningContext.from_trust_config(ClientTrustConfig.production())
        with context.signer(identity, cache=True) as signer:
            for dist in dists:
                attestation = Attestation.sign(signer, Distribution.from_file(dist))
                out = dist.with_name(f"{dist.name}.publish.attestation")
                out.write_text(attestation.model_dump_json())
                written.append(out)
    except (AttestationError, IdentityError, SigstoreError, OSError) as exc:
        raise SigningError(_("--attest: signing failed: {error}").format(error=exc)) from exc
    return written
