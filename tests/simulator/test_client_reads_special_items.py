"""The project's SpotifyClient reads what the simulator plays besides tracks: an episode
(it asks ``additional_types=track,episode``), an ad break, a local file and a private
session, through ``playback()``, ``currently_playing()`` and ``queue()``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Episode, Track


class StaticToken:
    """A token provider handing out one minted token."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def __call__(self, *, force_refresh: bool = False) -> str:
        return self.token


@pytest.fixture
async def client(sim: Sim) -> AsyncIterator[SpotifyClient]:
    token = sim.mint("demo")["access_token"]
    async with httpx.AsyncClient() as http:
        yield SpotifyClient(http, StaticToken(token), api_url=f"{sim.base}/v1")


async def test_client_reads_an_episode(sim: Sim, client: SpotifyClient) -> None:
    show = sim.shows()[1]
    episode = show["episodes"][0]
    sim.play_episode(episode["uri"], position_ms=30_000)
    playback = await client.playback()
    assert playback is not None
    assert playback.currently_playing_type == "episode"
    assert isinstance(playback.item, Episode)
    assert playback.item.uri == episode["uri"]
    assert playback.item.name == episode["name"]
    assert playback.item.duration_ms == episode["duration_ms"]
    assert playback.item.album_name == show["name"]
    assert playback.item.artist_names == [show["publisher"]]
    image = playback.item.image_url()
    assert image is not None
    assert image.endswith(f"/images/{show['id']}/640.svg")
    assert playback.context is not None
    assert playback.context.uri == show["uri"]
    assert playback.progress_ms is not None
    assert playback.progress_ms >= 30_000
    current = await client.currently_playing()
    assert current is not None
    assert isinstance(current.item, Episode)
    queue = await client.queue()
    assert isinstance(queue.currently_playing, Episode)
    assert [item.uri for item in queue.queue] == [e["uri"] for e in show["episodes"][1:]]
    assert all(isinstance(item, Episode) for item in queue.queue)
    requests = [r for r in sim.requests() if r["path"] == "/v1/me/player"]
    assert requests[-1]["query"]["additional_types"] == "track,episode"


async def test_client_reads_an_ad_break(sim: Sim, client: SpotifyClient) -> None:
    sim.start_ad(30)
    sim.advance(3)
    playback = await client.playback()
    assert playback is not None
    assert playback.currently_playing_type == "ad"
    assert playback.item is None
    assert playback.context is None
    assert playback.is_playing is True
    assert playback.progress_ms is not None
    assert 3000 <= playback.progress_ms < 4500
    assert not playback.actions.allows("skipping_next")
    assert playback.actions.allows("pausing")
    sim.advance(30)
    after = await client.playback()
    assert after is not None
    assert after.currently_playing_type == "track"
    assert isinstance(after.item, Track)


async def test_client_reads_a_local_file_and_a_private_session(
    sim: Sim, client: SpotifyClient
) -> None:
    sim.play_local_file("Home Band", "Garage Demo", seconds=183)
    playback = await client.playback()
    assert playback is not None
    assert isinstance(playback.item, Track)
    assert playback.item.is_local is True
    assert playback.item.id is None
    assert playback.item.uri.startswith("spotify:local:")
    assert playback.item.artists_text == "Home Band"
    assert playback.item.image_url() is None
    assert playback.item.duration_ms == 183_000
    sim.private_session()
    private = await client.playback()
    assert private is not None
    assert private.device is not None
    assert private.device.is_private_session is True
    assert private.item is None
    assert private.progress_ms is None
