"""The client's address behind trusted proxies: X-Forwarded-For is believed only from a
trusted peer, only up to the first untrusted hop, and never past garbage; a hub that trusts no
proxy ignores the header (a client could otherwise pick a fresh address per guess)."""

from __future__ import annotations

import httpx
import pytest

from pysetl_hub_server.security.proxies import client_address
from pysetl_hub_server.settings import Settings, SettingsError
from tests.server.security.conftest import StartHub

BAD = "pshub_0123456789abcdef_" + "x" * 43  # well-formed, unknown
NGINX = ("10.0.0.0/8", "fd00::/8")


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),  # nginx says who asked
        ("10.0.0.5", ["198.51.100.1, 203.0.113.7"], "203.0.113.7"),  # the client's own claim
        ("10.0.0.5", ["198.51.100.1", "203.0.113.7"], "203.0.113.7"),  # two header lines
        ("10.0.0.5", ["203.0.113.7, 10.1.1.1"], "203.0.113.7"),  # two proxies in a row
        ("10.0.0.5", ["10.1.1.1, 10.2.2.2"], "10.1.1.1"),  # all trusted: the farthest hop
        ("10.0.0.5", [], "10.0.0.5"),  # no header: the proxy itself
        ("10.0.0.5", ["not-an-ip"], "10.0.0.5"),  # garbage is not followed
        ("10.0.0.5", ["203.0.113.7, evil"], "10.0.0.5"),
        ("10.0.0.5", ["203.0.113.7 , "], "10.0.0.5"),  # an empty hop is garbage too
        (
            "10.0.0.5",
            ["\uff12\uff10\uff13.0.113.7"],
            "10.0.0.5",
        ),  # full-width digits are not an address
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # an untrusted peer's header: ignored
        ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.5", ["203.0.113.7"], "203.0.113.7"),  # nginx seen over a `::` socket
        ("10.0.0.5", ["203.0.113.7:41234"], "203.0.113.7"),  # a hop written with its port
        ("10.0.0.5", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.5", ["::ffff:203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["203.0.113.7:port"], "10.0.0.5"),  # a port that is not one is garbage
        ("unix-socket", ["203.0.113.7"], "unix-socket"),
    ],
)
def test_the_first_untrusted_hop_from_the_right(peer: str, headers: list[str], client: str) -> None:
    assert client_address(peer, headers, NGINX) == client


def test_no_trusted_proxy_means_the_peer() -> None:
    assert client_address("10.0.0.5", ["203.0.113.7"], ()) == "10.0.0.5"
    assert client_address(None, ["203.0.113.7"], NGINX) is None


def test_the_setting_takes_addresses_and_networks() -> None:
    settings = Settings.from_env({"PYSETL_HUB_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1/32", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="PYSETL_HUB_TRUSTED_PROXIES: 'nginx'"):
        Settings.from_env({"PYSETL_HUB_TRUSTED_PROXIES": "10.0.0.0/8,nginx"})


def _guesses(url: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return [
            http.get(
                "/api/v1/me",
                headers={"Authorization": f"Bearer {BAD}", "X-Forwarded-For": address},
            ).status_code
            for address in forwarded
        ]


def test_behind_a_trusted_proxy_each_client_has_its_own_count(hubs: StartHub) -> None:
    """The live hub is reached over loopback, so loopback plays the proxy."""
    hub = hubs(
        trusted_proxies=("127.0.0.0/8",),
        rate_limits=(("bad_token", "2/minute"),),
    )
    a, b = "203.0.113.7", "198.51.100.1"
    assert _guesses(hub.url, [a, a, a, b, b, b]) == [401, 401, 429, 401, 401, 429]


def test_a_hub_that_trusts_no_proxy_counts_the_peer_whatever_the_header(
    hubs: StartHub,
) -> None:
    hub = hubs(rate_limits=(("bad_token", "2/minute"),))
    assert _guesses(hub.url, ["203.0.113.7", "198.51.100.1", "192.0.2.1", "192.0.2.2"]) == [
        401,
        401,
        429,
        429,
    ]
