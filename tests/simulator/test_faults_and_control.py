"""Knobs (latency, 5xx, rate limits, quota, command status, development mode), the control
API (config, stats, reset), configuration files, and mounting under a prefix."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.support.servers import serve_in_thread
from tests.support.simulator import REDIRECT_URI, Sim, start
from tunedeck.simulator import faults
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.defaults import DEMO_HYPE_PLAYLIST_ID, DEMO_STREAM_PLAYLIST_ID


def test_latency_knob(sim: Sim, demo: httpx.Client) -> None:
    sim.knobs(latency_ms=150)
    started = time.perf_counter()
    assert demo.get("/me").status_code == 200
    # A lower bound only: the simulator's sleep never ends early, however loaded the machine.
    assert time.perf_counter() - started >= 0.15
    assert sim.knobs(latency_ms=0)["latency_ms"] == 0
    assert demo.get("/me").status_code == 200


def test_concurrent_requests_are_counted_in_flight(sim: Sim) -> None:
    token = sim.mint()["access_token"]
    sim.knobs(hold_until_concurrent=3)

    def get_me() -> int:
        with sim.api_with(token) as api:
            return api.get("/me").status_code

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(lambda _: get_me(), range(3)))
    assert statuses == [200, 200, 200]
    stats = sim.stats()
    assert stats["max_in_flight"] == 3
    assert stats["in_flight"] == 0
    assert stats["requests"]["GET /v1/me"] == 3


def test_requests_one_after_the_other_never_meet(
    sim: Sim, demo: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faults, "HOLD_TIMEOUT_SECONDS", 0.05)
    sim.knobs(hold_until_concurrent=2)
    assert demo.get("/me").status_code == 200  # held until the timeout, then answered
    assert demo.get("/me/player").status_code == 200
    stats = sim.stats()
    assert stats["max_in_flight"] == 1
    assert stats["total"] == 2


def test_error_rate_knob(sim: Sim, demo: httpx.Client) -> None:
    sim.knobs(error_rate=1.0)
    statuses = Counter(demo.get("/me/player").status_code for _ in range(30))
    assert set(statuses) <= {500, 502, 503}
    assert len(statuses) >= 2
    body = demo.get("/me").json()
    assert body["error"]["status"] in (500, 502, 503)
    sim.knobs(error_rate=0.5)
    statuses = Counter(demo.get("/me").status_code for _ in range(60))
    assert 10 <= statuses[200] <= 50


def test_rate_limit_with_retry_after_over_a_rolling_window(sim: Sim, demo: httpx.Client) -> None:
    sim.knobs(rate_limit_per_30s=3, rate_limit_retry_after=7)
    assert [demo.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    limited = demo.get("/me/player")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    sim.advance(31)
    assert demo.get("/me").status_code == 200


def test_rate_limit_is_per_client(sim: Sim) -> None:
    sim.state.apps["other-app"] = sim.state.apps["tunedeck-demo"].model_copy(
        update={"client_id": "other-app"}
    )
    sim.knobs(rate_limit_per_30s=1)
    first = sim.api("demo")
    second = sim.api("demo", client_id="other-app")
    assert first.get("/me").status_code == 200
    assert first.get("/me").status_code == 429
    assert second.get("/me").status_code == 200


def test_quota_exceeded_variant(sim: Sim, demo: httpx.Client) -> None:
    sim.knobs(quota_exceeded=True)
    response = demo.get("/me/player")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 3600
    assert response.json()["error"]["reason"] == "QUOTA_EXCEEDED"


@pytest.mark.parametrize(("status", "text"), [(204, ""), (202, ""), (200, "Command sent")])
def test_command_status_knob(sim: Sim, demo: httpx.Client, status: int, text: str) -> None:
    sim.knobs(command_status=status)
    response = demo.put("/me/player/pause")
    assert response.status_code == status
    assert response.text == text
    assert sim.playback()["is_playing"] is False
    # Reads are unaffected.
    assert demo.get("/me/player").status_code == 200


def test_development_mode(sim: Sim, demo: httpx.Client) -> None:
    sim.knobs(development_mode=True)
    assert demo.get(f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/tracks").status_code == 403
    uri = sim.state.catalog.tracks[0].uri
    tracks_add = demo.post(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/tracks", json={"uris": [uri]})
    assert tracks_add.status_code == 403
    assert demo.get(f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/items").status_code == 200
    assert (
        demo.post(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items", json={"uris": [uri]}).status_code
        == 201
    )
    big = demo.get("/search", params={"q": "the", "type": "track", "limit": 20})
    assert big.status_code == 400
    assert big.json() == {"error": {"status": 400, "message": "Invalid limit"}}
    assert demo.get("/search", params={"q": "the", "type": "track", "limit": 10}).status_code == 200


def test_config_get_patch_and_validation(sim: Sim) -> None:
    config = sim.http.get("/_sim/config").json()
    assert config["command_status"] == 204
    assert {u["id"] for u in config["users"]} >= {"demo", "free"}
    assert sim.knobs(latency_ms=5, error_rate=0.25)["error_rate"] == 0.25
    assert sim.http.patch("/_sim/config", json={"error_rate": 2}).status_code == 400
    assert sim.http.patch("/_sim/config", json={"command_status": 201}).status_code == 400
    assert sim.http.patch("/_sim/config", json={"seed": 3}).status_code == 400
    assert sim.http.post("/_sim/clock/advance", json={"seconds": -1}).status_code == 400
    sim.reset()
    assert sim.http.get("/_sim/config").json()["error_rate"] == 0


def test_stats_count_route_templates(sim: Sim, demo: httpx.Client) -> None:
    sim.http.post("/_sim/stats/reset")
    demo.get("/me/player")
    demo.get("/me/player")
    demo.get(f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/items")
    sim.token_basic(grant_type="authorization_code", code=sim.code(), redirect_uri=REDIRECT_URI)
    stats = sim.stats()
    assert stats["requests"]["GET /v1/me/player"] == 2
    assert stats["requests"]["GET /v1/playlists/{playlist_id}/items"] == 1
    assert stats["requests"]["POST /api/token"] == 1
    assert stats["token_requests"] == {"authorization_code": 1, "refresh_token": 0}
    assert stats["total"] == 5


def test_reset_restores_playback_playlists_and_tokens(sim: Sim, demo: httpx.Client) -> None:
    demo.put("/me/player/pause")
    demo.post("/me/playlists", json={"name": "temp"})
    sim.reset()
    assert sim.playback()["is_playing"] is True
    assert "temp" not in [p["name"] for p in sim.playlists()]
    assert demo.get("/me").status_code == 401


def test_unknown_paths_and_bad_control_input(sim: Sim, demo: httpx.Client) -> None:
    missing = demo.get("/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == 404
    assert sim.http.get("/_sim/users/nobody/playback").status_code == 404
    assert sim.http.post("/_sim/tokens", json={"user": "nobody"}).status_code == 404
    json_type = {"Content-Type": "application/json"}
    assert sim.http.post("/_sim/tokens", content=b"{", headers=json_type).status_code == 400
    assert sim.http.post("/_sim/tokens/expire", json={}).status_code == 400


@pytest.fixture(scope="module")
def mounted() -> Iterator[tuple[str, Starlette]]:
    outer = Starlette(routes=[Mount("/spotify", app=create_simulator_app())])
    with serve_in_thread(outer) as base:
        yield base, outer


def test_mounted_under_a_prefix_generates_prefixed_urls(mounted: tuple[str, Starlette]) -> None:
    base, _ = mounted
    root = f"{base}/spotify"
    with httpx.Client(base_url=root) as http:
        token = http.post("/_sim/tokens", json={"user": "demo"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        playback = http.get("/v1/me/player", headers=auth).json()
        assert playback["item"]["href"].startswith(f"{root}/v1/tracks/")
        art = playback["item"]["album"]["images"][0]["url"]
        assert art.startswith(f"{root}/images/")
        assert http.get(art.removeprefix(root)).status_code == 200
        playlists = http.get("/v1/me/playlists", headers=auth).json()
        assert playlists["href"].startswith(f"{root}/v1/me/playlists")
        assert playlists["items"][0]["items"]["href"].startswith(f"{root}/v1/playlists/")
        authorize = http.get(
            "/authorize",
            params={
                "client_id": "tunedeck-demo",
                "response_type": "code",
                "redirect_uri": REDIRECT_URI,
            },
        )
        assert authorize.status_code == 302
        assert authorize.headers["location"].startswith(REDIRECT_URI)


def test_config_file_adds_apps_and_users(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text(
        json.dumps(
            {
                "seed": 99,
                "catalog_size": 200,
                "command_status": 202,
                "apps": [{"client_id": "bot", "client_secret": "s3cret"}],
                "users": [
                    {
                        "id": "streamer2",
                        "display_name": "Second",
                        "devices": [{"name": "Deck", "type": "Computer"}],
                        "playlists": [{"name": "Mine", "track_count": 4}],
                        "playback": {"is_playing": True},
                    }
                ],
            }
        )
    )
    config = SimulatorConfig.from_file(path)
    assert [app.client_id for app in config.apps] == ["tunedeck-demo", "bot"]
    assert {user.id for user in config.users} >= {"demo", "free", "streamer2"}
    for sim in start(config):
        assert len(sim.state.catalog.tracks) == 200
        with sim.api("streamer2", client_id="bot") as client:
            playback = client.get("/me/player").json()
            assert playback["is_playing"] is True
            assert playback["device"]["name"] == "Deck"
            assert client.get("/me/playlists").json()["items"][0]["items"]["total"] == 4
            assert client.put("/me/player/pause").status_code == 202


def test_config_file_rejects_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"latency": 5}))
    with pytest.raises(ValueError, match="latency"):
        SimulatorConfig.from_file(path)
