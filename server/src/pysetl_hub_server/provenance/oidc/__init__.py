"""Trusted publishing: a CI job's OIDC token exchanged for a 15-minute upload token.

`keys` finds and caches each issuer's signing keys, `verify` checks a token with PyJWT,
`claims` matches its claims to the trusted publishers registered on components, `services`
mints the token, `controllers` serves `/api/v1/oidc/...`.
"""
