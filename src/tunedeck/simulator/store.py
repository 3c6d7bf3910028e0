"""Users, their devices and playlists, built from the configuration."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tunedeck.simulator.catalog import Catalog, stable_id
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.playback import Player
from tunedeck.simulator.specs import UserConfig


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
    playlists: dict[str, Playlist] = {}
    users: dict[str, User] = {}
    added_at = utc_iso(now - 30 * 86400)
    for user_config in config.users:
        for index, spec in enumerate(user_config.playlists):
            playlist_id = spec.id or stable_id(f"playlist:{user_config.id}:{index}")
            if spec.tracks is not None:
                uris = list(spec.tracks)
            else:
                pick = random.Random(f"{config.seed}:{playlist_id}")
                count = min(spec.track_count, len(catalog.tracks))
                uris = [track.uri for track in pick.sample(catalog.tracks, count)]
            playlists[playlist_id] = Playlist(
                id=playlist_id,
                name=spec.name,
                owner_id=user_config.id,
                description=spec.description,
                public=spec.public,
                collaborative=spec.collaborative,
                followers=spec.followers,
                entries=[PlaylistEntry(uri, added_at, user_config.id) for uri in uris],
            )
    for user_config in config.users:
        users[user_config.id] = _build_user(user_config, config, catalog, playlists, now)
    return users, playlists


def _build_user(
    spec: UserConfig,
    config: SimulatorConfig,
    catalog: Catalog,
    playlists: dict[str, Playlist],
    now: float,
) -> User:
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
    owned = [p.id for p in playlists.values() if p.owner_id == spec.id]
    library = owned + [pid for pid in spec.follows if pid in playlists and pid not in owned]
    player = Player(
        duration_of=catalog.duration_of,
        rng=random.Random(f"{config.seed}:shuffle:{spec.id}"),
        anchor=now,
        changed_at=now,
    )
    playback = spec.playback
    if playback is not None and devices:
        device_id = playback.device_id if playback.device_id in devices else next(iter(devices))
        player.device_id = device_id
        source = playlists.get(playback.playlist_id or "") or next(
            (playlists[pid] for pid in library if playlists[pid].entries), None
        )
        if source is not None and source.entries:
            player.shuffle = playback.shuffle
            player.repeat = playback.repeat
            start = min(playback.offset, len(source.entries) - 1)
            player.load(now, source.track_uris(), context_uri=source.uri, start=start)
            player.seek(now, playback.progress_ms)
            player.is_playing = playback.is_playing
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
