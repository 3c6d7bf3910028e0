"""Who is on the other end of a connection: its address, as the server reports it.

The address is the connection's peer (``scope["client"]``) as uvicorn reports it: the
TCP peer, or, for a request forwarded by a proxy uvicorn trusts (``--forwarded-allow-ips``
/ ``FORWARDED_ALLOW_IPS``, loopback by default), the client that proxy names in
``X-Forwarded-For``. Nothing here reads forwarding headers itself: a header any client
can send names nobody. ``accounts.auth.is_local_caller`` and the per-address limits
(failed sign-ins, live connections) all read this one address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

IPV6_PREFIX = 64
"""Per-address limits count an IPv6 client by its /64: one subscriber holds a whole /64
(often more), and could otherwise take a fresh address for every attempt."""
UNKNOWN = "unknown"
"""The limit key of a connection without a peer address (a Unix socket)."""


def peer_address(scope: Any) -> IPAddress | None:
    """The connection's client address (IPv4-mapped IPv6 read as IPv4); None when the
    server reports none or something that is not an IP address."""
    client = scope.get("client")
    if not client:
        return None
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return address


def limit_key(scope: Any) -> str:
    """The name a per-address limit counts the connection under: its IPv4 address, or
    the /64 network of its IPv6 address."""
    address = peer_address(scope)
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)
