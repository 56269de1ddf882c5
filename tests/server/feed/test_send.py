"""The guarded webhook POST: private and loopback addresses refused unless allowed; URLs
other than http(s) refused. The receiver listens on loopback (no internet)."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.feed.webhooks.send import check_url, post
from tests.server.feed.receiver import receiver


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://192.168.0.1/x",
        "http://[::ffff:127.0.0.1]/x",  # IPv4-mapped
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
        "http://[::10.0.0.1]/x",  # IPv4-compatible
    ],
)
def test_private_literals_are_refused_at_creation(url: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_url(url, allow_private=False)
    assert caught.value.code == "webhook.private"
    check_url(url, allow_private=True)  # the test setting lets them through


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery() -> None:
    """This machine's own host name resolves (through /etc/hosts, no DNS) to a loopback or
    private address: a name the creation check cannot judge, refused once resolved."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    assert addresses and not any(ipaddress.ip_address(a).is_global for a in addresses)
    with receiver(lambda n: 200) as rx:
        async with httpx.AsyncClient() as client:
            url = rx.url.replace("127.0.0.1", name)
            refused = await post(client, url, b"{}", {}, seconds=2, allow_private=False)
            assert refused.code is None and refused.error
            assert "private or loopback address: refused" in refused.error
            assert not any(a in refused.error for a in addresses)  # the hub's DNS stays its own
            refused = await post(client, rx.url, b"{}", {}, seconds=2, allow_private=False)
            assert refused.code is None and "private or loopback" in (refused.error or "")
            assert rx.got == []
            allowed = await post(client, rx.url, b"{}", {}, seconds=2, allow_private=True)
            assert allowed.ok and len(rx.got) == 1
