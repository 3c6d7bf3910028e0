"""A simulator served over loopback HTTP, reset before each test, and helpers to drive it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import simulator
from tests.support.simulator import Sim

sim_server = simulator.sim_server
sim = simulator.sim


@pytest.fixture
def demo(sim: Sim) -> Iterator[httpx.Client]:
    """A Web API client for the premium demo user (all scopes)."""
    with sim.api("demo") as client:
        yield client
