"""Who asked for what plays: the requester's display name shown with "now playing".

Only the name, and only while the track playing is the request handed to Spotify or
playing (an overlay sees that and nothing else of requests). Asked by whoever builds a
``now_playing``: the poller when it publishes a change, a live client's first snapshot.
"""

from __future__ import annotations

import uuid

from tunedeck.kit.db import Database
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.requests import playback_repository as repository
from tunedeck.spotify.models import Playback


class RequesterNames:
    """Requesters' names from the database (one indexed read per ``now_playing`` built)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def requested_by(self, account_id: uuid.UUID, track_uri: str | None) -> str | None:
        """The display name of the viewer who requested ``track_uri``, if it is the request
        being played."""
        if track_uri is None:
            return None
        async with self.db.session() as session:
            return await repository.requester_name(session, account_id, track_uri)

    async def now_playing(self, account_id: uuid.UUID, playback: Playback) -> NowPlayingOut:
        """``NowPlayingOut`` of the playback, with its requester when it was requested."""
        out = NowPlayingOut.of(playback)
        uri = playback.item.uri if playback.item is not None else None
        name = await self.requested_by(account_id, uri)
        return out if name is None else out.model_copy(update={"requested_by": name})
