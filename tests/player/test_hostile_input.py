"""Hostile input that generators miss, by hand, through both doors.

Each case is one request to REST and one to GraphQL; each must be refused with a 4xx in
the one error shape of its door (REST, or a GraphQL transport refusal: ``error.code``;
a GraphQL document refusal: ``errors[0].extensions.code``) and reach nothing behind
(Spotify not called). Duplicate JSON keys are refused in both doors, naming the key:
with last-wins, a proxy or a logger reading the first value and TuneDeck acting on the
last would disagree about what was asked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.accounts.conftest import MakeCaller
from tests.player.conftest import Streamer, player_settings
from tests.player.support import upstream_requests
from tests.support.servers import serve_in_thread
from tests.support.simulator import Sim
from tunedeck.accounts import service as accounts_service
from tunedeck.accounts.auth import GuardedRoute
from tunedeck.app import create_app
from tunedeck.player import reads

TRACK = "spotify:track:" + "a" * 22
QUEUE_REST = "/v1/spotify/queue"
QUEUE_MUTATION = "mutation($uri: String!) { spotifyQueue(uri: $uri) { action } }"
CREATE_REST = "/v1/spotify/playlists/new"
CREATE_MUTATION = "mutation($name: String!) { spotifyCreatePlaylist(name: $name) { id } }"
JSON = {"content-type": "application/json"}
MEGABYTE = "x" * 1_000_000
DEEP = 10_000


@pytest.fixture
async def client(make_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its poller: accounts other tests left polled in the shared
    database must not call Spotify while these tests count the calls."""
    async with make_app(poll_in_process=False) as client:
        yield client


