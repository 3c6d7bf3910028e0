"""What observing a request costs: request id, metrics and the JSON access line.

The same small FastAPI app (one route with a path parameter, as most of TuneDeck's are)
is called directly over ASGI, without a server or a client in between, so that the
difference is the middleware's own cost: first bare, then with ``ObserveRequests``
(counter and histogram by route template, one JSON log line per request written to a
discarded stream, every line through ``redact``). Printed: microseconds per request
each way and the ratio; and the cost of ``redact`` alone on a typical request line.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any

from fastapi import FastAPI

from tunedeck.kit.logs import make_handler, redact
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.observe import ObserveRequests

REQUESTS = 5_000
ROUNDS = 3


def _app(observed: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/keys/{key_id}")
    async def key(key_id: str) -> dict[str, str]:
        return {"id": key_id}

    if observed:
        app.add_middleware(ObserveRequests, metrics=Metrics(), access=True)
    return app


async def _call(app: Any, n: int) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/v1/keys/{n}",
        "raw_path": f"/v1/keys/{n}".encode(),
        "root_path": "",
        "query_string": b"token=tdk_abcdefghijklmnopqrstuvwxyz&q=x",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200


async def _per_request(app: FastAPI) -> float:
    await _call(app, 0)  # build the middleware stack first
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for n in range(REQUESTS):
            await _call(app, n)
        best = min(best, (time.perf_counter() - started) / REQUESTS)
    return best * 1e6


def main() -> None:
    root = logging.getLogger()
    handler = make_handler("json", io.StringIO())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        bare = asyncio.run(_per_request(_app(observed=False)))
        observed = asyncio.run(_per_request(_app(observed=True)))
    finally:
        root.removeHandler(handler)
    line = "GET /v1/spotify/live?token=tdo_abcdefghijklmnopqrstuvwxyz0123456789 101 12.5ms"
    started = time.perf_counter()
    for _ in range(REQUESTS):
        redact(line)
    redaction = (time.perf_counter() - started) / REQUESTS * 1e6
    print(f"requests per round: {REQUESTS}, best of {ROUNDS} rounds")
    print(f"bare app:      {bare:8.1f} us/request")
    print(f"observed app:  {observed:8.1f} us/request  (x{observed / bare:.2f} vs bare)")
    print(f"observation:   {observed - bare:8.1f} us/request")
    print(f"redact():      {redaction:8.1f} us/line")


if __name__ == "__main__":
    main()
