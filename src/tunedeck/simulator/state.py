"""The simulator's whole mutable state (``app.state.simulator``): clock, world, tokens, stats."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from typing import Any

from pydantic import ValidationError

from tunedeck.simulator.catalog import Catalog
from tunedeck.simulator.catalog_builder import build_catalog
from tunedeck.simulator.config import KNOB_FIELDS, SimulatorConfig
from tunedeck.simulator.errors import SpotifyError
from tunedeck.simulator.serialize import Renderer
from tunedeck.simulator.specs import AppConfig
from tunedeck.simulator.store import Playlist, User, build_world
from tunedeck.simulator.tokens import TokenStore

#: Renderers are cached per origin (scheme, host, mount prefix); a few are plenty.
_MAX_RENDERERS = 32


class Clock:
    """Wall-clock seconds plus an offset that tests can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


REQUEST_LOG_SIZE = 1000


class Stats:
    """Requests received, by route template, and token requests by grant type; Web API
    requests being handled right now and the most that ever were at once."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.token_requests: Counter[str] = Counter(authorization_code=0, refresh_token=0)
        self.in_flight = 0
        self.max_in_flight = 0
        # The latest Web API requests as received: what a client really sent.
        self.log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._waiting: list[tuple[int, asyncio.Event]] = []

    def enter(self) -> None:
        """A Web API request starts being handled."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        waiting = []
        for count, event in self._waiting:
            if self.max_in_flight >= count:
                event.set()
            else:
                waiting.append((count, event))
        self._waiting = waiting

    def leave(self) -> None:
        """A Web API request has its answer."""
        self.in_flight -= 1

    def reached(self, count: int) -> asyncio.Event:
        """An event set once ``count`` Web API requests have been in flight at once."""
        event = asyncio.Event()
        if self.max_in_flight >= count:
            event.set()
        else:
            self._waiting.append((count, event))
        return event

    def record(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        """One Web API request as it arrived (method, path, query parameters, JSON body)."""
        self.log.append({"method": method, "path": path, "query": query, "body": body})

    def snapshot(self) -> dict[str, Any]:
        return {
            "total": sum(self.requests.values()),
            "requests": dict(self.requests),
            "token_requests": dict(self.token_requests),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }


class SimulatorState:
    """Everything the simulator knows; ``reset()`` returns it to how the config describes it."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.base_config = config
        self.catalog: Catalog = build_catalog(config.seed, config.catalog_size)
        self.clock = Clock()
        self._renderers: dict[str, Renderer] = {}
        self.reset()

    def reset(self) -> None:
        """Restore users, playback, playlists, tokens, counters, clock and knobs."""
        self.config = self.base_config.model_copy(deep=True)
        self.clock.offset = 0.0
        self.apps: dict[str, AppConfig] = {app.client_id: app for app in self.config.apps}
        self.users: dict[str, User]
        self.playlists: dict[str, Playlist]
        self.users, self.playlists = build_world(self.config, self.catalog, self.clock.now())
        self.tokens = TokenStore()
        self.stats = Stats()
        self.rate_windows: dict[str, deque[float]] = {}
        self.fault_rng = random.Random(self.config.seed)
        self.created_playlists = 0

    def now(self) -> float:
        return self.clock.now()

    def renderer(self, origin: str) -> Renderer:
        """The serializer for URLs under ``origin`` (cached: it memoizes track objects)."""
        renderer = self._renderers.get(origin)
        if renderer is None:
            if len(self._renderers) >= _MAX_RENDERERS:
                self._renderers.clear()
            renderer = self._renderers[origin] = Renderer(self.catalog, origin)
        return renderer

    def user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise SpotifyError(404, f"Unknown user: {user_id}")
        return user

    def update_knobs(self, changes: dict[str, Any]) -> None:
        """Change run-time knobs, validated like the configuration file."""
        unknown = sorted(set(changes) - set(KNOB_FIELDS))
        if unknown:
            raise SpotifyError(400, f"Unknown knob(s): {', '.join(unknown)}")
        data = self.config.model_dump()
        data.update(changes)
        try:
            self.config = SimulatorConfig.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SpotifyError(400, f"Invalid {where}: {first['msg']}") from None
