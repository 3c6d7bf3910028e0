"""Async client of the Spotify Web API, over one pooled ``httpx.AsyncClient``.

One :class:`SpotifyClient` acts for one user (its token provider hands out that user's
access token). Each public method is one *call*: playback, queue, devices, playlists,
search. How each request is sent, retried, timed out and mapped to the
``tunedeck.spotify.errors`` family is the transport's job (``tunedeck.spotify.transport``);
this module builds the requests and reads the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from tunedeck.config import SPOTIFY_API_URL
from tunedeck.kit.metrics import Metrics
from tunedeck.spotify.errors import (
    SpotifyError,
    SpotifyRateLimitError,
    SpotifyUnavailableError,
)
from tunedeck.spotify.models import (
    Device,
    Devices,
    Paging,
    Playback,
    Playlist,
    PlaylistItem,
    Queue,
    RepeatState,
    SimplifiedPlaylist,
    SnapshotId,
    Track,
    TrackSearch,
    User,
)
from tunedeck.spotify.quirks import QuirksRegistry
from tunedeck.spotify.transport import (
    Params,
    RequestPolicy,
    SpotifyTransport,
    TokenProvider,
    json_body,
)

logger = logging.getLogger(__name__)

DEV_MODE_SEARCH_LIMIT = 10
"""Largest search ``limit`` a development-mode app may ask for."""

SEARCH_MAX_LIMIT = 50
"""Largest search ``limit`` Spotify accepts from any app."""

PLAYLIST_CHUNK = 100
"""Most items Spotify accepts in one playlist add or remove."""

_PLAYABLE_TYPES = "track,episode"
# Library removal refused this way means "use the older followers endpoint".
_LIBRARY_REFUSED_STATUSES = frozenset({400, 403, 404, 405})

M = TypeVar("M", bound=BaseModel)


class SpotifyClient:
    """The Spotify Web API for one user: playback, queue, devices, playlists, search.

    ``app_id`` is the Spotify app's client id and ``quirks`` where the restrictions
    learned about apps are kept: clients given the same registry and app id share what
    one of them found out. Without a registry the client learns for itself alone.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_provider: TokenProvider,
        *,
        api_url: str = SPOTIFY_API_URL,
        app_id: str = "default",
        policy: RequestPolicy | None = None,
        quirks: QuirksRegistry | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._transport = SpotifyTransport(
            http, token_provider, api_url=api_url, policy=policy, metrics=metrics
        )
        self._app_id = app_id
        self._quirks = quirks if quirks is not None else QuirksRegistry()

    def __repr__(self) -> str:
        return f"SpotifyClient(api_url={self._transport.api_url!r}, app_id={self._app_id!r})"

    @property
    def policy(self) -> RequestPolicy:
        """The retry and timeout policy in force."""
        return self._transport.policy

    def deadline(self) -> AbstractAsyncContextManager[float]:
        """One deadline (the policy's) for every call made in the block, which then ends
        within it as a single call does; past it, a 504 :class:`SpotifyUnavailableError`."""
        return self._transport.call()

    # ---- reading -------------------------------------------------------------------

    async def playback(self, market: str | None = None) -> Playback | None:
        """The playback state, or None when nothing is active (204 / empty body)."""
        data = await self._transport.get(
            "/me/player", {"market": market, "additional_types": _PLAYABLE_TYPES}
        )
        return None if data is None else _parse(Playback, data, "playback")

    async def currently_playing(self) -> Playback | None:
        """What is playing (no device, repeat or shuffle), or None when nothing is."""
        data = await self._transport.get(
            "/me/player/currently-playing", {"additional_types": _PLAYABLE_TYPES}
        )
        return None if data is None else _parse(Playback, data, "currently playing")

    async def queue(self) -> Queue:
        """The current item and what is queued after it."""
        data = await self._transport.get("/me/player/queue")
        return Queue() if data is None else _parse(Queue, data, "queue")

    async def devices(self) -> list[Device]:
        """The user's available Spotify Connect devices."""
        data = await self._transport.get("/me/player/devices")
        return [] if data is None else _parse(Devices, data, "devices").devices

    async def current_user(self) -> User:
        """The profile of the user whose token this is."""
        return _parse(User, await self._transport.get("/me"), "user")

    async def my_playlists(
        self, *, limit: int = 50, offset: int = 0, all_pages: bool = False
    ) -> list[SimplifiedPlaylist]:
        """The playlists the user owns or follows: one page, or every page from ``offset``."""
        return await self._pages(
            "/me/playlists",
            Paging[SimplifiedPlaylist],
            limit=limit,
            offset=offset,
            all_pages=all_pages,
        )

    async def playlist(self, playlist_id: str) -> Playlist:
        """A playlist with the first page of its items."""
        data = await self._transport.get(
            f"/playlists/{_segment(playlist_id)}", {"additional_types": _PLAYABLE_TYPES}
        )
        return _parse(Playlist, data, "playlist")

    async def playlist_items(
        self, playlist_id: str, *, limit: int = 100, offset: int = 0, all_pages: bool = False
    ) -> list[PlaylistItem]:
        """A playlist's entries: one page, or every page from ``offset``."""
        return await self._pages(
            f"/playlists/{_segment(playlist_id)}/items",
            Paging[PlaylistItem],
            limit=limit,
            offset=offset,
            all_pages=all_pages,
            params={"additional_types": _PLAYABLE_TYPES},
        )

    async def track(self, track_id: str, *, market: str | None = None) -> Track:
        """One track by id; in a ``market`` (a country code or ``from_token``, the user's
        country) it says whether it plays there (``is_playable``). A 404 when there is none."""
        data = await self._transport.get(f"/tracks/{_segment(track_id)}", {"market": market})
        return _parse(Track, data, "track")

    async def search_tracks(
        self, query: str, *, limit: int = 20, offset: int = 0, market: str | None = None
    ) -> list[Track]:
        """Tracks matching ``query``, fetched in as many pages as the app may ask for; in a
        ``market`` (a country code or ``from_token``) each says whether it plays there.

        Development-mode apps may ask for at most 10 results at a time: when Spotify
        refuses the limit, the results are fetched in pages of 10 and joined, and the
        app is remembered so that later searches (by any client of the app sharing this
        client's quirks registry) page at once.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        quirks = self._quirks.for_app(self._app_id)
        async with self._transport.call():
            tracks: list[Track] = []
            position, end = offset, offset + limit
            page_limit = quirks.search_page_limit
            if page_limit is None:
                page_limit = SEARCH_MAX_LIMIT
                size = min(limit, page_limit)
                try:
                    page = await self._search_page(query, size, position, market)
                except SpotifyError as exc:
                    if not _is_invalid_limit(exc) or size <= DEV_MODE_SEARCH_LIMIT:
                        raise
                    logger.info(
                        "app %s: search limit %d refused, paging by %d",
                        self._app_id,
                        size,
                        DEV_MODE_SEARCH_LIMIT,
                    )
                    quirks.search_page_limit = page_limit = DEV_MODE_SEARCH_LIMIT
                else:
                    tracks.extend(page.items)
                    if page.next is None:
                        return tracks
                    position += size
            while position < end:
                size = min(page_limit, end - position)
                page = await self._search_page(query, size, position, market)
                tracks.extend(page.items)
                if page.next is None:
                    break
                position += size
            return tracks

    # ---- playback commands ---------------------------------------------------------

    async def play(
        self,
        *,
        uris: Sequence[str] | None = None,
        context_uri: str | None = None,
        offset_position: int | None = None,
        offset_uri: str | None = None,
        position_ms: int | None = None,
        device_id: str | None = None,
    ) -> None:
        """Start or resume playback: given tracks, a context (album, playlist, artist,
        show) from an offset, or (with nothing given) whatever was paused."""
        if uris is not None and context_uri is not None:
            raise ValueError("give uris or context_uri, not both")
        offset = _play_offset(offset_position, offset_uri)
        body: dict[str, Any] = {}
        if uris is not None:
            body["uris"] = list(uris)
        if context_uri is not None:
            body["context_uri"] = context_uri
        if offset is not None:
            body["offset"] = offset
        if position_ms is not None:
            body["position_ms"] = position_ms
        await self._transport.send(
            "PUT", "/me/player/play", params={"device_id": device_id}, body=body or None
        )

    async def pause(self, *, device_id: str | None = None) -> None:
        """Pause playback."""
        await self._transport.send("PUT", "/me/player/pause", params={"device_id": device_id})

    async def next(self, *, device_id: str | None = None) -> None:
        """Skip to the next item (never retried after an ambiguous failure)."""
        await self._transport.send("POST", "/me/player/next", params={"device_id": device_id})

    async def previous(self, *, device_id: str | None = None) -> None:
        """Go back to the previous item (never retried after an ambiguous failure)."""
        await self._transport.send("POST", "/me/player/previous", params={"device_id": device_id})

    async def seek(self, position_ms: int, *, device_id: str | None = None) -> None:
        """Move to ``position_ms`` in the current item."""
        if position_ms < 0:
            raise ValueError("position_ms must not be negative")
        await self._transport.send(
            "PUT", "/me/player/seek", params={"position_ms": position_ms, "device_id": device_id}
        )

    async def set_volume(self, volume_percent: int, *, device_id: str | None = None) -> None:
        """Set the device volume, 0-100."""
        if not 0 <= volume_percent <= 100:
            raise ValueError("volume_percent must be between 0 and 100")
        await self._transport.send(
            "PUT",
            "/me/player/volume",
            params={"volume_percent": volume_percent, "device_id": device_id},
        )

    async def set_shuffle(self, state: bool, *, device_id: str | None = None) -> None:
        """Turn shuffle on or off."""
        await self._transport.send(
            "PUT",
            "/me/player/shuffle",
            params={"state": "true" if state else "false", "device_id": device_id},
        )

    async def set_repeat(self, mode: RepeatState, *, device_id: str | None = None) -> None:
        """Set repeat to off, context or track."""
        if mode not in ("off", "context", "track"):
            raise ValueError("mode must be off, context or track")
        await self._transport.send(
            "PUT", "/me/player/repeat", params={"state": mode, "device_id": device_id}
        )

    async def add_to_queue(self, uri: str, *, device_id: str | None = None) -> None:
        """Queue a track or episode (never retried after an ambiguous failure)."""
        await self._transport.send(
            "POST", "/me/player/queue", params={"uri": uri, "device_id": device_id}
        )

    async def transfer_playback(self, device_id: str, *, play: bool = False) -> None:
        """Move playback to ``device_id``; ``play`` starts it there, else the state is kept."""
        await self._transport.send(
            "PUT", "/me/player", body={"device_ids": [device_id], "play": play}
        )

    # ---- playlists -----------------------------------------------------------------

    async def create_playlist(
        self, name: str, *, public: bool | None = None, description: str | None = None
    ) -> Playlist:
        """Create a playlist for the user (never retried after an ambiguous failure)."""
        body: dict[str, Any] = {"name": name}
        if public is not None:
            body["public"] = public
        if description is not None:
            body["description"] = description
        response = await self._transport.send("POST", "/me/playlists", body=body)
        return _parse(Playlist, json_body(response), "created playlist")

    async def rename_playlist(
        self, playlist_id: str, name: str | None, *, description: str | None = None
    ) -> None:
        """Change a playlist's name, its description, or both (``None``: leave it)."""
        body = {"name": name, "description": description}
        await self._transport.send(
            "PUT",
            f"/playlists/{_segment(playlist_id)}",
            body={key: value for key, value in body.items() if value is not None},
        )

    async def delete_playlist(self, playlist_id: str) -> None:
        """Delete a playlist, which for Spotify means unfollowing it.

        Uses DELETE /me/library; where the app is refused that path, unfollows through
        the older /playlists/{id}/followers and remembers to go there first next time.
        """
        quirks = self._quirks.for_app(self._app_id)
        async with self._transport.call():
            if not quirks.library_remove_refused:
                try:
                    await self._transport.send(
                        "DELETE", "/me/library", params={"uris": f"spotify:playlist:{playlist_id}"}
                    )
                    return
                except (SpotifyRateLimitError, SpotifyUnavailableError):
                    raise
                except SpotifyError as exc:
                    if exc.status not in _LIBRARY_REFUSED_STATUSES:
                        raise
                    refused = exc.status
                await self._transport.send(
                    "DELETE", f"/playlists/{_segment(playlist_id)}/followers"
                )
                # Remember only once the fallback worked: a 404 may just be a bad id.
                logger.info(
                    "app %s: library removal refused (%d), using followers", self._app_id, refused
                )
                quirks.library_remove_refused = True
                return
            await self._transport.send("DELETE", f"/playlists/{_segment(playlist_id)}/followers")

    async def add_playlist_items(
        self, playlist_id: str, uris: Sequence[str], *, position: int | None = None
    ) -> str:
        """Add items in order, 100 per request; returns the last ``snapshot_id``.

        Not retried after an ambiguous failure: a second attempt could add twice.
        """
        if not uris:
            raise ValueError("uris must not be empty")
        path = f"/playlists/{_segment(playlist_id)}/items"
        snapshot = ""
        async with self._transport.call():
            for start in range(0, len(uris), PLAYLIST_CHUNK):
                body: dict[str, Any] = {"uris": list(uris[start : start + PLAYLIST_CHUNK])}
                if position is not None:
                    body["position"] = position + start
                response = await self._transport.send("POST", path, body=body)
                snapshot = _parse(SnapshotId, json_body(response) or {}, "snapshot").snapshot_id
        return snapshot

    async def remove_playlist_items(
        self, playlist_id: str, uris: Sequence[str], *, snapshot_id: str | None = None
    ) -> str:
        """Remove every occurrence of each uri, 100 per request; returns the last snapshot id."""
        if not uris:
            raise ValueError("uris must not be empty")
        path = f"/playlists/{_segment(playlist_id)}/items"
        snapshot = ""
        async with self._transport.call():
            for start in range(0, len(uris), PLAYLIST_CHUNK):
                body: dict[str, Any] = {
                    "items": [{"uri": uri} for uri in uris[start : start + PLAYLIST_CHUNK]]
                }
                if snapshot_id is not None:
                    body["snapshot_id"] = snapshot_id
                response = await self._transport.send("DELETE", path, body=body)
                snapshot = _parse(SnapshotId, json_body(response) or {}, "snapshot").snapshot_id
        return snapshot

    # ---- plumbing ------------------------------------------------------------------

    async def _pages(
        self,
        path: str,
        page_type: type[Paging[M]],
        *,
        limit: int,
        offset: int,
        all_pages: bool,
        params: Params | None = None,
    ) -> list[M]:
        items: list[M] = []
        async with self._transport.call():
            while True:
                data = await self._transport.get(
                    path, {**(params or {}), "limit": limit, "offset": offset}
                )
                page = _parse(page_type, data or {}, path)
                items.extend(page.items)
                if not all_pages or page.next is None or not page.items:
                    return items
                offset += page.limit or limit
                if page.total and offset >= page.total:
                    return items

    async def _search_page(
        self, query: str, limit: int, offset: int, market: str | None
    ) -> Paging[Track]:
        params: Params = {
            "q": query,
            "type": "track",
            "limit": limit,
            "offset": offset,
            "market": market,
        }
        data = await self._transport.get("/search", params)
        return _parse(TrackSearch, data or {}, "search").tracks


def _segment(value: str) -> str:
    """``value`` escaped for use as one path segment."""
    return quote(value, safe="")


def _play_offset(position: int | None, uri: str | None) -> dict[str, Any] | None:
    """Where in the context playback starts: by position or by item, not both."""
    if position is not None and uri is not None:
        raise ValueError("give offset_position or offset_uri, not both")
    if position is not None:
        return {"position": position}
    if uri is not None:
        return {"uri": uri}
    return None


def _parse(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpotifyError(
            502, f"unexpected {what} response from Spotify ({exc.error_count()} invalid fields)"
        ) from exc


def _is_invalid_limit(exc: SpotifyError) -> bool:
    return exc.status == 400 and "limit" in exc.message.lower()


__all__ = [
    "DEV_MODE_SEARCH_LIMIT",
    "PLAYLIST_CHUNK",
    "SEARCH_MAX_LIMIT",
    "RequestPolicy",
    "SpotifyClient",
    "TokenProvider",
]
