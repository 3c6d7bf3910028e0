"""A fresh ``now_playing`` for a client that just connected, at once.

From the cheapest source that is current: the latest ``now_playing`` this process's hub
delivered on the account's channel (the poller publishes every change, so the latest is
still true); else the state cache's fresh state; else one Spotify read, shared by every
client of the account connecting meanwhile. A Spotify failure still answers at once:
``now_playing`` null, with a ``status`` saying why when there is something to say.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

import httpx

from tunedeck.kit.errors import TuneDeckError
from tunedeck.player.context import SpotifyClients
from tunedeck.player.errors import map_spotify_error
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.player.state import StateCache
from tunedeck.realtime.hub import Hub
from tunedeck.realtime.messages import NowPlaying, Status, StatusKind
from tunedeck.spotify.errors import SpotifyError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a new client is sent after ``hello``: ``now_playing``, and maybe a ``status``."""

    now_playing: NowPlaying
    status: Status | None = None


class Snapshots:
    """Fresh snapshots per account, one Spotify read at a time per account."""

    def __init__(self, hub: Hub, clients: SpotifyClients, cache: StateCache | None) -> None:
        self.hub = hub
        self.clients = clients
        self.cache = cache
        self.spotify_reads = 0
        self._reads: dict[uuid.UUID, asyncio.Task[Snapshot]] = {}

    async def now_playing(self, account_id: uuid.UUID) -> Snapshot:
        last = self.hub.last_now_playing(account_id)
        if last is not None:
            return Snapshot(NowPlaying.model_validate(last.message))
        if self.cache is not None:
            parts = self.cache.fresh(account_id)
            if parts is not None and "now_playing" not in parts.errors:
                playback = parts.now_playing
                return Snapshot(
                    NowPlaying(now_playing=NowPlayingOut.of(playback) if playback else None)
                )
        task = self._reads.get(account_id)
        if task is None:
            task = asyncio.ensure_future(self._read(account_id))
            self._reads[account_id] = task
            task.add_done_callback(lambda t: self._forget(account_id, t))
        # Shielded: one client leaving must not cancel the read the others wait for.
        return await asyncio.shield(task)

    def _forget(self, account_id: uuid.UUID, task: asyncio.Task[Snapshot]) -> None:
        if self._reads.get(account_id) is task:
            del self._reads[account_id]

    async def _read(self, account_id: uuid.UUID) -> Snapshot:
        self.spotify_reads += 1
        try:
            client = await self.clients.client_for(account_id)
            playback = await client.playback()
        except (SpotifyError, TuneDeckError, httpx.HTTPError) as exc:
            return _unavailable(exc)
        return Snapshot(NowPlaying(now_playing=NowPlayingOut.of(playback) if playback else None))


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
