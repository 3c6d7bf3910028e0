"""Configuration of the Spotify simulator: catalog seed, knobs, apps and users.

A JSON file (``SimulatorConfig.from_file``) may set any field; the built-in demo
app and users are always present and the file's apps and users are added to them
(an entry with the same id replaces the built-in one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RepeatMode = Literal["off", "context", "track"]

#: The fields of ``SimulatorConfig`` that may change at run time (``PATCH /_sim/config``).
KNOB_FIELDS = (
    "latency_ms",
    "error_rate",
    "rate_limit_per_30s",
    "rate_limit_retry_after",
    "quota_exceeded",
    "development_mode",
    "command_status",
    "token_ttl_seconds",
    "hold_until_concurrent",
    "hold_requests",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppConfig(_Strict):
    """A registered Spotify app (OAuth client)."""

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    name: str = "TuneDeck"
    #: The registered redirect URIs: ``/authorize`` redirects to these only (matched as
    #: Spotify does: exactly, a loopback address registered without a port on any port);
    #: none registered, none allowed.
    redirect_uris: list[str] = Field(default_factory=list)


class DeviceConfig(_Strict):
    """A Spotify Connect device of a user."""

    id: str | None = None
    name: str
    type: str = "Computer"
    volume_percent: int = Field(default=50, ge=0, le=100)
    is_restricted: bool = False
    supports_volume: bool = True
    is_private_session: bool = False


class PlaylistConfig(_Strict):
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


class PlaybackConfig(_Strict):
    """What a user's player is doing when the simulator starts."""

    device_id: str | None = None
    #: Id of a playlist (one of the user's or a followed one) to play as the context.
    playlist_id: str | None = None
    offset: int = Field(default=0, ge=0)
    progress_ms: int = Field(default=0, ge=0)
    is_playing: bool = True
    shuffle: bool = False
    repeat: RepeatMode = "off"


class UserConfig(_Strict):
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


class SimulatorConfig(_Strict):
    """Everything the simulator can be told: catalog, knobs, apps and users."""

    seed: int = 20240601
    catalog_size: int = Field(default=3000, ge=50, le=100_000)
    token_ttl_seconds: int = Field(default=3600, ge=1)
    latency_ms: float = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0, ge=0, le=1)
    rate_limit_per_30s: int | None = Field(default=None, ge=1)
    rate_limit_retry_after: int = Field(default=1, ge=0)
    quota_exceeded: bool = False
    development_mode: bool = False
    command_status: Literal[204, 202, 200] = 204
    #: Hold every Web API request until this many have been in flight at once (0: off),
    #: so that a test can tell calls made in parallel from calls made one after the other.
    hold_until_concurrent: int = Field(default=0, ge=0, le=1000)
    #: Web API requests wait (received and counted, not yet answered) while this is true,
    #: so that a test can look at what its client does while Spotify has not answered.
    hold_requests: bool = False
    apps: list[AppConfig] = Field(default_factory=list)
    users: list[UserConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _include_defaults(self) -> SimulatorConfig:
        """Put the built-in apps and users first unless the config replaces them by id."""
        from tunedeck.simulator.defaults import default_apps, default_users

        app_ids = {app.client_id for app in self.apps}
        user_ids = {user.id for user in self.users}
        missing_apps = [app for app in default_apps() if app.client_id not in app_ids]
        missing_users = [user for user in default_users() if user.id not in user_ids]
        if missing_apps:
            self.apps = [*missing_apps, *self.apps]
        if missing_users:
            self.users = [*missing_users, *self.users]
        return self

    @classmethod
    def from_file(cls, path: Path | str) -> SimulatorConfig:
        """Read a JSON configuration file; absent fields keep their defaults."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.model_validate(data)

    def knobs(self) -> dict[str, object]:
        """The run-time knobs as a plain dict."""
        return {name: getattr(self, name) for name in KNOB_FIELDS}
