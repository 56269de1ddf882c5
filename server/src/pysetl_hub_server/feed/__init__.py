"""The change feed: the public projection of the audit journal, signed pages, live streaming
(Server-Sent Events), webhooks and Atom feeds."""
