"""Trusted publishing from CI: the job's OIDC identity, exchanged for a 15-minute upload token.

With no token configured, `pysetl-hub publish` asks the hub which audience it expects, gets
an OIDC token for it from the CI (the `id` package: GitHub Actions with `permissions:
id-token: write`, GitLab CI with an `id_tokens: PYSETL_HUB_ID_TOKEN` entry), and mints. The
hub gives a token only to a job whose repository, workflow (and environment) an owner
registered with `pysetl-hub publishers add`; no secret is stored in CI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub.client import HubClient
    from pysetl_hub_schemas import MintedToken


class TrustedPublishingError(HubError):
    """The CI's OIDC token could not be fetched; nothing was uploaded."""


def ambient_credential(audience: str) -> str | None:
    """The CI job's OIDC token for `audience`; None outside a CI that provides one."""
    import id as oidc_id  # the `id` package

    try:
        token = oidc_id.detect_credential(audience=audience)
    except oidc_id.IdentityError as exc:
        error = TrustedPublishingError(
            _("trusted publishing: the CI job's OIDC token could not be fetched: {error}").format(
                error=exc
            )
        )
        error.hint = _(
            "on GitHub Actions give the job `permissions: id-token: write`; on GitLab CI add "
            "`id_tokens: {variable}: aud: {audience}`; or configure a token "
            "(PYSETL_HUB_TOKEN) instead"
        ).format(variable=env_name(audience), audience=audience)
        raise error from exc
    return str(token) if token else None


def env_name(audience: str) -> str:
    """The variable GitLab CI must put the token in, as the `id` package looks for it."""
    import re

    return re.sub(r"[^A-Z0-9_]|^[^A-Z_]", "_", audience.upper()) + "_ID_TOKEN"


def mint_from_ci(client: HubClient) -> MintedToken | None:
    """A short-lived upload token from the CI's identity; None when not running in such a CI."""
    credential = ambient_credential(client.oidc_audience())
    if credential is None:
        return None
    return client.mint_token(credential)
