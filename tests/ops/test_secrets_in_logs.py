"""A whole run of the demo with JSON logs, then its log searched for every secret it saw.

The demo runs in its own process against its simulator, as a streamer starts it. The
run makes every kind of secret TuneDeck handles pass through it: API keys, an overlay
token, a dashboard session, the Spotify app's client secret, an OAuth code, access and
refresh tokens (refreshed on the way), and secrets put in query strings where they do
not belong. None may appear in the log; the log must show the requests that carried
them (so the search is not vacuous). ``/metrics`` of the same run shows the counters
that run moved.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.ops.test_metrics import Samples, parse, value
from tests.support.demo import DemoProcess, start_demo
from tunedeck.connections import repository as connections
from tunedeck.kit.crypto import load_keyring
from tunedeck.kit.db import Database
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER

SIM = "/spotify-sim"
CONNECTIONS = "/v1/connections/spotify"
LIVENESS = 60.0


class Run:
    """The demo, a client to it, and every secret the run handled."""

    def __init__(self, demo: DemoProcess, data_dir: Path) -> None:
        self.demo = demo
        self.data_dir = data_dir
        self.http = httpx.Client(base_url=demo.origin, timeout=30)
        self.secrets: dict[str, str] = {"admin key": demo.admin_key}
        self.admin = self.bearer(demo.admin_key)

    @staticmethod
    def bearer(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    def keep(self, what: str, secret: str) -> str:
        assert secret, what
        self.secrets[what] = secret
        return secret

    def metrics(self) -> Samples:
        response = self.http.get("/metrics")  # from loopback: no key needed
        assert response.status_code == 200, response.text
        return parse(response.text)

    def eventually(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + LIVENESS
        while not check():
            assert time.monotonic() < deadline, f"{what}: not reached within {LIVENESS} s"
            time.sleep(0.05)

    def stored_tokens(self, account_id: uuid.UUID) -> tuple[str, str]:
        """The Spotify tokens the demo holds now (read from its database, decrypted)."""

        async def read() -> tuple[str, str]:
            keyring = load_keyring(None, self.data_dir)
            db = Database(f"sqlite:///{self.data_dir / 'tunedeck.db'}")
            try:
                async with db.session() as session:
                    stored = await connections.connection(session, keyring, account_id)
            finally:
                await db.dispose()
            assert stored is not None
            assert stored.refresh_token is not None
            return stored.access_token, stored.refresh_token

        return asyncio.run(read())


@pytest.fixture
def run(tmp_path: Path) -> Iterator[tuple[Run, Path]]:
    log_path = tmp_path / "demo.log"
    data_dir = tmp_path / "data"
    with log_path.open("w") as log_file:
        demo = start_demo(data_dir, env={"TUNEDECK_LOG_FORMAT": "json"}, log_file=log_file)
        run = Run(demo, data_dir)
        try:
            yield run, log_path
        finally:
            run.http.close()
            demo.stop()


def connect_spotify(run: Run) -> str:
    """The OAuth flow as a browser runs it; returns the code Spotify's consent gave."""
    started = run.http.get(f"{CONNECTIONS}/authorize", params={"format": "json"}, headers=run.admin)
    assert started.status_code == 200, started.text
    consent = httpx.get(
        httpx.URL(started.json()["authorize_url"]).copy_add_param("login", DEMO_USER)
    )
    assert consent.status_code == 302
    callback = httpx.URL(consent.headers["location"])
    code = callback.params["code"]
    landed = run.http.get(str(callback), headers={"Accept": "application/json"})
    assert landed.status_code == 200, landed.text
    assert landed.json()["connection"]["connected"] is True
    return code


