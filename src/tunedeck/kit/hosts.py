"""The names TuneDeck answers as: every other ``Host`` is refused (400 ``bad_host``).

A page on another site can point its own name at 127.0.0.1 (DNS rebinding): the
visitor's browser then sends that page's requests, and lets it read the answers, to
whatever listens on this machine, as a caller on loopback. The one thing such a request
cannot hide is the name it was sent to: its ``Host`` is the other site's. So a request
is served only when its ``Host`` is one TuneDeck is served as:

- the host (and port) of ``TUNEDECK_PUBLIC_URL``;
- the loopback names ``127.0.0.1``, ``localhost`` and ``[::1]``, on the port the
  connection arrived at (the listening port);
- the address the connection arrived at, written as an address (``192.168.1.20:8000``
  from a phone on the LAN, a container probe by the pod's address), on that port: an
  address is no site's name, so no other page can be served under it;
- each entry of ``TUNEDECK_ALLOWED_HOSTS``: ``name``, ``name:port``, ``[v6]:port``,
  ``*.example.com`` (its subdomains) or ``*`` (any: when a proxy in front checks it).

A ``Host`` without a port matches any port of an allowed name (the browser left out
its scheme's default). :class:`AllowedHosts` also judges a page's ``Origin`` by the same
names (the live feed's check, with ``TUNEDECK_ALLOWED_ORIGINS``), never by the request's
own ``Host``, which the page chose.

Starlette's ``TrustedHostMiddleware`` does not fit: it compares names only (any port),
knows nothing of the connection's own address, and answers in plain text rather than
the one error shape; :class:`HostCheck` refuses HTTP requests and WebSocket handshakes
alike with ``{"error": {"code": "bad_host", ...}}``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tunedeck.config import Settings
from tunedeck.kit.errors import error_response

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
BAD_HOST = "bad_host"
_SHOWN_CHARS = 100

# A Host header: a name or IPv4 address, or an IPv6 address in brackets; then a port.
_HOST = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.-]+))(?::(?P<port>[0-9]{1,5}))?"
)


@dataclass(frozen=True, slots=True)
class Host:
    """A host as written in a ``Host`` header (``name`` lower-cased, an IPv6 address in
    brackets, compressed) and its port, if it has one."""

    name: str
    port: int | None


def parse_host(value: str) -> Host | None:
    """``value`` (``deck.example:8000``, ``[::1]:8000``, ``localhost``) as a :class:`Host`;
    None when it is not one."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] is not None else None
    if port is not None and not 0 < port < 65536:
        return None
    if match["ipv6"] is not None:
        try:
            address = ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            return None
        return Host(f"[{address.compressed}]", port)
    return Host(match["name"].lower().rstrip("."), port)


def _address_name(address: str) -> str | None:
    """The connection's own address as a ``Host`` would write it (None: not an address)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 on a dual-stack socket
            return str(parsed.ipv4_mapped)
        return f"[{parsed.compressed}]"
    return str(parsed)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One allowed name (``*.example.com``: its subdomains) and port (None: any)."""

    name: str
    port: int | None

    def matches(self, host: Host) -> bool:
        if self.port is not None and host.port is not None and host.port != self.port:
            return False
        if self.name.startswith("*."):
            return host.name.endswith(self.name[1:])
        return host.name == self.name


