"""Bad input is refused before Spotify is asked: 422 (``validation_error``) through both
doors, naming the field as that door's caller wrote it, with zero requests reaching the
simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from tests.player.conftest import Streamer
from tests.player.doors import GraphQLDoor, doors, field_as_named_by
from tests.player.support import upstream_requests
from tests.support.simulator import Sim
from tunedeck.player import inputs


@pytest.fixture
async def client(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The app without rate limits: this module sends one key's calls in a flood on
    purpose (the limits themselves are tested in test_limits.py)."""
    async with make_app(rate_limits=False) as client:
        yield client


TRACK = "spotify:track:" + "a" * 22
PLAYLIST = "0123456789abcdefABCDEF"

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("playback", {"action": "volume", "volume_percent": 101}, "volume_percent"),
    ("playback", {"action": "volume", "volume_percent": -1}, "volume_percent"),
    ("playback", {"action": "volume"}, "volume_percent"),
    ("playback", {"action": "seek", "position_ms": -5}, "position_ms"),
    ("playback", {"action": "seek", "position_ms": 90_000_000}, "position_ms"),
    ("playback", {"action": "seek"}, "position_ms"),
    ("playback", {"action": "repeat", "mode": "sometimes"}, "mode"),
    ("playback", {"action": "repeat"}, "mode"),
    ("playback", {"action": "shuffle"}, "state"),
    ("playback", {"action": "play", "uri": "spotify:album:" + "a" * 22}, "uri"),
    ("playback", {"action": "play", "uri": "spotify:track:short"}, "uri"),
    ("playback", {"action": "play", "uri": "https://open.spotify.com/track/x"}, "uri"),
    ("playback", {"action": "play", "context_uri": "spotify:track:" + "a" * 22}, "context_uri"),
    ("playback", {"action": "play", "context_uri": "spotify:user:me"}, "context_uri"),
    ("playback", {"action": "skip_to"}, "uri"),
    ("playback", {"action": "skip_to", "uri": "spotify:episode:" + "a" * 22}, "uri"),
    ("playback", {"action": "pause", "device_id": "has space"}, "device_id"),
    ("playback", {"action": "next", "device_id": ""}, "device_id"),
    ("queue_add", {"uri": "spotify:playlist:" + PLAYLIST}, "uri"),
    ("queue_add", {"uri": ""}, "uri"),
    ("transfer", {"device_id": ""}, "device_id"),
    ("transfer", {"device_id": "x" * 200}, "device_id"),
    ("search", {"query": ""}, "query"),
    ("search", {"query": "   "}, "query"),
    ("search", {"query": "x" * 300}, "query"),
    ("search", {"query": "a", "limit": 0}, "limit"),
    ("search", {"query": "a", "limit": 51}, "limit"),
    ("play_playlist", {"uri": "spotify:album:" + "a" * 22}, "uri"),
    ("play_playlist", {"uri": "spotify:playlist:bad-id"}, "uri"),
    ("play_playlist", {"uri": f"spotify:playlist:{PLAYLIST}", "track_count": -1}, "track_count"),
    (
        "play_playlist",
        {"uri": f"spotify:playlist:{PLAYLIST}", "cover_url": "javascript:alert(1)"},
        "cover_url",
    ),
    ("create_playlist", {"name": ""}, "name"),
    ("create_playlist", {"name": "   "}, "name"),
    ("create_playlist", {"name": "x" * 101}, "name"),
    ("rename_playlist", {"playlist_id": PLAYLIST, "name": ""}, "name"),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": []}, "uris"),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": [TRACK, "nope"]}, "uris[1]"),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": [TRACK] * 101}, "uris"),
    ("remove_track", {"playlist_id": PLAYLIST, "uri": "spotify:album:" + "a" * 22}, "uri"),
    ("playlist_tracks", {"playlist_id": PLAYLIST, "limit": 0}, "limit"),
    ("playlist_tracks", {"playlist_id": PLAYLIST, "offset": -1}, "offset"),
]