def exercise(run: Run) -> dict[str, Any]:
    """Everything the run does; returns what it observed along the way."""
    http, admin = run.http, run.admin
    account_id = uuid.UUID(http.get("/v1/me", headers=admin).json()["account"]["id"])

    # Credentials of every kind.
    created = http.post(
        "/v1/keys", headers=admin, json={"label": "bot", "permissions": ["spotify:read"]}
    )
    assert created.status_code == 201, created.text
    bot = run.keep("bot key", created.json()["key"])
    player_key = http.post(
        "/v1/keys",
        headers=admin,
        json={"label": "mod", "permissions": ["spotify:read", "spotify:playback"]},
    )
    mod = run.keep("moderator key", player_key.json()["key"])
    overlay = http.post("/v1/overlay-tokens", headers=admin, json={"label": "obs"})
    assert overlay.status_code == 201, overlay.text
    overlay_token = run.keep("overlay token", overlay.json()["token"])
    login = httpx.post(f"{run.demo.origin}/v1/session", json={"key": mod})  # cookies of its own
    assert login.status_code == 200, login.text
    run.keep("session", login.cookies["tunedeck_session"])
    assert httpx.get(f"{run.demo.origin}/v1/me", cookies=login.cookies).status_code == 200

    # The Spotify app's credentials, and connecting Spotify again (a code of our own).
    app = {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": run.keep("client secret", DEMO_CLIENT_SECRET),
    }
    assert http.put(f"{CONNECTIONS}/app", headers=admin, json=app).status_code == 200
    run.keep("oauth code", connect_spotify(run))
    access, refresh = run.stored_tokens(account_id)
    run.keep("access token", access)
    run.keep("refresh token", refresh)

    # Commands, then Spotify expires the token: the next call refreshes it.
    for action in ("pause", "play", "next"):
        done = http.post("/v1/spotify/playback", headers=run.bearer(mod), json={"action": action})
        assert done.status_code == 200, done.text
    expired = http.post(f"{SIM}/_sim/tokens/expire", json={"user": DEMO_USER})
    assert expired.json()["expired"] >= 1
    after = http.post("/v1/spotify/playback", headers=run.bearer(mod), json={"action": "pause"})
    assert after.status_code == 200, after.text
    assert http.get("/v1/spotify/state", headers=run.bearer(bot)).status_code == 200
    refreshed_access, refreshed_refresh = run.stored_tokens(account_id)
    assert refreshed_access != access
    run.keep("refreshed access token", refreshed_access)
    run.keep("refreshed refresh token", refreshed_refresh)

    # Spotify's quota gone: a 429 with a day's Retry-After, passed on to the caller.
    http.patch(f"{SIM}/_sim/config", json={"quota_exceeded": True})
    limited = http.post("/v1/spotify/playback", headers=run.bearer(mod), json={"action": "pause"})
    http.patch(f"{SIM}/_sim/config", json={"quota_exceeded": False})
    assert limited.status_code == 429, limited.text

    # Secrets where they do not belong: in query strings, seen by the access log.
    misplaced = {
        "/v1/me": {"token": bot},
        "/v1/spotify/state": {"access_token": refreshed_access, "key": mod},
        f"{CONNECTIONS}/callback": {"code": "not-a-real-code-7f3a", "state": "s"},
        "/v1/keys": {"api_key": run.demo.admin_key, "refresh_token": refreshed_refresh},
    }
    run.keep("bogus code", "not-a-real-code-7f3a")
    for path, params in misplaced.items():
        assert http.get(path, params=params).status_code in (400, 401, 422)

    # The live feed with the overlay token in its URL, as an overlay that cannot do
    # better connects; the account is then watched and polled.
    ws_url = run.demo.origin.replace("http", "ws", 1) + f"/v1/spotify/live?token={overlay_token}"
    with connect(ws_url, open_timeout=30) as socket:
        hello = json.loads(socket.recv(timeout=30))
        assert hello["type"] == "hello"
        run.eventually(
            lambda: value(run.metrics(), "tunedeck_poll_lateness_seconds_count") not in (None, 0),
            "a poll of the watched account",
        )
        during = run.metrics()
    return {"metrics": during, "refreshed": refreshed_access}


def test_no_secret_reaches_the_log(run: tuple[Run, Path]) -> None:
    demo_run, log_path = run
    observed = exercise(demo_run)
    demo_run.demo.stop()
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]

    # The log is there, JSON, and saw the requests that carried the secrets.
    access = [line for line in lines if line["logger"] == "tunedeck.access"]
    routes = {(line["method"], line["route"]) for line in access}
    for expected in (
        ("POST", "/v1/keys"),
        ("POST", "/v1/overlay-tokens"),
        ("POST", "/v1/session"),
        ("PUT", f"{CONNECTIONS}/app"),
        ("GET", f"{CONNECTIONS}/callback"),
        ("POST", "/v1/spotify/playback"),
        ("GET", "/v1/spotify/state"),
        ("GET", "/v1/me"),
        ("WEBSOCKET", "/v1/spotify/live"),
        ("POST", "/spotify-sim/api/token"),
    ):
        assert expected in routes, expected
    assert all(line.get("request_id") for line in access)
    callbacks = [line for line in access if line["route"] == f"{CONNECTIONS}/callback"]
    assert len(callbacks) >= 3  # the demo's own connect, ours, and the bogus one
    assert all("code=[redacted]" in line["query"] for line in callbacks)
    live = [line for line in access if line["route"] == "/v1/spotify/live"]
    assert live[0]["query"] == "token=[redacted]"
    assert live[0]["principal_kind"] == "overlay"

    # Background events are lines of their own, with their fields.
    refreshes = [line for line in lines if line.get("event") == "token_refresh"]
    assert "refreshed" in [line["outcome"] for line in refreshes]
    assert all(line["account_id"] for line in refreshes)

    # Not one secret, anywhere in the log.
    found = {what: secret for what, secret in demo_run.secrets.items() if secret in text}
    assert found == {}
    assert len(demo_run.secrets) >= 12

    # The same run, counted.
    samples = observed["metrics"]
    assert value(samples, "tunedeck_live_connections", kind="websocket") == 1
    assert (value(samples, "tunedeck_token_refreshes_total", outcome="refreshed") or 0) >= 1
    pause = "PUT /me/player/pause"
    requests = "tunedeck_spotify_requests_total"
    # The expired token: one request refused (401), refreshed, the same one sent again.
    refused = [
        v
        for (name, labels), v in samples.items()
        if name == requests and ("status", "401") in labels
    ]
    assert sum(refused) == 1
    assert value(samples, requests, operation=pause, status="429") == 1
    assert value(samples, requests, operation=pause, status="204") == 2
    retry_after = "tunedeck_spotify_retry_after_seconds_bucket"
    assert value(samples, retry_after, operation=pause, le="3600.0") == 0
    assert value(samples, retry_after, operation=pause, le="86400.0") == 1
    assert value(samples, "tunedeck_poll_leases_held") == 1
    assert value(samples, "tunedeck_poller_watched_accounts") == 1
    assert (
        value(
            samples,
            "tunedeck_http_requests_total",
            route="/v1/spotify/playback",
            method="POST",
            status="429",
        )
        == 1
    )
