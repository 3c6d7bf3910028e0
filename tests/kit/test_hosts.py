"""Which Host a request may name (kit.hosts): the rules, and the middleware's answers."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from tunedeck.config import Settings
from tunedeck.kit.hosts import AllowedHosts, Host, HostCheck, parse_host

LOCAL = ("127.0.0.1", 8123)  # the ASGI ``server``: the connection arrived on port 8123
LAN = ("192.168.1.20", 8123)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("deck.example", Host("deck.example", None)),
        ("Deck.Example.:443", Host("deck.example", 443)),
        ("127.0.0.1:8000", Host("127.0.0.1", 8000)),
        ("[::1]:8000", Host("[::1]", 8000)),
        ("[0:0:0:0:0:0:0:1]", Host("[::1]", None)),
        ("localhost", Host("localhost", None)),
    ],
)
def test_parse_host(value: str, parsed: Host) -> None:
    assert parse_host(value) == parsed


@pytest.mark.parametrize(
    "value", ["", "deck.example:0", "deck.example:70000", "[::g]", "a b", "deck/x", "u@deck"]
)
def test_parse_host_refuses_what_is_no_host(value: str) -> None:
    assert parse_host(value) is None


def hosts(public_url: str = "https://deck.example", *extra: str) -> AllowedHosts:
    return AllowedHosts(public_url, extra, listening_port=8000)


def allowed(rules: AllowedHosts, value: str, server: Any = LOCAL) -> bool:
    host = parse_host(value)
    assert host is not None, value
    return rules.allows(host, server)


def test_the_public_url_host_and_its_port() -> None:
    rules = hosts("https://deck.example")
    assert allowed(rules, "deck.example")
    assert allowed(rules, "deck.example:443")
    assert allowed(rules, "DECK.example")
    assert not allowed(rules, "deck.example:8443")
    assert not allowed(rules, "deck.example.evil.test")
    assert not allowed(rules, "evil-deck.example")
    assert allowed(hosts("http://deck.example:8080"), "deck.example:8080")
    assert not allowed(hosts("http://deck.example:8080"), "deck.example:80")


def test_loopback_names_on_the_listening_port_only() -> None:
    rules = hosts()
    for name in ("127.0.0.1", "localhost", "[::1]"):
        assert allowed(rules, f"{name}:8123")
        assert not allowed(rules, f"{name}:9999")
    # Without the connection's port, the port the server was told to listen on.
    assert allowed(rules, "localhost:8000", server=None)
    assert not allowed(rules, "localhost:8123", server=None)


def test_a_rebound_name_is_refused_on_loopback() -> None:
    """The attack: evil.example resolves to 127.0.0.1; the browser names it as Host."""
    rules = hosts()
    assert not allowed(rules, "evil.example:8123")
    assert not allowed(rules, "evil.example")
    assert not allowed(rules, "localhost.evil.example:8123")
    assert not allowed(rules, "127.0.0.1.nip.io:8123")


def test_the_address_the_connection_arrived_at() -> None:
    """A phone on the LAN opens http://192.168.1.20:8123: an address names no site."""
    rules = hosts()
    assert allowed(rules, "192.168.1.20:8123", server=LAN)
    assert allowed(rules, "192.168.1.20", server=LAN)
    assert not allowed(rules, "192.168.1.21:8123", server=LAN)
    assert not allowed(rules, "192.168.1.20:8124", server=LAN)
    assert allowed(rules, "192.168.1.20:8123", server=("::ffff:192.168.1.20", 8123))
    assert allowed(rules, "[fe80::1]:8123", server=("fe80::1", 8123))


