"""Users, their devices and playlists, built from the configuration."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tunedeck.simulator.catalog import Catalog, stable_id
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.playback import Player
from tunedeck.simulator.specs import PlaybackConfig, UserConfig


@dataclass
class Device:
    """A Spotify Connect device; ``is_restricted`` devices refuse Web API commands."""

    id: str
    name: str
    type: str
    volume_percent: int
    is_restricted: bool = False
    supports_volume: bool = True
    is_private_session: bool = False


@dataclass
class PlaylistEntry:
    """One item of a playlist: which track, when and by whom it was added."""

    uri: str
    added_at: str
    added_by: str


@dataclass
class Playlist:
    """A playlist; ``version`` changes with every modification (it makes the snapshot id)."""

    id: str
    name: str
    owner_id: str
    description: str | None = None
    public: bool = True
    collaborative: bool = False
    followers: int = 0
    entries: list[PlaylistEntry] = field(default_factory=list)
    version: int = 1

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.id}"

    @property
    def snapshot_id(self) -> str:
        digest = hashlib.sha256(f"{self.id}:{self.version}".encode()).digest()[:24]
        return base64.b64encode(digest).decode()

    def readable_by(self, user: User) -> bool:
        """Public, owned by ``user``, or in their library."""
        return self.public or self.owner_id == user.id or self.id in user.library

    def track_uris(self) -> list[str]:
        return [entry.uri for entry in self.entries]

    def touch(self) -> None:
        """Record a modification (new snapshot id)."""
        self.version += 1


@dataclass
class User:
    """A Spotify user with devices, a library of playlists and a player."""

    id: str
    display_name: str | None
    product: str
    email: str | None
    country: str
    devices: dict[str, Device]
    #: Playlist ids in the user's library (owned and followed), newest first.
    library: list[str]
    player: Player

    @property
    def premium(self) -> bool:
        return self.product == "premium"

    @property
    def uri(self) -> str:
        return f"spotify:user:{self.id}"


def utc_iso(seconds: float) -> str:
    """A timestamp as Spotify writes them: ``2016-10-11T13:44:40Z``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_world(
    config: SimulatorConfig, catalog: Catalog, now: float
) -> tuple[dict[str, User], dict[str, Playlist]]:
    """Create every configured user and playlist, and start the configured playback."""
    added_at = utc_iso(now - 30 * 86400)
    playlists = {
        playlist.id: playlist
        for user_config in config.users
        for playlist in _playlists_of(user_config, config.seed, catalog, added_at)
    }
    users = {
        user_config.id: _build_user(user_config, config.seed, catalog, playlists, now)
        for user_config in config.users
    }
    return users, playlists


def _playlists_of(
    spec: UserConfig, seed: int, catalog: Catalog, added_at: str
) -> Iterator[Playlist]:
    """A user's playlists: their tracks as listed, or picked from the catalog by the seed."""
    for index, playlist_spec in enumerate(spec.playlists):
        playlist_id = playlist_spec.id or stable_id(f"playlist:{spec.id}:{index}")
        if playlist_spec.tracks is not None:
            uris = list(playlist_spec.tracks)
        else:
            pick = random.Random(f"{seed}:{playlist_id}")
            count = min(playlist_spec.track_count, len(catalog.tracks))
            uris = [track.uri for track in pick.sample(catalog.tracks, count)]
        yield Playlist(
            id=playlist_id,
            name=playlist_spec.name,
            owner_id=spec.id,
            description=playlist_spec.description,
            public=playlist_spec.public,
            collaborative=playlist_spec.collaborative,
            followers=playlist_spec.followers,
            entries=[PlaylistEntry(uri, added_at, spec.id) for uri in uris],
        )


def _build_user(
    spec: UserConfig,
    seed: int,
    catalog: Catalog,
    playlists: dict[str, Playlist],
    now: float,
) -> User:
    devices = _devices_of(spec)
    owned = [p.id for p in playlists.values() if p.owner_id == spec.id]
    library = owned + [pid for pid in spec.follows if pid in playlists and pid not in owned]
    player = Player(
        duration_of=catalog.duration_of,
        rng=random.Random(f"{seed}:shuffle:{spec.id}"),
        anchor=now,
        changed_at=now,
    )
    if spec.playback is not None and devices:
        source = _starting_playlist(spec.playback, library, playlists)
        _start_playback(player, spec.playback, list(devices), source, now)
    return User(
        id=spec.id,
        display_name=spec.display_name,
        product=spec.product,
        email=spec.email,
        country=spec.country,
        devices=devices,
        library=library,
        player=player,
    )


def _starting_playlist(
    playback: PlaybackConfig, library: list[str], playlists: dict[str, Playlist]
) -> Playlist | None:
    """What configured playback plays: the playlist it names, else the first of the
    user's library that has items."""
    named = playlists.get(playback.playlist_id or "")
    return named or next((playlists[pid] for pid in library if playlists[pid].entries), None)


def _devices_of(spec: UserConfig) -> dict[str, Device]:
    """A user's devices by id (an id left out is derived from the user and the position)."""
    devices = {}
    for index, device_spec in enumerate(spec.devices):
        device_id = (
            device_spec.id or hashlib.sha1(f"device:{spec.id}:{index}".encode()).hexdigest()  # noqa: S324 - an id, not security
        )
        devices[device_id] = Device(
            id=device_id,
            name=device_spec.name,
            type=device_spec.type,
            volume_percent=device_spec.volume_percent,
            is_restricted=device_spec.is_restricted,
            supports_volume=device_spec.supports_volume,
            is_private_session=device_spec.is_private_session,
        )
    return devices


def _start_playback(
    player: Player,
    playback: PlaybackConfig,
    device_ids: list[str],
    source: Playlist | None,
    now: float,
) -> None:
    """Put the player where the configuration says: on its device (else the first one),
    playing ``source`` from the configured item and progress."""
    player.device_id = playback.device_id if playback.device_id in device_ids else device_ids[0]
    if source is None or not source.entries:
        return
    player.shuffle = playback.shuffle
    player.repeat = playback.repeat
    start = min(playback.offset, len(source.entries) - 1)
    player.load(now, source.track_uris(), context_uri=source.uri, start=start)
    player.seek(now, playback.progress_ms)
    player.is_playing = playback.is_playing
