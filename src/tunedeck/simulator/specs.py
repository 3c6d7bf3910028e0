"""What the simulator's apps and users are made of: an app (OAuth client), a user, their
devices and playlists, and what their player does when the simulator starts.

``SimulatorConfig`` (``config.py``) lists them; ``defaults.py`` builds the built-in ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RepeatMode = Literal["off", "context", "track"]


class Strict(BaseModel):
    """A model refusing unknown fields: a misspelt key in a config file is an error."""

    model_config = ConfigDict(extra="forbid")


class AppConfig(Strict):
    """A registered Spotify app (OAuth client)."""

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    name: str = "TuneDeck"
    #: The registered redirect URIs: ``/authorize`` redirects to these only (matched as
    #: Spotify does: exactly, a loopback address registered without a port on any port);
    #: none registered, none allowed.
    redirect_uris: list[str] = Field(default_factory=list)
    #: Development mode: the Spotify users allowed to use the app (its User Management
    #: list); the Web API answers anyone else's token 403 "User not registered in the
    #: Developer Dashboard". None: any user (an app with extended quota).
    users: list[str] | None = None


class DeviceConfig(Strict):
    """A Spotify Connect device of a user."""

    id: str | None = None
    name: str
    type: str = "Computer"
    volume_percent: int = Field(default=50, ge=0, le=100)
    is_restricted: bool = False
    supports_volume: bool = True
    is_private_session: bool = False


class PlaylistConfig(Strict):
    """A playlist owned by a user; tracks are explicit URIs or picked from the catalog."""

    id: str | None = None
    name: str
    description: str | None = None
    public: bool = True
    collaborative: bool = False
    #: How many catalog tracks to pick (deterministically) when ``tracks`` is absent.
    track_count: int = Field(default=20, ge=0, le=500)
    tracks: list[str] | None = None
    followers: int = Field(default=0, ge=0)


class PlaybackConfig(Strict):
    """What a user's player is doing when the simulator starts."""

    device_id: str | None = None
    #: Id of a playlist (one of the user's or a followed one) to play as the context.
    playlist_id: str | None = None
    offset: int = Field(default=0, ge=0)
    progress_ms: int = Field(default=0, ge=0)
    is_playing: bool = True
    shuffle: bool = False
    repeat: RepeatMode = "off"


class UserConfig(Strict):
    """A Spotify user: product, devices, playlists, followed playlists, playback."""

    id: str = Field(min_length=1)
    display_name: str | None = None
    product: Literal["premium", "free"] = "premium"
    email: str | None = None
    country: str = "US"
    devices: list[DeviceConfig] = Field(default_factory=list)
    playlists: list[PlaylistConfig] = Field(default_factory=list)
    #: Ids of playlists owned by other users that this user follows.
    follows: list[str] = Field(default_factory=list)
    playback: PlaybackConfig | None = None