def test_the_allowed_hosts_setting() -> None:
    rules = hosts("https://deck.example", "tunedeck.lan", "stream.example:8443", "*.deck.test")
    assert allowed(rules, "tunedeck.lan")
    assert allowed(rules, "tunedeck.lan:1234")
    assert allowed(rules, "stream.example:8443")
    assert not allowed(rules, "stream.example:8444")
    assert allowed(rules, "a.deck.test")
    assert allowed(rules, "a.b.deck.test:99")
    assert not allowed(rules, "deck.test")
    assert not allowed(rules, "evildeck.test")
    anything = hosts("https://deck.example", "*")
    assert anything.any_host
    assert allowed(anything, "evil.example")


def test_settings_give_the_rules() -> None:
    settings = Settings(
        public_url="https://deck.example", allowed_hosts=" a.example , b.example:81 ,", port=9000
    )
    assert settings.allowed_host_list == ["a.example", "b.example:81"]
    rules = AllowedHosts.of(settings)
    assert rules.listening_port == 9000
    assert allowed(rules, "a.example", server=None)
    assert allowed(rules, "b.example:81", server=None)
    assert allowed(rules, "127.0.0.1:9000", server=None)
    assert not allowed(rules, "127.0.0.1:8000", server=None)


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("https://deck.example", True),
        ("https://deck.example:443", True),
        ("http://deck.example", False),  # port 80: another origin than the public URL's
        ("https://obs.example", True),  # in the allowed hosts
        ("https://x.sub.example", True),
        ("http://127.0.0.1:8123", True),
        ("http://localhost:8123", True),
        ("http://[::1]:8123", True),
        ("http://127.0.0.1:9999", False),
        ("http://localhost", False),
        ("http://evil.example:8123", False),
        ("null", False),
        ("file://", False),
        ("http://user@127.0.0.1:8123", False),
        ("http://127.0.0.1:99999", False),
    ],
)
def test_origins_are_judged_by_the_same_names(origin: str, ok: bool) -> None:
    rules = hosts("https://deck.example", "obs.example", "*.sub.example", "*")
    assert rules.allows_origin(origin, LOCAL) is ok


# ---- the middleware --------------------------------------------------------------------


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    await PlainTextResponse("served")(scope, receive, send)


async def call(
    scope_type: str, host: bytes | None, *, extensions: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    headers = [(b"host", host)] if host is not None else []
    scope: dict[str, Any] = {
        "type": scope_type,
        "path": "/metrics",
        "headers": headers,
        "server": LOCAL,
        "client": ("127.0.0.1", 5000),
        "extensions": extensions or {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await HostCheck(inner, hosts=hosts())(scope, receive, send)
    return sent


async def test_an_allowed_host_is_served() -> None:
    sent = await call("http", b"127.0.0.1:8123")
    assert sent[0]["status"] == 200
    assert (await call("websocket", b"localhost:8123"))[0] == {"type": "websocket.accept"}


@pytest.mark.parametrize("host", [b"evil.example:8123", b"127.0.0.1:9", b"not a host", None])
async def test_another_host_gets_400_bad_host(host: bytes | None) -> None:
    start, body = await call("http", host)
    assert start["status"] == 400
    error = json.loads(body["body"])["error"]
    assert error["code"] == "bad_host"
    assert ("TUNEDECK_ALLOWED_HOSTS" in error["message"]) is (host is not None)
    if host is None:
        assert error["message"] == "The request names no Host."


async def test_a_websocket_handshake_is_refused_too() -> None:
    denial: dict[str, Any] = {"websocket.http.response": {}}
    start, body = await call("websocket", b"evil.example:8123", extensions=denial)
    assert (start["type"], start["status"]) == ("websocket.http.response.start", 400)
    assert json.loads(body["body"])["error"]["code"] == "bad_host"
    # A server without the denial extension: the handshake is closed (HTTP 403).
    (closed,) = await call("websocket", b"evil.example:8123")
    assert closed["type"] == "websocket.close"


@pytest.mark.parametrize("value", ["https://deck.example", "deck example", "deck.example/x"])
def test_the_setting_refuses_what_is_no_host(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a host"):
        Settings(allowed_hosts=f"ok.example, {value}")
