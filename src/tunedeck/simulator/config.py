"""Configuration of the Spotify simulator: catalog seed, knobs, apps and users.

A JSON file (``SimulatorConfig.from_file``) may set any field; the built-in demo
app and users are always present and the file's apps and users are added to them
(an entry with the same id replaces the built-in one).

The pieces it lists are defined in ``specs.py`` (which ``defaults.py`` builds on); the
two a caller adding apps or users needs, ``AppConfig`` and ``UserConfig``, are handed on here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from tunedeck.simulator.defaults import default_apps, default_users
from tunedeck.simulator.specs import AppConfig, Strict, UserConfig

__all__ = ["KNOB_FIELDS", "AppConfig", "SimulatorConfig", "UserConfig"]

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
    "refused_uris",
)


class SimulatorConfig(Strict):
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
    #: Items that ``play`` and ``queue`` refuse (403, reason UNKNOWN), as Spotify refuses
    #: an item its user may not play there: a test's stand-in for such a refusal.
    refused_uris: list[str] = Field(default_factory=list, max_length=100)
    apps: list[AppConfig] = Field(default_factory=list)
    users: list[UserConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _include_defaults(self) -> SimulatorConfig:
        """Put the built-in apps and users first unless the config replaces them by id."""
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
