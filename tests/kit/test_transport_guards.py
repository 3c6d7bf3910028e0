"""The transport-level guards every door shares, on a small app of their own:

- the body size limit refuses before reading (Content-Length up front; a chunked body
  counted and left unread past the limit), in the standard error shape;
- an unhandled error answers the standard 500 and leaves the keep-alive connection
  usable (the next request on it succeeds); a client hanging up mid-body is no error;
- a 405 names every method of the path in ``Allow``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from tests.support.servers import serve_in_thread
from tunedeck.kit.body_limit import BodySizeLimit
from tunedeck.kit.errors import TuneDeckAPI, install_error_handlers

LIMIT = 64 * 1024
CHUNK = 16 * 1024


class Echo(BaseModel):
    text: str


def _app() -> tuple[FastAPI, dict[str, Any]]:
    """The app, and what it saw: how many requests reached it, the client port of each."""
    seen: dict[str, Any] = {"calls": 0, "ports": []}
    app = TuneDeckAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=LIMIT)

    @app.post("/echo")
    async def echo(body: Echo, request: Request) -> Echo:
        seen["calls"] += 1
        return body

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        # Reads its body itself, as the GraphQL door does.
        seen["calls"] += 1
        return {"bytes": len(await request.body())}

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret-token-in-message")

    @app.get("/where")
    async def where(request: Request) -> dict[str, int]:
        assert request.client is not None
        seen["ports"].append(request.client.port)
        return {"port": request.client.port}

    @app.get("/things")
    async def list_things() -> list[str]:
        return []

    @app.post("/things")
    async def add_thing() -> None:
        return None

    @app.delete("/things")
    async def remove_things() -> None:
        return None

    return app, seen


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


# ---- body size -------------------------------------------------------------------------


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": f"The request body is larger than {LIMIT} bytes.",
    }
    assert response.headers["connection"] == "close"


async def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    app, seen = _app()
    async with _client(app) as client:
        response = await client.post("/echo", json={"text": "x" * LIMIT})
        _refused(response)
        assert seen["calls"] == 0
        fits = await client.post("/echo", json={"text": "x" * (LIMIT - 100)})
        assert fits.status_code == 200
        assert seen["calls"] == 1


async def test_a_chunked_body_is_left_unread_past_the_limit() -> None:
    """100 MB offered in 16 KiB chunks: the app reads a few, then answers 413."""
    app, seen = _app()
    offered = 0

    async def hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal offered
        for _ in range(100 * 1024 * 1024 // CHUNK):
            offered += 1
            yield b"x" * CHUNK

    async with _client(app) as client:
        response = await client.post(
            "/echo", content=hundred_megabytes(), headers={"content-type": "application/json"}
        )
    _refused(response)
    assert offered == LIMIT // CHUNK + 1  # the chunk that crossed the limit, and no more
    assert seen["calls"] == 0


async def test_a_chunked_body_within_the_limit_is_read_whole() -> None:
    app, seen = _app()
    payload = json.dumps({"text": "y" * (LIMIT - 1000)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), CHUNK):
            yield payload[start : start + CHUNK]

    async with _client(app) as client:
        response = await client.post(
            "/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 200
    assert len(response.json()["text"]) == LIMIT - 1000
    assert seen["calls"] == 1


async def test_websockets_pass_untouched() -> None:
    """A WebSocket (the live feed) is no request body: the scope goes through as it came."""
    reached: list[Receive] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(receive)

    async def receive() -> Message:
        return {"type": "websocket.receive", "bytes": b"x" * (LIMIT * 4)}

    async def send(message: Message) -> None:
        raise AssertionError(message)

    scope: Scope = {"type": "websocket", "headers": [(b"content-length", b"999999999")]}
    await BodySizeLimit(app, max_bytes=LIMIT)(scope, receive, send)
    assert reached == [receive]


# ---- unhandled errors keep the connection ----------------------------------------------


def test_an_unhandled_error_answers_500_and_keeps_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, seen = _app()
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as client:
        first = client.get("/where").json()["port"]
        crash = client.get("/crash")
        assert crash.status_code == 500
        assert crash.json() == {
            "error": {"code": "internal_error", "message": "Internal server error."}
        }
        assert "secret-token" not in crash.text
        after = client.get("/where")
        assert after.status_code == 200
    # The same client port: the request after the crash came on the same connection.
    assert seen["ports"] == [first, first]
    logged = [r for r in caplog.records if r.exc_info and "secret-token" in str(r.exc_info[1])]
    assert logged, "the traceback is logged for the operator"


async def test_a_client_leaving_while_its_body_is_read_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that gives up waiting and hangs up mid-body (a bot on a timeout) is not
    an unhandled error: no traceback in the operator's log, no 500 attempted."""
    app, seen = _app()
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/raw",
        "raw_path": b"/raw",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    parts = iter([{"type": "http.request", "body": b'{"text": ', "more_body": True}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(parts, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert seen["calls"] == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [499]


def test_an_oversized_body_closes_only_its_own_connection() -> None:
    app, seen = _app()
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as client:
        _refused(client.post("/echo", json={"text": "x" * LIMIT}))
        assert client.post("/echo", json={"text": "fine"}).json() == {"text": "fine"}
    assert seen["calls"] == 1


# ---- 405 names every method -------------------------------------------------------------


async def test_405_allows_every_method_of_the_path() -> None:
    app, _ = _app()
    async with _client(app) as client:
        for method in ("OPTIONS", "PUT", "PATCH"):
            response = await client.request(method, "/things")
            assert response.status_code == 405
            assert response.json()["error"]["code"] == "method_not_allowed"
            assert response.headers["allow"] == "DELETE, GET, POST"  # sorted
        response = await client.delete("/echo")
        assert response.headers["allow"] == "POST"
