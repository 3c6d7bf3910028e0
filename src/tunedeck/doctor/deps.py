"""What the doctor's door reads of the process's runtime (``kit.deps``)."""

from __future__ import annotations

from typing import Protocol

import httpx

from tunedeck.config import Settings
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.db import Database
from tunedeck.realtime.poller import Poller


class DoctorRuntime(Protocol):
    """The part of the process's runtime the doctor looks at (``kit.deps``)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def http(self) -> httpx.AsyncClient: ...
    @property
    def token_manager(self) -> TokenManager: ...
    @property
    def poller(self) -> Poller | None: ...
