"""No page of another site drives the simulator (the demo serves it on TuneDeck's own
origin): bodies are JSON (form-encoded for the token endpoint, as Spotify's), the
control API refuses changes sent by another site's page, and tokens are minted for
callers on this machine only."""

from __future__ import annotations

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

# What a page of another site can send without the browser asking first (no preflight).
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
EVIL = "https://evil.example"


@pytest.mark.parametrize("media_type", SIMPLE_TYPES)
def test_the_web_api_takes_json_bodies_only(sim: Sim, demo: httpx.Client, media_type: str) -> None:
    before = sim.playback()
    answer = demo.put(
        "/me/player/play",
        content=b'{"context_uri": "spotify:playlist:qGseNKNt7Sfdibxkb7jXjG"}',
        headers={"Content-Type": media_type},
    )
    assert answer.status_code == 415
    assert answer.json()["error"]["status"] == 415
    assert "application/json" in answer.json()["error"]["message"]
    assert sim.playback()["context_uri"] == before["context_uri"]
    created = demo.post(
        "/me/playlists", content=b'{"name": "x"}', headers={"Content-Type": media_type}
    )
    assert created.status_code == 415


def test_json_bodies_and_bodiless_commands_still_work(sim: Sim, demo: httpx.Client) -> None:
    playlist = "spotify:playlist:qGseNKNt7Sfdibxkb7jXjG"
    answer = demo.put(
        "/me/player/play",
        content=f'{{"context_uri": "{playlist}"}}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 204, answer.text
    assert sim.playback()["context_uri"] == playlist
    assert demo.post("/me/player/next").status_code == 204  # no body, no type
    assert demo.put("/me/player/pause", headers={"Content-Type": "text/plain"}).status_code == 204


@pytest.mark.parametrize("media_type", SIMPLE_TYPES)
def test_the_control_api_takes_json_bodies_only(sim: Sim, media_type: str) -> None:
    before = sim.playback()
    body = b'{"action": "next"}'
    answer = sim.http.post(
        "/_sim/users/demo/app-actions", content=body, headers={"Content-Type": media_type}
    )
    assert answer.status_code == 415
    assert sim.playback()["track_uri"] == before["track_uri"]
    knobs = sim.http.patch(
        "/_sim/config", content=b'{"error_rate": 1}', headers={"Content-Type": media_type}
    )
    assert knobs.status_code == 415
    assert sim.knobs()["error_rate"] == 0


def test_the_token_endpoint_takes_form_bodies_only(sim: Sim) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "nope"}
    auth = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    as_json = sim.http.post("/api/token", json=form, auth=auth)
    assert as_json.status_code == 415
    assert as_json.json()["error"] == "invalid_request"
    as_text = sim.http.post(
        "/api/token",
        content=b"grant_type=refresh_token&refresh_token=nope",
        headers={"Content-Type": "text/plain"},
        auth=auth,
    )
    assert as_text.status_code == 415
    as_form = sim.http.post("/api/token", data=form, auth=auth)
    assert (as_form.status_code, as_form.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "page",
    [{"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_another_sites_page_changes_nothing(sim: Sim, page: dict[str, str]) -> None:
    """A page elsewhere can POST with no body and no header of its own (``fetch`` in
    no-cors mode): its browser still names it in ``Origin``."""
    sim.advance(30)
    before = sim.playback()
    for method, path in (
        ("POST", "/_sim/reset"),
        ("POST", "/_sim/users/demo/ad"),
        ("POST", "/_sim/stats/reset"),
        ("POST", "/_sim/tokens"),
        ("POST", "/_sim/users/demo/app-actions"),
    ):
        answer = sim.http.request(method, path, headers=page)
        assert answer.status_code == 403, (path, answer.text)
        assert "other sites" in answer.json()["error"]["message"]
    after = sim.playback()
    assert after["ad"] is None
    assert after["track_uri"] == before["track_uri"]
    assert after["progress_ms"] >= before["progress_ms"]  # not reset to the start state
    assert sim.state.tokens.access == {}
    # Reading stays open, and the simulator's own origin may change things.
    assert sim.http.get("/_sim/users/demo/playback", headers={"Origin": EVIL}).status_code == 200
    assert sim.http.post("/_sim/reset", headers={"Origin": sim.base}).status_code == 200


async def test_tokens_are_minted_for_callers_on_this_machine_only(sim: Sim) -> None:
    assert sim.http.post("/_sim/tokens", json={"user": "demo"}).status_code == 200
    proxied = sim.http.post(
        "/_sim/tokens", json={"user": "demo"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert proxied.status_code == 403
    assert "this machine" in proxied.json()["error"]["message"]
    app = create_simulator_app()
    for client, status in ((("203.0.113.7", 40000), 403), (("::1", 40000), 200)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            answer = await http.post("/_sim/tokens", json={"user": "demo"})
        assert answer.status_code == status, (client, answer.text)
    assert len(app.state.simulator.tokens.access) == 1
