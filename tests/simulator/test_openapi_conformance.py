"""Every JSON response these tests receive is validated against spotify-openapi.yml.

The description ships with the simulator (``src/tunedeck/simulator/spotify-openapi.yml``):
the OpenAPI 3.0.3 description of the Spotify Web API, v2026.5.31, from the MIT-licensed
sonallux/spotify-web-api project (file fixed-spotify-open-api.yml; licence in
``spotify-openapi.LICENSE`` beside it). It is stricter than Spotify, so it is relaxed
here: a playback's ``context``, ``item`` and ``progress_ms``, a playlist's ``public`` (and
the queue's ``currently_playing``), all documented as "can be null", accept null, and
``discriminator`` mappings are dropped. Local files (a track with null ids and links) are
outside the description: test_ads_and_special_items.py checks their shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.support.simulator import Sim
from tunedeck.simulator.defaults import (
    CURATOR_TOP_PLAYLIST_ID,
    DEMO_HYPE_PLAYLIST_ID,
    DEMO_PHONE_ID,
    DEMO_STREAM_PLAYLIST_ID,
)

SPEC = resources.files("tunedeck.simulator") / "spotify-openapi.yml"
#: Error statuses a path may not list: they take the spec's shared error responses.
GENERIC_ERRORS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
}
#: (schema, property) pairs whose value may be null although the description omits it.
NULLABLE = (
    ("CurrentlyPlayingContextObject", "context"),
    ("CurrentlyPlayingContextObject", "item"),
    ("CurrentlyPlayingContextObject", "progress_ms"),
    ("CurrentlyPlayingObject", "context"),
    ("CurrentlyPlayingObject", "item"),
    ("CurrentlyPlayingObject", "progress_ms"),
    ("PlaylistObject", "public"),
    ("SimplifiedPlaylistObject", "public"),
    ("QueueObject", "currently_playing"),
)


def _strip_discriminators(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("discriminator", None)
        for value in node.values():
            _strip_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _strip_discriminators(value)


@cache
def load_spec() -> dict[str, Any]:
    """The OpenAPI description, relaxed; fails the test clearly when the file is missing."""
    if not SPEC.is_file():
        pytest.fail(f"spotify-openapi.yml is missing from the package: {SPEC}")
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    _strip_discriminators(spec)
    schemas = spec["components"]["schemas"]
    for schema_name, prop in NULLABLE:
        properties = schemas[schema_name]["properties"]
        properties[prop] = {"oneOf": [properties[prop], {"enum": [None]}]}
    return spec


@cache
def path_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Path templates of the description as regexes; literal paths win over templated."""
    templates = sorted(load_spec()["paths"], key=lambda t: (t.count("{"), -len(t)))
    return [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in templates]


def template_of(path: str) -> str:
    for pattern, template in path_patterns():
        if pattern.match(path):
            return template
    raise AssertionError(f"{path} is not a path of the Spotify Web API description")


