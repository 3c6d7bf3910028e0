"""Simulator objects rendered as Spotify Web API JSON, with URLs under one origin.

The origin is the request's scheme, host and mount prefix, so every generated
``href`` and image URL points back at this simulator however it is mounted.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from tunedeck.simulator.catalog import (
    IMAGE_SIZES,
    MARKETS,
    Album,
    Artist,
    Catalog,
    Episode,
    LocalFile,
    Show,
    Track,
    parse_local_uri,
)
from tunedeck.simulator.playback import Player
from tunedeck.simulator.store import Device, Playlist, PlaylistEntry, User

OPEN_URL = "https://open.spotify.com"

JSON = dict[str, Any]


class Renderer:
    """Renders objects for one origin; catalog objects are memoized (they never change)."""

    def __init__(self, catalog: Catalog, origin: str) -> None:
        self.catalog = catalog
        self.origin = origin
        self.api = f"{origin}/v1"
        self._tracks: dict[str, JSON] = {}
        self._market_tracks: dict[tuple[str, bool], JSON] = {}
        self._albums: dict[str, JSON] = {}
        self._episodes: dict[str, JSON] = {}
        self._shows: dict[str, JSON] = {}

    # -- catalog -----------------------------------------------------------------

    def artist(self, artist: Artist) -> JSON:
        return {
            "external_urls": {"spotify": f"{OPEN_URL}/artist/{artist.id}"},
            "href": f"{self.api}/artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": artist.uri,
        }

    def images(self, cover: Album | Show) -> list[JSON]:
        """The cover art of an album or show, in every size, served by the simulator."""
        return [
            {"height": size, "url": f"{self.origin}/images/{cover.id}/{size}.svg", "width": size}
            for size in IMAGE_SIZES
        ]

    def album(self, album: Album) -> JSON:
        cached = self._albums.get(album.id)
        if cached is None:
            cached = self._albums[album.id] = {
                "album_type": album.album_type,
                "artists": [self.artist(album.artist)],
                "available_markets": self._album_markets(album),
                "external_urls": {"spotify": f"{OPEN_URL}/album/{album.id}"},
                "href": f"{self.api}/albums/{album.id}",
                "id": album.id,
                "images": self.images(album),
                "name": album.name,
                "release_date": album.release_date,
                "release_date_precision": album.release_date_precision,
                "total_tracks": album.total_tracks,
                "type": "album",
                "uri": album.uri,
            }
        return cached

    def _album_markets(self, album: Album) -> list[str]:
        """Where at least one of the album's tracks may be played (as Spotify counts)."""
        found = {
            market
            for track_id in self.catalog.album_tracks.get(album.id, ())
            if (track := self.catalog.track(track_id)) is not None
            for market in track.available_markets
        }
        return sorted(found) if found else list(MARKETS)

    def track(self, track: Track, market: str | None = None) -> JSON:
        """A track as Spotify lists it: without ``market``, with the ``available_markets``
        it may be played in; for a ``market``, with ``is_playable`` instead (and
        ``restrictions.reason`` "market" where it is not)."""
        if market is not None:
            return self._track_in(track, track.playable_in(market))
        cached = self._tracks.get(track.id)
        if cached is None:
            cached = self._tracks[track.id] = {
                **self._track_core(track),
                "available_markets": list(track.available_markets),
            }
        return cached

    def _track_in(self, track: Track, playable: bool) -> JSON:
        key = (track.id, playable)
        cached = self._market_tracks.get(key)
        if cached is None:
            cached = {**self._track_core(track), "is_playable": playable}
            if not playable:
                cached["restrictions"] = {"reason": "market"}
            self._market_tracks[key] = cached
        return cached

    def _track_core(self, track: Track) -> JSON:
        return {
            "album": self.album(track.album),
            "artists": [self.artist(artist) for artist in track.artists],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_ids": {"isrc": track.isrc},
            "external_urls": {"spotify": f"{OPEN_URL}/track/{track.id}"},
            "href": f"{self.api}/tracks/{track.id}",
            "id": track.id,
            "is_local": False,
            "name": track.name,
            "popularity": track.popularity,
            "preview_url": None,
            "track_number": track.track_number,
            "type": "track",
            "uri": track.uri,
        }

    def track_uri(self, uri: str | None) -> JSON | None:
        track = self.catalog.track_by_uri(uri) if uri else None
        return self.track(track) if track else None

    @staticmethod
    def local_track(local: LocalFile) -> JSON:
        """A local file as Spotify lists it: a track with null ids and links, no art."""
        album_name = local.album
        return {
            "album": {
                "album_type": None,
                "artists": [],
                "available_markets": [],
                "external_urls": {},
                "href": None,
                "id": None,
                "images": [],
                "name": album_name,
                "release_date": None,
                "release_date_precision": None,
                "type": "album",
                "uri": None,
            },
            "artists": [
                {
                    "external_urls": {},
                    "href": None,
                    "id": None,
                    "name": local.artist,
                    "type": "artist",
                    "uri": None,
                }
            ],
            "available_markets": [],
            "disc_number": 0,
            "duration_ms": local.duration_ms,
            "explicit": False,
            "external_ids": {},
            "external_urls": {},
            "href": None,
            "id": None,
            "is_local": True,
            "name": local.title,
            "popularity": 0,
            "preview_url": None,
            "track_number": 0,
            "type": "track",
            "uri": local.uri,
        }

    def playable(self, uri: str | None) -> JSON | None:
        """The track, episode or local file ``uri`` names (None for anything else)."""
        if not uri:
            return None
        track = self.catalog.track_by_uri(uri)
        if track is not None:
            return self.track(track)
        episode = self.catalog.episode_by_uri(uri)
        if episode is not None:
            return self.episode(episode)
        local = parse_local_uri(uri)
        return self.local_track(local) if local is not None else None

    # -- podcasts --------------------------------------------------------------------

    def show_simple(self, show: Show) -> JSON:
        """A SimplifiedShowObject (as nested in an episode, or listed)."""
        cached = self._shows.get(show.id)
        if cached is None:
            cached = self._shows[show.id] = {
                "available_markets": list(MARKETS),
                "copyrights": [],
                "description": show.description,
                "explicit": show.explicit,
                "external_urls": {"spotify": f"{OPEN_URL}/show/{show.id}"},
                "href": f"{self.api}/shows/{show.id}",
                "html_description": f"<p>{escape(show.description)}</p>",
                "id": show.id,
                "images": self.images(show),
                "is_externally_hosted": False,
                "languages": [show.language],
                "media_type": "audio",
                "name": show.name,
                "publisher": show.publisher,
                "total_episodes": len(show.episode_ids),
                "type": "show",
                "uri": show.uri,
            }
        return cached

    def show_full(self, show: Show) -> JSON:
        """A ShowObject: the show with the first page of its episodes."""
        return {**self.show_simple(show), "episodes": self.show_episodes(show, offset=0, limit=50)}

    def show_episodes(self, show: Show, *, offset: int, limit: int) -> JSON:
        """A page of a show's episodes (simplified: without the show), newest first."""
        ids = show.episode_ids[offset : offset + limit]
        return self.page(
            f"{self.api}/shows/{show.id}/episodes",
            [self.episode_simple(self.catalog.episodes[eid]) for eid in ids],
            offset=offset,
            limit=limit,
            total=len(show.episode_ids),
        )

    def episode_simple(self, episode: Episode) -> JSON:
        """A SimplifiedEpisodeObject; its images are the show's cover."""
        return {
            "audio_preview_url": None,
            "description": episode.description,
            "duration_ms": episode.duration_ms,
            "explicit": episode.explicit,
            "external_urls": {"spotify": f"{OPEN_URL}/episode/{episode.id}"},
            "href": f"{self.api}/episodes/{episode.id}",
            "html_description": f"<p>{escape(episode.description)}</p>",
            "id": episode.id,
            "images": self.images(episode.show),
            "is_externally_hosted": False,
            "is_playable": True,
            "language": episode.show.language,
            "languages": [episode.show.language],
            "name": episode.name,
            "release_date": episode.release_date,
            "release_date_precision": "day",
            "type": "episode",
            "uri": episode.uri,
        }

    def episode(self, episode: Episode) -> JSON:
        """An EpisodeObject: the episode with its (simplified) show."""
        cached = self._episodes.get(episode.id)
        if cached is None:
            cached = self._episodes[episode.id] = {
                **self.episode_simple(episode),
                "show": self.show_simple(episode.show),
            }
        return cached

    # -- users and devices ---------------------------------------------------------

    def user_ref(
        self, user_id: str, display_name: str | None = None, *, owner: bool = False
    ) -> JSON:
        ref: JSON = {
            "external_urls": {"spotify": f"{OPEN_URL}/user/{user_id}"},
            "href": f"{self.api}/users/{user_id}",
            "id": user_id,
            "type": "user",
            "uri": f"spotify:user:{user_id}",
        }
        if owner:
            ref = {"display_name": display_name, **ref}
        return ref

    def me(self, user: User) -> JSON:
        return {
            "country": user.country,
            "display_name": user.display_name,
            "email": user.email,
            "explicit_content": {"filter_enabled": False, "filter_locked": False},
            "external_urls": {"spotify": f"{OPEN_URL}/user/{user.id}"},
            "followers": {"href": None, "total": 0},
            "href": f"{self.api}/users/{user.id}",
            "id": user.id,
            "images": [],
            "product": user.product,
            "type": "user",
            "uri": user.uri,
        }

    def device(self, device: Device, active_id: str | None) -> JSON:
        return {
            "id": device.id,
            "is_active": device.id == active_id,
            "is_private_session": device.is_private_session,
            "is_restricted": device.is_restricted,
            "name": device.name,
            "supports_volume": device.supports_volume,
            "type": device.type,
            "volume_percent": device.volume_percent if device.supports_volume else None,
        }

    # -- playback --------------------------------------------------------------------

    def context(self, uri: str | None) -> JSON | None:
        if not uri:
            return None
        kind, _, ident = uri.removeprefix("spotify:").partition(":")
        return {
            "external_urls": {"spotify": f"{OPEN_URL}/{kind}/{ident}"},
            "href": f"{self.api}/{kind}s/{ident}",
            "type": kind,
            "uri": uri,
        }

    def currently_playing(self, user: User, now: float, *, episodes: bool = False) -> JSON:
        """The CurrentlyPlaying object (``/me/player/currently-playing``).

        As on Spotify: an episode is the ``item`` only when the request asked for
        episodes (``additional_types=episode``), else ``item`` is null with the type
        ``episode``; an ad break has a null ``item`` and ``context``, type ``ad``; a
        device in a private session shows no item, context or progress.
        """
        player = user.player
        kind = "ad" if player.in_ad else self.catalog.item_type(player.track_uri)
        shown = kind == "track" or (kind == "episode" and episodes)
        item = self.playable(player.track_uri) if shown else None
        context = None if player.in_ad else self.context(player.context_uri)
        progress: int | None = player.progress_ms(now) if kind != "unknown" else None
        device = user.devices.get(player.device_id or "")
        if device is not None and device.is_private_session:
            item, context, progress, kind = None, None, None, "unknown"
        return {
            "timestamp": int(player.changed_at * 1000),
            "context": context,
            "progress_ms": progress,
            "item": item,
            "currently_playing_type": kind,
            "actions": {"disallows": self.disallows(player, now)},
            "is_playing": player.is_playing,
        }

    def playback(self, user: User, now: float, *, episodes: bool = False) -> JSON:
        """The CurrentlyPlayingContext object (``/me/player``); the player has a device."""
        player = user.player
        device = user.devices[player.device_id or ""]
        return {
            "device": self.device(device, player.device_id),
            "shuffle_state": player.shuffle,
            "smart_shuffle": False,
            "repeat_state": player.repeat,
            **self.currently_playing(user, now, episodes=episodes),
        }

    @staticmethod
    def disallows(player: Player, now: float) -> dict[str, bool]:
        """Actions the player would refuse now (Spotify lists only the disallowed ones)."""
        disallowed: dict[str, bool] = {}
        if player.is_playing:
            disallowed["resuming"] = True
        else:
            disallowed["pausing"] = True
        if not player.has_next():
            disallowed["skipping_next"] = True
        if not player.has_previous(now):
            disallowed["skipping_prev"] = True
        if player.track_uri is None or player.in_ad:
            disallowed["seeking"] = True
        return disallowed

    def queue(self, player: Player) -> JSON:
        """The queue (tracks and episodes alike); during an ad nothing is ``currently_playing``."""
        upcoming = (self.playable(uri) for uri in player.upcoming())
        return {
            "currently_playing": self.playable(player.track_uri),
            "queue": [item for item in upcoming if item is not None],
        }

    # -- playlists -------------------------------------------------------------------

    def playlist_images(self, playlist: Playlist) -> list[JSON]:
        for entry in playlist.entries[:1]:
            track = self.catalog.track_by_uri(entry.uri)
            if track:
                return self.images(track.album)[:1]
        return []

    def _playlist_base(self, playlist: Playlist, owner_name: str | None) -> JSON:
        return {
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "external_urls": {"spotify": f"{OPEN_URL}/playlist/{playlist.id}"},
            "href": f"{self.api}/playlists/{playlist.id}",
            "id": playlist.id,
            "images": self.playlist_images(playlist),
            "name": playlist.name,
            "owner": self.user_ref(playlist.owner_id, owner_name, owner=True),
            "primary_color": None,
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            "type": "playlist",
            "uri": playlist.uri,
        }

    def playlist_simple(self, playlist: Playlist, owner_name: str | None) -> JSON:
        ref = {"href": f"{self.api}/playlists/{playlist.id}/items", "total": len(playlist.entries)}
        tracks_ref = {**ref, "href": f"{self.api}/playlists/{playlist.id}/tracks"}
        return {
            **self._playlist_base(playlist, owner_name),
            # Lists say "" where the full object says null (and the description agrees).
            "description": playlist.description or "",
            "items": ref,
            "tracks": tracks_ref,
        }

    def playlist_full(self, playlist: Playlist, owner_name: str | None) -> JSON:
        items = self.playlist_items(playlist, offset=0, limit=100, path="items")
        tracks = self.playlist_items(playlist, offset=0, limit=100, path="tracks")
        return {
            **self._playlist_base(playlist, owner_name),
            "followers": {"href": None, "total": playlist.followers},
            "items": items,
            "tracks": tracks,
        }

    def playlist_entry(self, entry: PlaylistEntry) -> JSON:
        item = self.track_uri(entry.uri)
        return {
            "added_at": entry.added_at,
            "added_by": self.user_ref(entry.added_by),
            "is_local": False,
            "primary_color": None,
            "item": item,
            "track": item,
        }

    def playlist_items(
        self,
        playlist: Playlist,
        *,
        offset: int,
        limit: int,
        path: str,
    ) -> JSON:
        entries = playlist.entries[offset : offset + limit]
        return self.page(
            f"{self.api}/playlists/{playlist.id}/{path}",
            [self.playlist_entry(entry) for entry in entries],
            offset=offset,
            limit=limit,
            total=len(playlist.entries),
        )

    # -- paging ----------------------------------------------------------------------

    @staticmethod
    def page(
        base: str,
        items: list[JSON],
        *,
        offset: int,
        limit: int,
        total: int,
        query: dict[str, str] | None = None,
    ) -> JSON:
        """A PagingObject whose ``href``/``next``/``previous`` repeat ``query``."""

        def link(at: int) -> str:
            return f"{base}?{urlencode({**(query or {}), 'offset': at, 'limit': limit})}"

        return {
            "href": link(offset),
            "items": items,
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }
