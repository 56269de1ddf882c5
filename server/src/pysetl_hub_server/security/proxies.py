"""The client's address behind reverse proxies the operator trusts.

Behind nginx or an ingress every request comes from the proxy, so per-IP rate limits would
count the whole world as one client and the audit trail would name the proxy. The proxy's
`X-Forwarded-For` says who asked, but anyone can send that header: it is believed only from a
peer in `PYSETL_HUB_TRUSTED_PROXIES`, and only up to the first address that is not itself a
trusted proxy, read from the right (each proxy appends the address it saw).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    """The settings' CIDR texts (already validated at start-up), parsed once."""
    return tuple(ipaddress.ip_network(net, strict=False) for net in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a proxy writes it: bare, `v4:port` or `[v6]:port`; an IPv4-mapped IPv6
    address (a server listening on `::`) as the IPv4 address it is."""
    text = text.strip()
    port = ""
    if text.startswith("[") and "]:" in text:
        text, _, port = text[1:].partition("]:")
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Iterable[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted_cidrs: tuple[str, ...]
) -> str | None:
    """The first untrusted hop, walking `X-Forwarded-For` from the right; the peer itself when
    it is not a trusted proxy, sent no header, or the header holds something not an address
    (a forged or garbled list is not followed past the garbage)."""
    if not trusted_cidrs or peer is None:
        return peer
    trusted = networks(trusted_cidrs)
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not _trusted(address, trusted):
            break
    return client
