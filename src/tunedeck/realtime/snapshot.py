"""A fresh ``now_playing`` for a client that just connected, at once.

From the now-playing store (``player.now_playing``), the cheapest source that is
current first: the latest ``now_playing`` heard on the account's channel in this process
(the poller publishes every change, so the latest is still true); else a fresh reading;
else one Spotify read, shared by every client of the account connecting meanwhile. A
Spotify failure still answers at once: ``now_playing`` null, with a ``status`` saying
why when there is something to say.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import httpx

from tunedeck.kit.errors import TuneDeckError
from tunedeck.kit.single_flight import SingleFlight
from tunedeck.player.context import SpotifyClients
from tunedeck.player.errors import map_spotify_error
from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.realtime.messages import NowPlaying, Status, StatusKind
from tunedeck.requests.requesters import RequesterNames
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Playback

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a new client is sent after ``hello``: ``now_playing``, and maybe a ``status``."""

    now_playing: NowPlaying
    status: Status | None = None


class Snapshots:
    """Fresh snapshots per account, from the now-playing store."""

    def __init__(
        self,
        now_playing: NowPlayingStore,
        clients: SpotifyClients,
        requesters: RequesterNames | None = None,
    ) -> None:
        self.store = now_playing
        self.clients = clients
        self.requesters = requesters
        # The now_playing built from each account's latest reading: the clients arriving
        # while that reading is fresh share it (and its one requester lookup).
        self._built: dict[uuid.UUID, tuple[Reading, NowPlayingOut | None]] = {}
        self._building: SingleFlight[uuid.UUID, NowPlayingOut | None] = SingleFlight()

    async def now_playing(self, account_id: uuid.UUID) -> Snapshot:
        announced = self.store.announced(account_id)
        if announced is not None:
            return Snapshot(NowPlaying.model_validate(announced))

        async def ask() -> Playback | None:
            client = await self.clients.client_for(account_id)
            return await client.playback()

        try:
            reading = await self.store.read(account_id, ask)
        except (SpotifyError, TuneDeckError, httpx.HTTPError) as exc:
            return _unavailable(exc)
        return Snapshot(NowPlaying(now_playing=await self._shared_out(account_id, reading)))

    async def _shared_out(self, account_id: uuid.UUID, reading: Reading) -> NowPlayingOut | None:
        built = self._built.get(account_id)
        if built is not None and built[0] is reading:
            return built[1]

        async def build() -> NowPlayingOut | None:
            out = await self._out(account_id, reading.playback)
            self._built[account_id] = (reading, out)
            return out

        return await self._building.run(account_id, build)

    async def _out(self, account_id: uuid.UUID, playback: Playback | None) -> NowPlayingOut | None:
        if playback is None:
            return None
        if self.requesters is None:
            return NowPlayingOut.of(playback)
        return await self.requesters.now_playing(account_id, playback)


def _unavailable(exc: Exception) -> Snapshot:
    mapped = exc if isinstance(exc, TuneDeckError) else map_spotify_error(exc)
    logger.info("no now playing for a new live client: %s", mapped.code)
    status = None
    if mapped.code == "spotify_needs_reauth":
        status = Status(status=StatusKind.NEEDS_REAUTH, message=mapped.message)
    elif mapped.code == "rate_limited":
        status = Status(status=StatusKind.RATE_LIMITED, message=mapped.message)
    else:
        status = Status(status=StatusKind.IDLE, message=mapped.message)
    return Snapshot(NowPlaying(now_playing=None), status)
