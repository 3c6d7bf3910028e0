"""Log lines: one per request with its id, the id on every line written meanwhile, no secret."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.accounts.conftest import MakeCaller
from tests.ops.conftest import Captured
from tunedeck.kit.logs import REDACTED, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /v1/spotify/live?token=tdo_abcdefghijklmnop HTTP/1.1", "tdo_abcdefghijklmnop"),
        ("callback?code=AQBx9-secret_code&state=s1", "AQBx9-secret_code"),
        ("key used: tdk_Zm9vYmFyYmF6cXV4X3NlY3JldA", "Zm9vYmFyYmF6cXV4X3NlY3JldA"),
        ("session tds_0123456789abcdef", "0123456789abcdef"),
        ("Authorization: Bearer BQDf.token-value_1", "BQDf.token-value_1"),
        ("Authorization: Basic ZGVtbzpzZWNyZXQ=", "ZGVtbzpzZWNyZXQ="),
        ('{"access_token": "BQC-access", "expires_in": 3600}', "BQC-access"),
        ("{'refresh_token': 'AQD-refresh'}", "AQD-refresh"),
        ("grant_type=refresh_token&refresh_token=AQD-r2&client_secret=cs-42", "AQD-r2"),
        ("grant_type=refresh_token&refresh_token=AQD-r2&client_secret=cs-42", "cs-42"),
        ("/x?access_token=BQ-in-url&other=1", "BQ-in-url"),
        ("/x?api_key=k-in-url", "k-in-url"),
    ],
)
def test_redact_blanks_every_kind_of_secret(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_keeps_what_is_not_secret() -> None:
    text = "GET /v1/spotify/search?q=daft+punk&limit=10 200 (account 1f0e)"
    assert redact(text) == text
    assert redact("tdk_[redacted]") == "tdk_[redacted]"


async def test_a_request_line_with_its_id_and_principal(
    client: httpx.AsyncClient, make_caller: MakeCaller, logs: Captured
) -> None:
    caller = await make_caller("spotify:read")
    response = await client.get(
        "/v1/me",
        params={"token": caller.key, "q": "kept"},
        headers={**caller.headers, "X-Request-ID": "req-42.a:b"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42.a:b"
    (line,) = [entry for entry in logs.access() if entry["path"] == "/v1/me"]
    assert line["request_id"] == "req-42.a:b"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/me", 200)
    assert line["duration_ms"] >= 0
    assert line["principal_kind"] == "api_key"
    assert line["principal_id"] == caller.key_id
    assert line["account_id"] == str(caller.account.id)
    assert line["query"] == f"token={REDACTED}&q=kept"
    assert caller.key.split("_", 1)[1] not in logs.stream.getvalue()


@pytest.mark.parametrize(
    "sent",
    [None, "", "x" * 65, "has space", "<script>", "tab\there", "ünïcode".encode()],
)
async def test_implausible_request_ids_are_replaced(
    client: httpx.AsyncClient, logs: Captured, sent: str | bytes | None
) -> None:
    headers: dict[bytes, bytes] = {}
    if sent is not None:
        headers[b"X-Request-ID"] = sent if isinstance(sent, bytes) else sent.encode()
    response = await client.get("/healthz", headers=headers)
    given = response.headers["x-request-id"]
    assert given != sent
    assert re.fullmatch("[0-9a-f]{32}", given)  # a fresh uuid4 hex
    (line,) = logs.access()
    assert line["request_id"] == given


async def test_every_line_logged_while_serving_carries_the_request_id(
    app: FastAPI, client: httpx.AsyncClient, logs: Captured
) -> None:
    async def chatty(request: Request) -> PlainTextResponse:
        logging.getLogger("tunedeck.somewhere").warning("working on it")
        return PlainTextResponse("done")

    app.router.add_route("/_chatty", chatty)
    first = await client.get("/_chatty")
    await client.get("/_chatty", headers={"X-Request-ID": "second"})
    inside = [line for line in logs.lines() if line["message"] == "working on it"]
    assert [line["request_id"] for line in inside] == [first.headers["x-request-id"], "second"]
    assert [line["request_id"] for line in logs.access()] == [
        first.headers["x-request-id"],
        "second",
    ]
    # Outside a request, no id.
    logging.getLogger("tunedeck.somewhere").warning("between requests")
    (between,) = [line for line in logs.lines() if line["message"] == "between requests"]
    assert "request_id" not in between
