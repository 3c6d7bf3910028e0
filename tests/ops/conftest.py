"""Fixtures of the operations tests: the storage fixtures, the app, keys to call it with."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.accounts.conftest import make_caller as accounts_make_caller
from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support.app import app_settings
from tests.support.redis_server import own_redis as redis_server_fixture
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.kit.logs import make_handler
from tunedeck.ops.readiness import Readiness
from tunedeck.runtime import Runtime

database_url = storage.database_url
database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring
make_caller = accounts_make_caller
own_redis = redis_server_fixture
app = app_fixtures.app
client = app_fixtures.client


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(database_url, tmp_path)


def readiness_of(
    runtime: Runtime,
    *,
    db: Database | None = None,
    settings: Settings | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Readiness:
    """Checks on the runtime's pieces, with a database, settings or clock of the test's."""
    return Readiness(
        settings=settings or runtime.settings,
        db=db or runtime.db,
        bus=runtime.bus,
        relay=runtime.relay,
        metrics=runtime.metrics,
        clock=clock,
    )


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "tunedeck.access"]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """JSON lines of every logger, as ``configure_logging("json")`` writes them."""
    captured = Captured()
    handler = make_handler("json", captured.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
