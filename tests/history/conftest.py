"""Play history fixtures: the real-time package's (a database per backend, the simulator
behind its recorder, the bus), and apps that poll in-process with the recorder on."""

from __future__ import annotations

from tests.realtime.conftest import (
    bus,
    bus_url,
    database,
    database_url,
    nothing_watched,
    recorded_sim,
    recorder,
    settings,
    sim,
)

__all__ = [
    "bus",
    "bus_url",
    "database",
    "database_url",
    "nothing_watched",
    "recorded_sim",
    "recorder",
    "settings",
    "sim",
]
