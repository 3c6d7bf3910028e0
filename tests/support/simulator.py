"""The Spotify simulator served over loopback HTTP, and shortcuts to drive it.

Expose the fixtures in a package's conftest.py (each package gets its own server)::

    from tests.support import simulator

    sim_server = simulator.sim_server
    sim = simulator.sim

A package that needs another configuration defines its own ``sim_server`` with
``yield from simulator.start(config, client_id=...)``; ``sim`` picks it up.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.servers import serve_in_thread
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.catalog import LocalFile
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tunedeck.simulator.state import SimulatorState

REDIRECT_URI = "http://127.0.0.1:8000/callback"


@dataclass
class Sim:
    """A running simulator: its base URL, its in-process state, and shortcuts.

    ``client_id`` is the app that ``mint`` asks tokens for (``None``: the simulator's
    default app).
    """

    base: str
    state: SimulatorState
    client_id: str | None = None
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=10, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    # -- control API -------------------------------------------------------------------

    def reset(self) -> None:
        self.http.post("/_sim/reset").raise_for_status()

    def knobs(self, **changes: Any) -> dict[str, Any]:
        response = self.http.patch("/_sim/config", json=changes)
        response.raise_for_status()
        return dict(response.json())

    def advance(self, seconds: float) -> None:
        self.http.post("/_sim/clock/advance", json={"seconds": seconds}).raise_for_status()

    def mint(self, user: str = "demo", **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"user": user}
        if self.client_id is not None:
            body["client_id"] = self.client_id
        response = self.http.post("/_sim/tokens", json={**body, **extra})
        response.raise_for_status()
        return dict(response.json())

    def expire(self, access_token: str) -> None:
        response = self.http.post("/_sim/tokens/expire", json={"access_token": access_token})
        assert response.json() == {"expired": 1}

    def revoke(self, refresh_token: str) -> None:
        response = self.http.post("/_sim/tokens/revoke", json={"refresh_token": refresh_token})
        assert response.json() == {"revoked": 1}

    def playback(self, user: str = "demo") -> dict[str, Any]:
        response = self.http.get(f"/_sim/users/{user}/playback")
        response.raise_for_status()
        return dict(response.json())

    def playlists(self, user: str = "demo") -> list[dict[str, Any]]:
        response = self.http.get(f"/_sim/users/{user}/playlists")
        response.raise_for_status()
        return list(response.json())

    def app_action(self, user: str = "demo", **body: Any) -> httpx.Response:
        return self.http.post(f"/_sim/users/{user}/app-actions", json=body)

    def _snapshot(self, response: httpx.Response) -> dict[str, Any]:
        assert response.is_success, (
            f"{response.request.url}: {response.status_code} {response.text}"
        )
        return dict(response.json())

    def shows(self) -> list[dict[str, Any]]:
        """The catalog's podcast shows (``GET /_sim/shows``): id, uri, name, publisher,
        language and ``episodes`` (id, uri, name, duration_ms, release_date), newest first."""
        response = self.http.get("/_sim/shows")
        response.raise_for_status()
        return list(response.json())

    def play_episode(
        self, episode_uri: str | None = None, *, position_ms: int = 0, user: str = "demo"
    ) -> dict[str, Any]:
        """Play an episode "in the Spotify app" in its show's context (the next episode of
        the show follows it): by default the newest episode of the first show. Returns
        the playback snapshot."""
        shows = self.shows()
        if episode_uri is None:
            show = shows[0]
            episode_uri = str(show["episodes"][0]["uri"])
        else:
            show = next(s for s in shows if any(e["uri"] == episode_uri for e in s["episodes"]))
        return self._snapshot(
            self.app_action(
                user,
                action="play",
                context_uri=show["uri"],
                offset={"uri": episode_uri},
                position_ms=position_ms,
            )
        )

    def play_local_file(
        self,
        artist: str = "Home Band",
        title: str = "Garage Demo",
        *,
        album: str = "",
        seconds: int = 183,
        user: str = "demo",
    ) -> dict[str, Any]:
        """Play a local file (``spotify:local:...``: a track with ``is_local`` true, null
        ids and no album art) "in the Spotify app"; the Web API cannot start one. Returns
        the playback snapshot (its ``track_uri`` is the local file's uri)."""
        uri = LocalFile(artist, album, title, seconds).uri
        return self._snapshot(self.app_action(user, action="play", uris=[uri]))

    def private_session(
        self, on: bool = True, *, device_id: str | None = None, user: str = "demo"
    ) -> dict[str, Any]:
        """Turn a device's private session on or off "in the Spotify app" (the active device
        by default): while the active device is private, the Web API's playback shows no
        item, context or progress. Returns the playback snapshot."""
        body: dict[str, Any] = {"action": "private_session", "state": on}
        if device_id is not None:
            body["device_id"] = device_id
        return self._snapshot(self.app_action(user, **body))

    def start_ad(self, seconds: float = 30, user: str = "demo") -> dict[str, Any]:
        """Start an ad break of ``seconds`` on the user's active device (``POST
        /_sim/users/{user}/ad``): the Web API shows ``currently_playing_type: "ad"`` with a
        null item until it ends, then the interrupted item plays on from where it was.
        Returns the playback snapshot (``ad`` holds the break's duration and progress)."""
        return self._snapshot(self.http.post(f"/_sim/users/{user}/ad", json={"seconds": seconds}))

    def end_ad(self, user: str = "demo") -> dict[str, Any]:
        """End the ad break now, if one plays (``DELETE /_sim/users/{user}/ad``); the
        interrupted item plays on. Returns the playback snapshot."""
        return self._snapshot(self.http.delete(f"/_sim/users/{user}/ad"))

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/_sim/stats").json())

    def requests(self) -> list[dict[str, Any]]:
        """The Web API requests received since the last reset (method, path, query, body)."""
        return list(self.http.get("/_sim/requests").json())

    def token_calls(self, grant: str = "refresh_token") -> int:
        return int(self.stats()["token_requests"][grant])

    # -- Web API ---------------------------------------------------------------------

    def api(self, user: str = "demo", **mint: Any) -> httpx.Client:
        """A client for ``/v1`` authenticated as ``user`` with a freshly minted token."""
        token = self.mint(user, **mint)["access_token"]
        return self.api_with(token)

    def api_with(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base}/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    # -- accounts service ------------------------------------------------------------

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": DEMO_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "state": "xyz",
            "scope": "user-read-playback-state user-modify-playback-state",
            **params,
        }
        return self.http.get("/authorize", params=query)

    def code(self, **params: str) -> str:
        response = self.authorize(**params)
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return query["code"][0]

    def token_basic(self, **form: str) -> httpx.Response:
        return self.http.post("/api/token", data=form, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start(config: SimulatorConfig | None = None, *, client_id: str | None = None) -> Iterator[Sim]:
    """Serve a fresh simulator app on loopback for the duration of the generator."""
    app = create_simulator_app(config)
    with serve_in_thread(app) as base:
        sim = Sim(base, app.state.simulator, client_id)
        try:
            yield sim
        finally:
            sim.close()


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Sim]:
    """One default simulator for the package's whole run (tests reset it through ``sim``)."""
    yield from start()


@pytest.fixture
def sim(sim_server: Sim) -> Sim:
    """The shared simulator, reset: initial players, no tokens, zero counters."""
    sim_server.reset()
    return sim_server
