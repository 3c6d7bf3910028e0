"""Requests as the doors show them: rows to :class:`RequestOut`, with each waiting
request's position and an estimate of when it plays.

The estimate: what is left of the item playing now (from the now-playing store's reading,
no Spotify call), then the lengths of the songs ahead of it that will play (sent and
queued; a pending one may never be approved and is not counted). Unknown (null) when
nothing is known to be playing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from tunedeck.player.now_playing import Reading
from tunedeck.requests.models import SongRequest
from tunedeck.requests.schemas import RequestOut, RequestTrackOut, State, ViewerOut
from tunedeck.requests.viewers import Role
from tunedeck.spotify.models import Track


def track_document(track: Track) -> dict[str, Any]:
    """A resolved song as kept with its request (``song_requests.track``)."""
    return {
        "name": track.name,
        "artists": track.artist_names,
        "artist_uris": [artist.uri for artist in track.artists if artist.uri],
        "album": track.album_name,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "album_art_url": track.image_url(),
    }


def request_out(
    row: SongRequest, *, position: int | None = None, eta_ms: int | None = None
) -> RequestOut:
    """One stored request as the doors show it."""
    track = row.track
    return RequestOut(
        id=row.id,
        viewer=ViewerOut(
            platform=row.viewer_platform,
            id=row.viewer_id,
            login=row.viewer_login,
            display_name=row.viewer_name,
            role=Role(row.viewer_role),
        ),
        source=row.source,
        query=row.query,
        track=RequestTrackOut(
            uri=row.track_uri,
            name=str(track.get("name", "")),
            artists=list(track.get("artists", [])),
            album=track.get("album"),
            duration_ms=int(track.get("duration_ms", 0)),
            explicit=bool(track.get("explicit", False)),
            album_art_url=track.get("album_art_url"),
        ),
        state=State(row.state),
        reason=row.reason,
        reason_text=row.reason_text,
        position=position,
        eta_ms=eta_ms,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def remaining_ms(reading: Reading | None, now: float) -> int | None:
    """What is left of the item playing, as of ``now`` (the reading's clock); None when
    nothing is known to be playing."""
    if reading is None or reading.playback is None:
        return None
    playback = reading.playback
    if not playback.is_playing or playback.item is None or playback.progress_ms is None:
        return None
    elapsed = max(0.0, now - reading.at) * 1000
    return max(0, playback.item.duration_ms - playback.progress_ms - int(elapsed))


def queue_out(rows: Sequence[SongRequest], remaining: int | None) -> list[RequestOut]:
    """The queue in order (playing, sent, waiting), each with its position and estimate."""
    shown: list[RequestOut] = []
    position = 0
    ahead = remaining
    for row in rows:
        state = State(row.state)
        duration = int(row.track.get("duration_ms", 0))
        if state is State.PLAYING:
            shown.append(request_out(row, eta_ms=0 if remaining is not None else None))
            continue
        if state in (State.PENDING, State.QUEUED):
            position += 1
        shown.append(request_out(row, position=position or None, eta_ms=ahead))
        if ahead is not None and state is not State.PENDING:
            ahead += duration
    return shown


def find(shown: Sequence[RequestOut], request_id: uuid.UUID) -> RequestOut | None:
    return next((request for request in shown if request.id == request_id), None)