# A playlist id that cannot be one is invalid input, in a REST path as in a GraphQL argument.
BAD_IDS: list[tuple[str, dict[str, Any]]] = [
    ("rename_playlist", {"playlist_id": "not-an-id!", "name": "ok"}),
    ("delete_playlist", {"playlist_id": "not-an-id!"}),
    ("add_tracks", {"playlist_id": "not-an-id!", "uris": [TRACK]}),
    ("remove_track", {"playlist_id": "not-an-id!", "uri": TRACK}),
    ("playlist_tracks", {"playlist_id": "not-an-id!"}),
]


async def test_bad_input_never_reaches_spotify(
    door_name: str, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    door = doors(client, streamer.headers)[door_name]
    failures = []
    for op, args, field in BAD:
        answer = await door.call(op, **args)
        got = (answer.status, answer.code, answer.fields)
        named = field_as_named_by(door_name, op, field)
        if got != (422, "validation_error", [named]) or not answer.message.startswith(named):
            failures.append(f"{op} {args}: {got} {answer.message!r}")
    for op, args in BAD_IDS:
        answer = await door.call(op, **args)
        named = field_as_named_by(door_name, op, "playlist_id")
        if (answer.status, answer.code, answer.fields) != (422, "validation_error", [named]):
            failures.append(f"{op} {args}: {(answer.status, answer.code, answer.fields)}")
    assert failures == []
    assert upstream_requests(sim) == 0
    events = await client.get("/v1/spotify/events", headers=streamer.headers)
    assert events.json()["items"] == []


async def test_rest_shapes_are_checked_before_the_service(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    cases = [
        ("POST", "/playback", {"action": "dance"}),
        ("POST", "/playback", {"action": "volume", "volume_percent": "loud"}),
        ("POST", "/queue", {}),
        ("POST", "/devices", {"device_id": 5}),
        ("GET", "/search?limit=5", None),
        ("GET", "/search?query=a&limit=many", None),
    ]
    for method, path, body in cases:
        response = await client.request(
            method, "/v1/spotify" + path, json=body, headers=streamer.headers
        )
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    assert upstream_requests(sim) == 0


async def test_graphql_type_errors_are_invalid_input_as_over_rest(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    graphql = GraphQLDoor(client, streamer.headers)
    refused = [
        "mutation { spotifyPlayback(input: {action: DANCE}) { action } }",
        '{ spotifySearch(query: "a", limit: "many") { uri } }',
        "{ spotifySearch(query: 5) { uri } }",
    ]
    for query in refused:
        body = await graphql.execute(query)
        assert body["data"] is None, query
        assert body["errors"][0]["extensions"]["code"] == "validation_error", (query, body)
    variables = await graphql.execute(
        'query Q($limit: Int!) { spotifySearch(query: "a", limit: $limit) { uri } }',
        {"limit": "many"},
    )
    assert variables["errors"][0]["extensions"]["code"] == "validation_error"
    unknown = await graphql.execute('{ spotifySearch(query: "a", colour: 1) { uri } }')
    assert unknown["errors"][0]["extensions"]["code"] == "graphql_invalid"
    assert upstream_requests(sim) == 0


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQC", True),
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQ", False),
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQC ", False),
        ("spotify:track:4uLU6hMCjMI75M1A2tKU_C", False),
        ("spotify:episode:4uLU6hMCjMI75M1A2tKUQC", False),
    ],
)
def test_track_uri_rule(value: str, valid: bool) -> None:
    rule = TypeAdapter(inputs.TrackUri)
    if valid:
        assert rule.validate_python(value) == value
    else:
        with pytest.raises(ValidationError):
            rule.validate_python(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("spotify:album:4aawyAB9vmqN3uQ7FjRGTy", True),
        ("spotify:artist:0TnOYISbd1XYRBk9myaseg", True),
        ("spotify:show:5CfCWKI5pZ28U0uOzXkDHe", True),
        ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", True),
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQC", False),
        ("spotify:album:short", False),
        ("spotify:playlist:", False),
    ],
)
def test_context_uri_rule(value: str, valid: bool) -> None:
    rule = TypeAdapter(inputs.ContextUri)
    if valid:
        assert rule.validate_python(value) == value
    else:
        with pytest.raises(ValidationError):
            rule.validate_python(value)
