"""One webhook POST, guarded: http(s) only, no redirects, private addresses refused.

A webhook URL is chosen by any user, so the hub must not become a way to reach what only it
can reach (its database, a cloud metadata address, a service on loopback). The host is
resolved once, every address it resolves to must be public, and the request goes to that
address (TLS still checks the certificate against the host name), so a name that resolves to
a public address when checked and a private one when connected (DNS rebinding) gets nowhere.
`PYSETL_HUB_WEBHOOK_ALLOW_PRIVATE=1` lifts the address rule (tests, or a hub whose receivers
all live inside one private network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.i18n.messages import _


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int | None  # None: no response
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def check_url(url: str, allow_private: bool) -> httpx.URL:
    """A 400 for a URL no delivery could go to; returns it parsed."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise BadRequest(
            "webhook.url",
            _("the webhook URL {url!r} is not an http(s) URL with a host", url=url[:200]),
        )
    if parsed.userinfo:
        raise BadRequest(
            "webhook.url_credentials",
            _(
                "the webhook URL {url!r} carries a user name or password: deliveries are "
                "signed instead (check the X-Hub-Signature-256 header)",
                url=parsed.copy_with(username=None, password=None),
            ),
        )
    private = _private_literal(parsed.host)
    if private and not allow_private:
        raise BadRequest(
            "webhook.private",
            _(
                "the webhook URL {url!r} points at a private or loopback address, which this "
                "hub does not deliver to: use a public address",
                url=url[:200],
            ),
        )
    return parsed


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global, and so is any IPv4 address it carries: an IPv6 address can embed one (mapped,
    6to4, NAT64, IPv4-compatible), and Python calls some of those global whatever they embed
    (64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a NAT64 gateway)."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address in _NAT64 or address in _V4_COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not embedded.is_global:
            return False
    return True


def _private_literal(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return not is_public(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name: checked when resolved, at each delivery


async def _resolve(host: str, port: int, allow_private: bool) -> str:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                # Not which address: the delivery log is read by whoever chose the URL, and
                # the hub's view of its internal DNS is not theirs to map.
                raise PermissionError(f"{host} resolves to a private or loopback address: refused")
    return str(addresses[0])


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    seconds: float,
    allow_private: bool,
) -> Outcome:
    """POST `body`; the response body is never read (a receiver's answer is its status)."""
    start = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - start) * 1000)

    try:
        parsed = check_url(url, allow_private)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        async with asyncio.timeout(seconds):
            address = await _resolve(parsed.host, port, allow_private)
            target = parsed.copy_with(host=address)
            extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
            sent = {**headers, "Host": parsed.netloc.decode("ascii")}
            async with client.stream(
                "POST", target, content=body, headers=sent, extensions=extensions
            ) as response:
                return Outcome(response.status_code, took())
    except TimeoutError:
        return Outcome(None, took(), f"no answer within {seconds:g} seconds")
    except BadRequest as exc:
        return Outcome(None, took(), str(exc.detail)[:500])
    except (OSError, httpx.HTTPError) as exc:
        return Outcome(None, took(), f"{type(exc).__name__}: {exc}"[:500])