class AllowedHosts:
    """The hosts one server answers as (module docstring)."""

    def __init__(
        self,
        public_url: str,
        extra: Iterable[str] = (),
        *,
        listening_port: int | None = None,
    ) -> None:
        """``public_url``: TuneDeck's public URL; ``extra``: the allowed-hosts setting's
        entries; ``listening_port``: the port when a connection does not say which it
        arrived at (the loopback names are on that port)."""
        self.listening_port = listening_port
        self.any_host = False
        entries: list[_Entry] = []
        public = urlsplit(public_url)
        public_host = parse_host(public.netloc.rpartition("@")[2]) if public.netloc else None
        if public_host is not None:
            port = public_host.port or DEFAULT_PORTS.get(public.scheme.lower())
            entries.append(_Entry(public_host.name, port))
        for raw in extra:
            value = raw.strip().lower()
            if value == "*":
                self.any_host = True
            elif value.startswith("*.") and (host := parse_host(value[2:])) is not None:
                entries.append(_Entry(f"*.{host.name}", host.port))
            elif value and (host := parse_host(value)) is not None:
                entries.append(_Entry(host.name, host.port))
        self.entries = tuple(entries)

    @classmethod
    def of(cls, settings: Settings, *, listening_port: int | None = None) -> AllowedHosts:
        """The hosts ``settings`` allow (``TUNEDECK_PUBLIC_URL``, ``TUNEDECK_ALLOWED_HOSTS``)."""
        return cls(
            settings.public_url,
            settings.allowed_host_list,
            listening_port=listening_port if listening_port is not None else settings.port,
        )

    def allows(self, host: Host, server: Any = None) -> bool:
        """Whether a request naming ``host`` may be served; ``server`` is the ASGI scope's
        ``server`` (the address and port the connection arrived at), if known."""
        return (
            self.any_host
            or any(entry.matches(host) for entry in self.entries)
            or self._own_name(host, server)
        )

    def allows_origin(self, origin: str, server: Any = None) -> bool:
        """Whether a page of ``origin`` (``https://deck.example``) is served under one of
        these names: the explicit ones and this server's own, not the ``*`` wildcard (a
        Host check left to a proxy opens no door to every site's pages)."""
        try:
            parts = urlsplit(origin.strip())
            port = parts.port
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
            return False
        named = parse_host(parts.netloc)
        if named is None:
            return False
        host = Host(named.name, port if port is not None else DEFAULT_PORTS[scheme])
        return any(entry.matches(host) for entry in self.entries) or self._own_name(host, server)

    def _own_name(self, host: Host, server: Any) -> bool:
        """A loopback name, or the address the connection arrived at, on the listening
        port (any port when neither the connection nor the settings say which)."""
        address, port = _server_of(server)
        port = port if port is not None else self.listening_port
        if host.port is not None and port is not None and host.port != port:
            return False
        return host.name in LOOPBACK_NAMES or (
            address is not None and host.name == _address_name(address)
        )


def _server_of(server: Any) -> tuple[str | None, int | None]:
    """The address and port of an ASGI ``server`` value (``(host, port)`` or None)."""
    if not isinstance(server, list | tuple) or len(server) != 2:
        return None, None
    address, port = server
    return (
        address if isinstance(address, str) else None,
        port if isinstance(port, int) else None,
    )


def refusal_message(host: str | None) -> str:
    """What a refused caller is told: which Host, and which setting would allow it."""
    if not host:
        return "The request names no Host."
    shown = host if len(host) <= _SHOWN_CHARS else host[:_SHOWN_CHARS] + "..."
    return (
        f"This server does not answer as Host {shown!r}: set TUNEDECK_PUBLIC_URL to the "
        "URL browsers use, or add the name to TUNEDECK_ALLOWED_HOSTS (a reverse proxy "
        "must pass the public Host on)."
    )


class HostCheck:
    """ASGI middleware: HTTP requests and WebSocket handshakes whose ``Host`` is not
    allowed get 400 ``bad_host`` (the standard error body), unread."""

    def __init__(self, app: ASGIApp, *, hosts: AllowedHosts) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.hosts.any_host:
            await self.app(scope, receive, send)
            return
        value = Headers(scope=scope).get("host")
        host = parse_host(value) if value is not None else None
        if host is not None and self.hosts.allows(host, scope.get("server")):
            await self.app(scope, receive, send)
            return
        await _refuse(scope, receive, send, refusal_message(value))


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
        "extensions", {}
    ):
        # A server that cannot send a handshake's HTTP answer: closing refuses it (403).
        await send({"type": "websocket.close", "code": 1008, "reason": BAD_HOST})
        return
    response = error_response(400, BAD_HOST, message)
    await response(scope, receive, send)


def origin_allowed(conn: HTTPConnection, settings: Settings) -> bool:
    """Whether a browser's ``Origin`` may open a live connection (the feed, SSE, a GraphQL
    socket): a page served under one of TuneDeck's own names (:class:`AllowedHosts`) or
    one of ``TUNEDECK_ALLOWED_ORIGINS``; never judged by the request's own ``Host``, which
    a page on a rebound name chooses. No ``Origin`` (bots, servers): the credential alone
    decides."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    allowed = {_origin(settings.public_url), *map(_origin, settings.allowed_origin_list)}
    if "*" in allowed or _origin(origin) in allowed:
        return True
    return AllowedHosts.of(settings).allows_origin(origin, conn.scope.get("server"))


def _origin(value: str) -> str:
    return value.strip().rstrip("/").lower()
