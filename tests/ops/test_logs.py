"""Log lines: one per request with its id, the id on every line written meanwhile, no secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.accounts.conftest import MakeCaller
from tests.ops.conftest import Captured
from tunedeck.kit.logs import (
    _SECRET_NAMES,
    REDACTED,
    TRACE_INDENT,
    _may_name_a_secret,
    escape_controls,
    make_handler,
    redact,
)
from tunedeck.kit.observe import USER_AGENT_CHARS


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


# ---- the text format: one record, one line --------------------------------------------

# What an attacker would like a reader to see: a line of its own, as TuneDeck writes them.
FORGED = "2026-01-01 00:00:00,000 INFO tunedeck.access: GET /v1/keys 200 0.1ms"
# Every way of breaking a line a reader or a collector may honour (``str.splitlines``
# splits at each): LF, CR, VT, FF, the file/group/record separators, NEL, U+2028/2029.
BREAKS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class TextLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[str]:
        """The log as the strictest reader splits it into lines."""
        return self.stream.getvalue().splitlines()

    def records(self) -> list[str]:
        """The lines that start a record (a traceback's lines are indented under one)."""
        return [line for line in self.lines() if not line.startswith(TRACE_INDENT)]

    def access(self, path: str) -> list[str]:
        """The request lines of ``path``."""
        request = re.compile(rf"tunedeck\.access \[\w+\]: GET {re.escape(path)}")
        return [line for line in self.records() if request.search(line)]

    def assert_one_line_each(self) -> None:
        """No line reads as a record TuneDeck did not write: every line but a traceback's
        starts with its record's time, and none is the forged one."""
        for line in self.lines():
            assert line.startswith(TRACE_INDENT) or re.match(r"\d{4}-\d\d-\d\d \d\d:", line), line
            assert not line.startswith("2026-01-01"), line


@pytest.fixture
def text_log() -> Iterator[TextLog]:
    """Every logger's lines in the text format (``TUNEDECK_LOG_FORMAT=text``)."""
    log = TextLog()
    handler = make_handler("text", log.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield log
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_escape_controls_leaves_one_line() -> None:
    for brk in BREAKS:
        assert escape_controls(f"a{brk}{FORGED}").splitlines() == [
            escape_controls(f"a{brk}{FORGED}")
        ]
    assert escape_controls("a\nb\r\tc\x1b[31m\x85\u2028\u202e") == (
        "a\\nb\\r\\tc\\x1b[31m\\x85\\u2028\\u202e"
    )
    # Text without a control character is written as it is, accents and scripts included.
    plain = "Sigur Rós — ناي / 東京 [redacted]"
    assert escape_controls(plain) == plain


async def test_a_path_cannot_write_a_line_of_its_own(
    client: httpx.AsyncClient, text_log: TextLog
) -> None:
    """The path is logged decoded: ``%0a`` in a URL is a line feed in the message."""
    encoded = "".join(quote(f"{brk}{FORGED}", safe="") for brk in BREAKS)
    response = await client.get(f"/nothing-here{encoded}")
    assert response.status_code == 404
    text_log.assert_one_line_each()
    (line,) = text_log.access("/nothing-here")
    assert "\\n2026-01-01 00:00:00,000 INFO" in line
    assert "\\u2028" in line
    assert "\\x85" in line


async def test_a_query_cannot_write_a_line_of_its_own(app: FastAPI, text_log: TextLog) -> None:
    """The query is logged as the server hands it over: a byte above 0x7f is read as
    Latin-1, so 0x85 arrives as NEL, a line break; an ASGI server may pass any byte."""
    raw = b"q=1\n" + FORGED.encode() + b"\x85" + FORGED.encode() + b"&token=tdk_sekrit12345"
    status = await call_raw(app, "/healthz", query=raw)
    assert status == 200
    text_log.assert_one_line_each()
    (line,) = text_log.access("/healthz")
    assert "?q=1\\n2026-01-01" in line
    assert "\\x85" in line
    assert "sekrit" not in line


async def test_a_header_cannot_write_a_line_of_its_own(
    client: httpx.AsyncClient, text_log: TextLog
) -> None:
    """The User-Agent is logged; HTTP forbids CR and LF in a header, not 0x85 (NEL once
    read as Latin-1), and a server in front may pass anything."""
    for brk in (b"\x85", b"\n", b"\r"):
        agent = b"bot/1.0" + brk + FORGED.encode()
        if brk == b"\x85":  # an HTTP client sends this one; CR and LF only a raw request
            await client.get("/healthz", headers={b"User-Agent": agent})
        await call_raw(client_app(client), "/healthz", headers=[(b"user-agent", agent)])
    text_log.assert_one_line_each()
    lines = text_log.access("/healthz")
    assert len(lines) == 4
    assert all('"bot/1.0\\' in line for line in lines)
    assert any('"bot/1.0\\x85' in line for line in lines)


async def test_the_user_agent_is_in_the_access_line(
    client: httpx.AsyncClient, logs: Captured
) -> None:
    await client.get("/healthz", headers={"User-Agent": "streambot/2.1 " + "x" * 500})
    await client.get("/healthz", headers={"User-Agent": ""})
    first, second = logs.access()
    assert first["user_agent"] == ("streambot/2.1 " + "x" * 500)[:USER_AGENT_CHARS]
    assert second["user_agent"] == ""


def test_a_label_cannot_write_a_line_of_its_own(text_log: TextLog) -> None:
    """Whatever a caller typed (a key's label, an account's name) stays on its record's
    line, in the message and in an exception's text alike; secrets are still blanked."""
    label = f"bot{BREAKS[0]}{FORGED}\u2028{FORGED}\r{FORGED} tdk_hidden12345678"
    log = logging.getLogger("tunedeck.test")
    log.info("API key %r created for account %s", label, label)
    try:
        raise ValueError(f"label {label} is taken")
    except ValueError:
        log.exception("could not rename to %s", label)
    text_log.assert_one_line_each()
    records = [line for line in text_log.records() if "tunedeck.test" in line]
    assert len(records) == 2
    trace = [line for line in text_log.lines() if line.startswith(TRACE_INDENT)]
    # A line feed in an exception's text goes on an indented line of the traceback; the
    # other breaks are escaped there too.
    assert f"{TRACE_INDENT}ValueError: label bot" in trace
    assert any(line.startswith(f"{TRACE_INDENT}2026-01-01") for line in trace)
    assert any("\\u2028" in line and "\\r" in line for line in trace)
    assert "hidden12345678" not in text_log.stream.getvalue()


def client_app(client: httpx.AsyncClient) -> Any:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app


async def call_raw(
    app: Any,
    path: str,
    *,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> int:
    """Call ``app`` with a request exactly as given (bytes no HTTP client would send)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))
