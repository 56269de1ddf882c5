"""Languages the hub speaks: gettext catalogs (Babel tooling, stdlib gettext at run time),
the choice of a language per request, and locale-aware formatting."""
