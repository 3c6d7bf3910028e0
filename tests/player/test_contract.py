"""What ``/openapi.json`` states is what the server does: the limits it enforces and the
statuses it answers are in the description (Schemathesis checks it at scale in
``test_schemathesis``; these are the cases found that way, one by one)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.player.conftest import Streamer
from tests.player.support import upstream_requests
from tests.support.simulator import Sim
from tunedeck.player import inputs

TRACK = "spotify:track:" + "a" * 22


@pytest.fixture
async def description(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operation(description: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(description["paths"][path][method])


def parameter(op: dict[str, Any], name: str) -> dict[str, Any]:
    """A parameter's schema without its ``null`` alternative."""
    schema = dict(next(p for p in op["parameters"] if p["name"] == name)["schema"])
    branches = schema.pop("anyOf", [])
    return {**schema, **next((b for b in branches if b.get("type") != "null"), {})}


def body_schema(description: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = operation(description, method, path)
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return dict(description["components"]["schemas"][ref.rsplit("/", 1)[1]])


async def test_every_operation_states_the_shared_statuses(description: dict[str, Any]) -> None:
    missing = []
    for path, operations in description["paths"].items():
        for method, op in operations.items():
            wanted = {"503"}
            # Public: the OAuth callback (its state authenticates it), signing in, the
            # chat door (its token is checked inside: every answer is a 200 sentence) and
            # whether setup is still to do (the setup page asks before anyone signs in).
            if path not in (
                "/v1/connections/spotify/callback",
                "/v1/session",
                "/v1/chat/{command}",
                "/v1/setup/status",
            ):
                wanted |= {"401", "403"}
            if "requestBody" in op:
                wanted |= {"400", "413"}
            if path.startswith("/v1/spotify/"):
                wanted.add("429")
                assert "Retry-After" in op["responses"]["429"]["headers"], path
            absent = wanted - set(op["responses"])
            if absent:
                missing.append(f"{method.upper()} {path}: {sorted(absent)}")
    assert missing == []
    assert set(description["components"]["securitySchemes"]) == {"apiKey", "session"}


async def test_the_statuses_of_single_routes_are_stated(description: dict[str, Any]) -> None:
    assert "404" in operation(description, "delete", "/v1/keys/{key_id}")["responses"]
    assert "404" in operation(description, "delete", "/v1/overlay-tokens/{token_id}")["responses"]
    callback = operation(description, "get", "/v1/connections/spotify/callback")
    assert set(callback["responses"]["400"]["content"]) == {"application/json", "text/html"}
    assert "security" not in callback  # the state authenticates it


async def test_the_limits_are_stated(description: dict[str, Any]) -> None:
    playlists = operation(description, "get", "/v1/spotify/playlists")
    assert (parameter(playlists, "limit")["minimum"], parameter(playlists, "limit")["maximum"]) == (
        1,
        50,
    )
    assert parameter(playlists, "offset")["maximum"] == inputs.MAX_PLAYLISTS_OFFSET
    query = parameter(operation(description, "get", "/v1/spotify/search"), "query")
    assert (query["minLength"], query["maxLength"]) == (1, inputs.MAX_QUERY_LENGTH)
    assert not re.search(query["pattern"], "   ")  # blank is no query
    events = operation(description, "get", "/v1/spotify/events")
    types = next(p for p in events["parameters"] if p["name"] == "type")["schema"]["anyOf"][0]
    assert re.fullmatch(types["items"]["pattern"], "spotify:play,spotify:pause")
    assert not re.fullmatch(types["items"]["pattern"], "spotify:dance")
    assert parameter(events, "until")["pattern"]
    return_to = parameter(
        operation(description, "get", "/v1/connections/spotify/authorize"), "return_to"
    )
    assert re.fullmatch(return_to["pattern"], "/dashboard?tab=music")
    assert not re.fullmatch(return_to["pattern"], "//evil.example/")
    transfer = body_schema(description, "post", "/v1/spotify/devices")
    assert not re.fullmatch(transfer["properties"]["device_id"]["pattern"], "")
    playback = body_schema(description, "post", "/v1/spotify/playback")
    shuffle = next(
        rule
        for rule in playback["allOf"]
        if rule.get("if", {}).get("properties", {}).get("action") == {"const": "shuffle"}
    )
    assert shuffle["then"]["required"] == ["state"]


@pytest.mark.parametrize(
    "query",
    [
        {"until": "0.5"},  # a number is not a time (it was read as a Unix timestamp)
        {"since": "1700000000"},
        {"since": "2026-01-01"},  # a date alone is not a time either
    ],
)
async def test_times_are_times(
    client: httpx.AsyncClient, streamer: Streamer, query: dict[str, str]
) -> None:
    response = await client.get("/v1/spotify/events", params=query, headers=streamer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "query",
    [
        # Every time of the stated form is a moment: the first or last one there is,
        # February 30 runs on into March.
        {"until": "0000-01-01T00:00:00"},
        {"since": "9999-12-31T23:00:00-05:00"},
        {"since": "2026-02-30T00:00:00Z"},
    ],
)
async def test_every_time_of_the_stated_form_is_taken(
    client: httpx.AsyncClient, streamer: Streamer, query: dict[str, str]
) -> None:
    response = await client.get("/v1/spotify/events", params=query, headers=streamer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_booleans_are_booleans_and_integers_integers(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    headers = streamer.headers
    for body in (
        {"action": "shuffle", "state": 0},
        {"action": "volume", "volume_percent": True},
        {"action": "volume", "volume_percent": "50"},
        {"action": "volume", "volume_percent": 50.5},
    ):
        refused = await client.post("/v1/spotify/playback", json=body, headers=headers)
        assert refused.status_code == 422, body
    assert upstream_requests(sim) == 0
    # 50.0 is an integer to JSON Schema, so it is one here too.
    taken = await client.post(
        "/v1/spotify/playback", json={"action": "volume", "volume_percent": 50.0}, headers=headers
    )
    assert taken.status_code == 200, taken.text
    assert sim.playback()["volume_percent"] == 50


async def test_an_unknown_track_is_refused_as_a_conflict_not_a_bad_request(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    playlist = (
        await client.post(
            "/v1/spotify/playlists/new", json={"name": "contract"}, headers=streamer.headers
        )
    ).json()
    # Well-formed, but no such track: the request was right, Spotify refused its content.
    response = await client.post(
        f"/v1/spotify/playlists/{playlist['id']}/tracks",
        json={"uris": ["spotify:track:" + "0" * 22]},
        headers=streamer.headers,
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "spotify_refused"


async def test_any_cursor_of_the_stated_form_is_a_position(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    cursor = "1" * 17 + "." + "f" * 32
    response = await client.get(
        "/v1/spotify/events", params={"cursor": cursor}, headers=streamer.headers
    )
    assert response.status_code == 200, response.text


async def test_a_path_written_out_is_its_own_route(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    # /playlists/new is the creation route, not the playlist "new" of the template.
    response = await client.request(
        "OPTIONS", "/v1/spotify/playlists/new", headers=streamer.headers
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_callback_state_that_cannot_be_ours_is_refused_without_a_lookup(
    client: httpx.AsyncClient,
) -> None:
    # NUL would reach PostgreSQL in the lookup, which refuses it (a 500 found by fuzzing).
    for state in ("a\x00b", "x" * 129, "with space"):
        response = await client.get(
            "/v1/connections/spotify/callback",
            params={"state": state},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400, state
        assert response.json()["error"]["code"] == "oauth_callback_invalid"
