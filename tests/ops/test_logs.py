"""Log lines: one per request with its id, the id on every line written meanwhile, no secret."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.accounts.conftest import MakeCaller
from tests.ops.conftest import Captured
from tunedeck.kit.logs import _SECRET_NAMES, REDACTED, _may_name_a_secret, redact


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
        # quoted values (reprs, keyword arguments)
        ("access_token='BQ-single-quoted'", "BQ-single-quoted"),
        ('access_token="BQ-double-quoted"', "BQ-double-quoted"),
        ("Token(access_token='BQ-in-repr', expires_in=3600)", "BQ-in-repr"),
        ("Token(refresh_token='AQ-with \\' quote')", "with \\' quote"),
        # name: value (YAML, headers, messages)
        ("refresh_token: AQ-after-colon", "AQ-after-colon"),
        ("client_secret:cs-no-space", "cs-no-space"),
        ("password: 'pw-quoted'", "pw-quoted"),
        ("Authorization: tdk-no-scheme-value", "tdk-no-scheme-value"),
        # URL-encoded inside another parameter
        ("/login?return_to=%2Fcb%3Fcode%3DAQ-encoded%26state%3Ds1", "AQ-encoded"),
        ("next=https%3A%2F%2Fx%2F%3Faccess_token%3dBQ-lower-escape", "BQ-lower-escape"),
        ("redirect_uri=https%3A%2F%2Fx%2Fcb%3Fcode%3DAQ-inside-a-value", "AQ-inside-a-value"),
    ],
)
def test_redact_blanks_every_kind_of_secret(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_keeps_what_is_not_secret() -> None:
    for text in (
        "GET /v1/spotify/search?q=daft+punk&limit=10 200 (account 1f0e)",
        "2026-12-02 16:45:24,123 INFO tunedeck.access: GET /readyz 200 0.8ms",
        "tokenizer: ok, my_token=kept, key used: tdk_[redacted]",
        "/login?return_to=%2Fcb%3Fstate%3Ds1%26code_hint%3Dkept",
    ):
        assert redact(text) == text


def test_every_secret_name_passes_the_first_look() -> None:
    """``redact`` skips its pattern for a line that fails this look: no name may."""
    for name in _SECRET_NAMES:
        assert _may_name_a_secret(name), name


@pytest.mark.parametrize(
    "text",
    [
        "callback?code=AQBx9-secret_code&state=s1",
        "Token(access_token='BQ-in-repr', refresh_token=\"AQ\")",
        "refresh_token: AQ-after-colon",
        '{"access_token": "BQC-access"}',
        "Authorization: Bearer BQDf.token-value_1",
        "/cb%3Fcode%3DAQ-encoded%26state%3Ds1",
    ],
)
def test_redacting_twice_changes_nothing(text: str) -> None:
    once = redact(text)
    assert once != text
    assert redact(once) == once


def test_structured_extras_are_redacted(logs: Captured) -> None:
    """A dict, list or object given in ``extra`` is written as JSON without its secrets."""

    class Grant:
        def __repr__(self) -> str:
            return "Grant(access_token='BQ-object-extra')"

    logging.getLogger("tunedeck.test").info(
        "refreshed",
        extra={
            "grant": {"access_token": "BQ-dict-extra", "expires_in": 3600},
            "attempts": [{"refresh_token": "AQ-list-extra"}, 2],
            "holder": Grant(),
            "count": 3,
        },
    )
    [line] = [line for line in logs.lines() if line["logger"] == "tunedeck.test"]
    for secret in ("BQ-dict-extra", "AQ-list-extra", "BQ-object-extra"):
        assert secret not in json.dumps(line)
    assert line["grant"] == {"access_token": REDACTED, "expires_in": 3600}
    assert line["attempts"] == [{"refresh_token": REDACTED}, 2]
    assert line["holder"] == f"Grant(access_token='{REDACTED}')"
    assert line["count"] == 3


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