def response_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema the description gives this answer; None when it has no body."""
    spec = load_spec()
    responses = spec["paths"][template][method.lower()]["responses"]
    entry = responses.get(str(status))
    if entry is None:
        generic = GENERIC_ERRORS.get(status, "Unauthorized" if status >= 500 else None)
        if generic is None:
            raise AssertionError(f"{method} {template} may not answer {status}")
        entry = {"$ref": f"#/components/responses/{generic}"}
    if "$ref" in entry:
        entry = spec["components"]["responses"][entry["$ref"].rsplit("/", 1)[1]]
    content = entry.get("content", {}).get("application/json")
    return None if content is None else dict(content["schema"])


def schema_errors(instance: Any, schema: dict[str, Any]) -> str | None:
    """The most relevant validation error, or None when ``instance`` conforms."""
    root = {"components": load_spec()["components"], **schema}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    return f"{error.message[:300]} at {'/'.join(map(str, error.absolute_path))}"


class Conformance:
    """An httpx response hook that validates each Web API answer and records what it saw."""

    def __init__(self, api_base: str) -> None:
        self.api_base = httpx.URL(api_base).path.rstrip("/")
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        template = template_of(request.url.path.removeprefix(self.api_base))
        status = response.status_code
        schema = response_schema(template, request.method, status)
        where = f"{request.method} {template} -> {status}"
        if schema is None:
            if status == 200 and response.headers.get("content-type", "").startswith("text/"):
                pass  # Spotify answers some commands 200 with a text body.
            else:
                assert not response.content, f"{where}: expected no body, got {response.text[:200]}"
        else:
            problem = schema_errors(response.json(), schema)
            assert problem is None, f"{where}: {problem}"
        self.seen.add((request.method, template, status))


@pytest.fixture
def checked(sim: Sim) -> Iterator[tuple[httpx.Client, Conformance]]:
    """A demo-user Web API client whose every response is validated."""
    hook = Conformance(f"{sim.base}/v1")
    token = sim.mint("demo")["access_token"]
    with httpx.Client(
        base_url=f"{sim.base}/v1",
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"response": [hook]},
    ) as client:
        yield client, hook


def test_the_relaxed_description_still_rejects_wrong_shapes() -> None:
    schema = response_schema("/me/player", "GET", 200)
    assert schema is not None
    good = {"is_playing": True, "item": None, "context": None, "progress_ms": 1}
    assert schema_errors(good, schema) is None
    assert schema_errors({**good, "is_playing": "yes"}, schema) is not None
    bad_track = {"type": "track", "duration_ms": "long", "album": {}}
    assert schema_errors({**good, "item": bad_track}, schema) is not None
    error_schema = response_schema("/me/player/play", "PUT", 404)
    assert error_schema is not None
    assert schema_errors({"error": {"status": 404}}, error_schema) is not None


def test_reads_conform(sim: Sim, checked: tuple[httpx.Client, Conformance]) -> None:
    client, hook = checked
    track_id = sim.state.catalog.tracks[0].id
    locked = next(v.track for v in sim.state.catalog.versions if v.kind == "region_locked")
    for path in (
        "/me",
        "/me/player",
        "/me/player/currently-playing",
        "/me/player/queue",
        "/me/player/devices",
        "/me/playlists",
        f"/playlists/{DEMO_STREAM_PLAYLIST_ID}",
        f"/playlists/{CURATOR_TOP_PLAYLIST_ID}",
        f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/items",
        f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/tracks",
        "/search?q=the&type=track&limit=10",
        "/search?q=neon&type=track,album,artist,playlist&limit=3",
        f"/tracks/{track_id}",
        f"/tracks?ids={track_id}",
        f"/tracks/{locked.id}?market=from_token",
        f"/tracks?ids={track_id},{locked.id}&market=US",
        f"/search?q={locked.name}&type=track&market=from_token",
    ):
        assert client.get(path).status_code == 200, path
    assert ("GET", "/playlists/{playlist_id}/items", 200) in hook.seen


def test_nullable_playback_fields_conform(
    sim: Sim, checked: tuple[httpx.Client, Conformance]
) -> None:
    client, _ = checked
    client.put("/me/player/play", json={"uris": [sim.state.catalog.tracks[1].uri]})
    assert client.get("/me/player").json()["context"] is None
    assert client.get("/me/player/currently-playing").json()["context"] is None
    sim.app_action(action="disconnect")
    assert client.get("/me/player").status_code == 204
    assert client.get("/me/player/queue").json()["currently_playing"] is None


def test_writes_conform(sim: Sim, checked: tuple[httpx.Client, Conformance]) -> None:
    client, hook = checked
    uris = [track.uri for track in sim.state.catalog.tracks[:3]]
    created = client.post("/me/playlists", json={"name": "Checked", "public": False})
    assert created.status_code == 201
    playlist_id = created.json()["id"]
    assert client.post(f"/playlists/{playlist_id}/items", json={"uris": uris}).status_code == 201
    assert client.post(f"/playlists/{playlist_id}/tracks", json={"uris": uris}).status_code == 201
    removal = client.request(
        "DELETE", f"/playlists/{playlist_id}/items", json={"items": [{"uri": uris[0]}]}
    )
    assert removal.status_code == 200
    assert client.put(f"/playlists/{playlist_id}/items", json={"uris": uris}).status_code == 200
    assert client.put(f"/playlists/{playlist_id}", json={"name": "Renamed"}).status_code == 200
    assert client.delete(f"/playlists/{CURATOR_TOP_PLAYLIST_ID}/followers").status_code == 200
    library = client.delete("/me/library", params={"uris": f"spotify:playlist:{playlist_id}"})
    assert library.status_code == 200
    commands: list[tuple[str, str, dict[str, str | int]]] = [
        ("PUT", "/me/player/pause", {}),
        ("PUT", "/me/player/play", {}),
        ("POST", "/me/player/next", {}),
        ("POST", "/me/player/previous", {}),
        ("PUT", "/me/player/seek", {"position_ms": 1000}),
        ("PUT", "/me/player/volume", {"volume_percent": 40}),
        ("PUT", "/me/player/shuffle", {"state": "true"}),
        ("PUT", "/me/player/repeat", {"state": "context"}),
        ("POST", "/me/player/queue", {"uri": uris[2]}),
    ]
    for method, path, params in commands:
        assert client.request(method, path, params=params).status_code == 204, path
    transfer = client.put("/me/player", json={"device_ids": [DEMO_PHONE_ID]})
    assert transfer.status_code == 204
    assert ("POST", "/playlists/{playlist_id}/items", 201) in hook.seen
    assert ("DELETE", "/playlists/{playlist_id}/items", 200) in hook.seen


def test_error_bodies_conform(sim: Sim, checked: tuple[httpx.Client, Conformance]) -> None:
    client, hook = checked
    assert client.put("/me/player/volume", params={"volume_percent": 500}).status_code == 400
    assert client.get("/playlists/0000000000000000000000").status_code == 404
    followed = client.post(
        f"/playlists/{CURATOR_TOP_PLAYLIST_ID}/items",
        json={"uris": [sim.state.catalog.tracks[0].uri]},
    )
    assert followed.status_code == 403
    sim.app_action(action="disconnect")
    assert client.post("/me/player/next").status_code == 404
    sim.knobs(rate_limit_per_30s=1)
    client.get("/me")
    assert client.get("/me").status_code == 429
    sim.knobs(rate_limit_per_30s=None, error_rate=1.0)
    assert client.get("/me").status_code >= 500
    sim.knobs(error_rate=0)
    sim.http.post("/_sim/tokens/expire", json={"user": "demo"})
    assert client.get("/me/player").status_code == 401
    with sim.api("free") as free:
        free_hook = Conformance(f"{sim.base}/v1")
        free.event_hooks["response"] = [free_hook]
        assert free.put("/me/player/pause").status_code == 403
    statuses = {status for _, _, status in hook.seen}
    assert statuses >= {400, 401, 403, 404, 429}
    assert ("PUT", "/me/player/pause", 403) in free_hook.seen


def test_development_mode_answers_conform(
    sim: Sim, checked: tuple[httpx.Client, Conformance]
) -> None:
    client, _ = checked
    sim.knobs(development_mode=True)
    assert client.get("/search", params={"q": "a", "type": "track", "limit": 50}).status_code == 400
    assert client.get(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/tracks").status_code == 403
    assert client.get(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items").status_code == 200


def test_show_episode_and_ad_answers_conform(
    sim: Sim, checked: tuple[httpx.Client, Conformance]
) -> None:
    client, hook = checked
    show = sim.shows()[0]
    episode_id = show["episodes"][0]["id"]
    episodes = {"additional_types": "track,episode"}
    for path in (
        f"/shows/{show['id']}",
        f"/shows/{show['id']}/episodes?limit=2&offset=1",
        f"/shows?ids={show['id']}",
        f"/episodes/{episode_id}",
        f"/episodes?ids={episode_id}",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/episodes/{'0' * 22}").status_code == 404
    played = client.put(
        "/me/player/play",
        json={"context_uri": show["uri"], "offset": {"uri": show["episodes"][1]["uri"]}},
    )
    assert played.status_code == 204
    assert client.post("/me/player/queue", params={"uri": show["episodes"][3]["uri"]}).is_success
    for path in ("/me/player", "/me/player/currently-playing"):
        assert client.get(path, params=episodes).json()["item"]["type"] == "episode"
        assert client.get(path).json()["item"] is None
    assert client.get("/me/player/queue").json()["queue"][0]["type"] == "episode"
    sim.start_ad(10)
    for path in ("/me/player", "/me/player/currently-playing"):
        assert client.get(path, params=episodes).json()["currently_playing_type"] == "ad"
    assert client.get("/me/player/queue").json()["currently_playing"] is None
    assert client.post("/me/player/next").status_code == 403
    sim.end_ad()
    sim.private_session()
    assert client.get("/me/player", params=episodes).json()["item"] is None
    assert ("GET", "/shows/{id}/episodes", 200) in hook.seen
    assert ("GET", "/episodes/{id}", 200) in hook.seen