@dataclass(frozen=True)
class Sent:
    """One raw request: method, path, body bytes, extra headers, query parameters."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] | None = None
    params: dict[str, str] | None = None


def rest(path: str, body: bytes, headers: dict[str, str] | None = None) -> Sent:
    return Sent("POST", path, body, JSON if headers is None else headers)


def graphql(text: str, headers: dict[str, str] | None = None) -> Sent:
    """A GraphQL request whose body is ``text`` as written (it may be broken on purpose)."""
    return Sent("POST", "/graphql", text.encode(), JSON if headers is None else headers)


def graphql_raw(body: bytes, headers: dict[str, str] | None = None) -> Sent:
    return Sent("POST", "/graphql", body, JSON if headers is None else headers)


def operation(query: str, variables: str = "{}") -> str:
    """A GraphQL request body with ``variables`` spliced in as raw JSON text."""
    return f'{{"query": {json.dumps(query)}, "variables": {variables}}}'


INVALID_JSON = (400, "invalid_json")
TOO_LARGE = (413, "payload_too_large")
MEDIA_TYPE = (415, "unsupported_media_type")
INVALID = (422, "validation_error")

# name, REST request, GraphQL request, the (status, code) both must answer.
CASES: list[tuple[str, Sent, Sent, tuple[int, str]]] = [
    (
        "NUL in a string",
        rest(CREATE_REST, b'{"name": "a\\u0000b"}'),
        graphql(operation(CREATE_MUTATION, '{"name": "a\\u0000b"}')),
        INVALID_JSON,
    ),
    (
        "lone surrogate",
        rest(CREATE_REST, b'{"name": "\\ud800"}'),
        graphql(operation(CREATE_MUTATION, '{"name": "\\ud800"}')),
        INVALID_JSON,
    ),
    (
        "low surrogate first",
        rest(CREATE_REST, b'{"name": "\\udc00\\ud800"}'),
        graphql(operation(CREATE_MUTATION, '{"name": "\\udc00\\ud800"}')),
        INVALID_JSON,
    ),
    (
        "bytes that are not UTF-8",
        rest(CREATE_REST, b'{"name": "\xff\xfe"}'),
        graphql_raw(operation(CREATE_MUTATION, '{"name": "x"}').encode()[:-1] + b"\xff}"),
        INVALID_JSON,
    ),
    (
        "1 MB string",
        rest(QUEUE_REST, json.dumps({"uri": MEGABYTE}).encode()),
        graphql(operation(QUEUE_MUTATION, json.dumps({"uri": MEGABYTE}))),
        TOO_LARGE,
    ),
    (
        "10,000 levels of arrays",
        rest(QUEUE_REST, b"[" * DEEP + b"]" * DEEP),
        graphql_raw(b"[" * DEEP + b"]" * DEEP),
        INVALID_JSON,
    ),
    (
        "10,000 levels inside a value",
        rest(QUEUE_REST, b'{"uri": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        graphql(operation(QUEUE_MUTATION, '{"uri": ' + "[" * DEEP + "]" * DEEP + "}")),
        INVALID_JSON,
    ),
    (
        "40 levels of objects",
        rest(QUEUE_REST, b'{"uri": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"),
        graphql(operation(QUEUE_MUTATION, '{"uri": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}")),
        INVALID_JSON,
    ),
    (
        "text/plain",
        rest(QUEUE_REST, json.dumps({"uri": TRACK}).encode(), {"content-type": "text/plain"}),
        graphql(
            operation(QUEUE_MUTATION, json.dumps({"uri": TRACK})), {"content-type": "text/plain"}
        ),
        MEDIA_TYPE,
    ),
    (
        "a form",
        rest(
            QUEUE_REST,
            f"uri={TRACK}".encode(),
            {"content-type": "application/x-www-form-urlencoded"},
        ),
        graphql_raw(
            b"query=%7B__typename%7D", {"content-type": "application/x-www-form-urlencoded"}
        ),
        MEDIA_TYPE,
    ),
    (
        "no content type",
        rest(QUEUE_REST, json.dumps({"uri": TRACK}).encode(), {}),
        graphql(operation(QUEUE_MUTATION, json.dumps({"uri": TRACK})), {}),
        MEDIA_TYPE,
    ),
    (
        "a key given twice",
        rest(QUEUE_REST, f'{{"uri": "nope", "uri": "{TRACK}"}}'.encode()),
        graphql(operation(QUEUE_MUTATION, f'{{"uri": "nope", "uri": "{TRACK}"}}')),
        INVALID_JSON,
    ),
    (
        "10**400 in the body",
        rest(
            "/v1/spotify/playback", b'{"action": "volume", "volume_percent": 1' + b"0" * 400 + b"}"
        ),
        graphql(
            operation(
                "mutation($v: Int) { spotifyPlayback(input: {action: VOLUME, volumePercent: $v})"
                " { action } }",
                '{"v": 1' + "0" * 400 + "}",
            )
        ),
        INVALID_JSON,
    ),
    (
        "10**400 written in the query",
        Sent("GET", "/v1/spotify/playlists", params={"limit": "1" + "0" * 400}),
        graphql(operation("{ spotifyPlaylists(limit: 1" + "0" * 400 + ") { id } }")),
        INVALID,
    ),
    (
        "NaN",
        rest("/v1/spotify/playback", b'{"action": "seek", "position_ms": NaN}'),
        graphql(
            operation(
                "mutation($p: Int) { spotifyPlayback(input: {action: SEEK, positionMs: $p})"
                " { action } }",
                '{"p": NaN}',
            )
        ),
        INVALID_JSON,
    ),
    (
        "a negative offset",
        Sent("GET", "/v1/spotify/playlists", params={"offset": "-1"}),
        graphql(operation("{ spotifyPlaylists(offset: -1) { id } }")),
        INVALID,
    ),
    (
        "a negative limit",
        Sent("GET", "/v1/spotify/playlists", params={"limit": "-5"}),
        graphql(operation("{ spotifyPlaylists(limit: -5) { id } }")),
        INVALID,
    ),
    (
        "a NUL in a query parameter or argument",
        Sent("GET", "/v1/spotify/search", params={"query": "a\x00b"}),
        graphql(operation('{ spotifySearch(query: "a\\u0000b") { id } }')),
        INVALID,
    ),
    (
        "a NUL in an events filter",
        Sent("GET", "/v1/spotify/events", params={"actor": "k\x00"}),
        graphql(operation('{ spotifyEvents(actor: "k\\u0000") { nextCursor } }')),
        INVALID,
    ),
    (
        "not an object",
        rest(QUEUE_REST, b'"hello"'),
        graphql_raw(b'"hello"'),
        # REST: the body is not the object the route takes; GraphQL: not a request at all.
        (0, ""),
    ),
]


def answer_of(response: httpx.Response) -> tuple[int, str]:
    """(status, code) as the door says it: the error body, or the first GraphQL error."""
    body = response.json()
    if "error" in body:
        assert set(body) == {"error"}, body
        assert body["error"]["message"]
        return response.status_code, body["error"]["code"]
    assert response.status_code == 200, response.text
    extensions = body["errors"][0]["extensions"]
    assert body.get("data") is None, body
    return extensions["status"], extensions["code"]


async def send(client: httpx.AsyncClient, streamer: Streamer, sent: Sent) -> httpx.Response:
    headers = {**streamer.headers, **(sent.headers or {})}
    return await client.request(
        sent.method, sent.path, content=sent.body, headers=headers, params=sent.params
    )


@pytest.mark.parametrize(
    ("rest_request", "graphql_request", "expected"),
    [pytest.param(r, g, e, id=name) for name, r, g, e in CASES],
)
async def test_both_doors_refuse_hostile_input(
    client: httpx.AsyncClient,
    streamer: Streamer,
    sim: Sim,
    rest_request: Sent,
    graphql_request: Sent,
    expected: tuple[int, str],
) -> None:
    by_rest = answer_of(await send(client, streamer, rest_request))
    by_graphql = answer_of(await send(client, streamer, graphql_request))
    if expected == (0, ""):
        assert by_rest == INVALID
        assert by_graphql == (400, "graphql_invalid")
    else:
        assert (by_rest, by_graphql) == (expected, expected)
    assert upstream_requests(sim) == 0


async def test_a_duplicate_key_is_named(client: httpx.AsyncClient, streamer: Streamer) -> None:
    body = f'{{"uri": "{TRACK}", "uri": "{TRACK}"}}'
    for sent in (rest(QUEUE_REST, body.encode()), graphql(operation(QUEUE_MUTATION, body))):
        response = await send(client, streamer, sent)
        assert "'uri' appears twice" in response.json()["error"]["message"]


async def test_the_same_request_well_formed_is_accepted(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    """The refusals above are about the hostile part: the plain request goes through."""
    sent = rest(QUEUE_REST, json.dumps({"uri": "spotify:track:" + "b" * 22}).encode())
    response = await send(client, streamer, sent)
    assert response.status_code < 500, response.text
    assert response.json().get("error", {}).get("code") != "invalid_json"
    charset = {"content-type": "application/json; charset=utf-8"}
    response = await send(client, streamer, graphql(operation("{ __typename }"), charset))
    assert response.json() == {"data": {"__typename": "Query"}}


# ---- authentication comes before the body --------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        rest(QUEUE_REST, b"{not json"),
        rest(QUEUE_REST, b"[" * DEEP),
        rest(QUEUE_REST, b'{"uri": 5}'),
        rest(QUEUE_REST, b"{}", {"content-type": "text/plain"}),
        graphql_raw(b"{not json"),
        graphql_raw(b"42"),
        graphql_raw(b"{}", {"content-type": "text/plain"}),
    ],
    ids=[
        "rest-broken",
        "rest-deep",
        "rest-invalid",
        "rest-text",
        "gql-broken",
        "gql-42",
        "gql-text",
    ],
)
async def test_a_caller_without_credentials_learns_only_that(
    client: httpx.AsyncClient, sent: Sent
) -> None:
    response = await client.request(sent.method, sent.path, content=sent.body, headers=sent.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


async def test_a_key_without_the_permission_is_refused_before_its_body(
    client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    reader = await make_caller("spotify:read")
    response = await client.post(
        QUEUE_REST, content=b"{not json", headers={**reader.headers, **JSON}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "missing_permission")


# ---- over a real server: a refused or failed request leaves the connection usable ------


def local_port(response: httpx.Response) -> int:
    """The client-side port the response came on (one port: one connection)."""
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


async def test_bad_bodies_and_crashes_keep_the_connection(
    database_url: str,
    bus_url: str | None,
    sim: Sim,
    tmp_path: Path,
    streamer: Streamer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def crash(*args: object) -> None:
        raise RuntimeError("secret-token-in-message")

    monkeypatch.setattr(reads, "state", crash)
    app = create_app(player_settings(database_url, bus_url, sim, tmp_path, poll_in_process=False))
    ports: set[int] = set()
    with serve_in_thread(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await exchange(client, streamer, ports)
    assert len(ports) == 1


async def exchange(client: httpx.AsyncClient, streamer: Streamer, ports: set[int]) -> None:
    """Bad bodies, a crash, then a good request, on one client, noting each local port."""
    headers = {**streamer.headers, **JSON}
    for body in (b"null", b"42", b"true", b'"hello"', b'{"query": "\xff"}'):
        response = await client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] in {"graphql_invalid", "invalid_json"}
        ports.add(local_port(response))
    crashed = await client.get("/v1/spotify/state", headers=streamer.headers)
    assert crashed.status_code == 500
    assert crashed.json() == {
        "error": {"code": "internal_error", "message": "Internal server error."}
    }
    ports.add(local_port(crashed))
    good = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert good.json() == {"data": {"__typename": "Query"}}
    ports.add(local_port(good))


async def test_405_names_every_method_of_the_path(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    for method, path, allowed in (
        ("OPTIONS", QUEUE_REST, "GET, POST"),
        ("PUT", "/v1/spotify/manual-connect", "DELETE, GET, POST"),
        ("GET", "/v1/spotify/playback", "POST"),
    ):  # sorted, as kit.errors.allowed_methods names them
        response = await client.request(method, path, headers=streamer.headers)
        assert response.status_code == 405, (method, path)
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert response.headers["allow"] == allowed, (method, path)


async def test_one_authentication_per_request(
    client: httpx.AsyncClient, streamer: Streamer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authenticated before the body, and that principal is the one the route uses."""
    calls = 0
    original = accounts_service.authenticate

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(accounts_service, "authenticate", counted)
    manual = await client.get("/v1/spotify/manual-connect", headers=streamer.headers)
    assert manual.status_code == 200
    body = json.dumps({"uri": TRACK}).encode()
    await send(client, streamer, rest(QUEUE_REST, body))
    await send(client, streamer, graphql(operation("{ spotifyManualStatus { active } }")))
    assert calls == 3


def test_every_route_authenticates_before_its_body() -> None:
    """Every FastAPI route of the app is a GuardedRoute (a new router cannot forget)."""
    app = create_app()
    plain = [
        str(context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and not isinstance(context.original_route, GuardedRoute)
    ]
    assert plain == []
