"""The default headers (kit.response_headers): on every answer, a page's own kept."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

from tunedeck.kit.hosts import AllowedHosts, HostCheck
from tunedeck.kit.response_headers import API_POLICY, DefaultHeaders

PAGE_POLICY = "default-src 'self'; frame-ancestors 'self'"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/page":
        page = PlainTextResponse(
            "<p>hi</p>", media_type="text/html", headers={"Content-Security-Policy": PAGE_POLICY}
        )
        await page(scope, receive, send)
    else:
        await JSONResponse({"ok": True})(scope, receive, send)


async def call(path: str, scope_type: str = "http", host: bytes = b"127.0.0.1:80") -> list[Any]:
    scope: dict[str, Any] = {
        "type": scope_type,
        "path": path,
        "headers": [(b"host", host)],
        "server": ("127.0.0.1", 80),
        "extensions": {"websocket.http.response": {}},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    hosts = AllowedHosts("http://127.0.0.1", listening_port=80)
    await DefaultHeaders(HostCheck(app, hosts=hosts))(scope, receive, send)
    return sent


def headers_of(start: dict[str, Any]) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in start["headers"]}


async def test_an_answer_gets_the_defaults() -> None:
    headers = headers_of((await call("/data"))[0])
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == API_POLICY
    assert headers["referrer-policy"] == "no-referrer"


async def test_a_page_keeps_its_own_policy() -> None:
    headers = headers_of((await call("/page"))[0])
    assert headers["content-security-policy"] == PAGE_POLICY
    assert headers["x-content-type-options"] == "nosniff"


async def test_a_refused_websocket_handshake_gets_them_too() -> None:
    start, _ = await call("/live", "websocket", host=b"evil.example")
    assert start["type"] == "websocket.http.response.start"
    headers = headers_of(start)
    assert headers["content-security-policy"] == API_POLICY
    assert headers["x-content-type-options"] == "nosniff"
