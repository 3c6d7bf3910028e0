"""Fixtures of the operations tests: the storage fixtures, the app, keys to call it with."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.accounts.conftest import make_caller as accounts_make_caller
from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support.app import app_settings
from tests.support.redis_server import own_redis as redis_server_fixture
from tunedeck.config import Settings
from tunedeck.kit.logs import make_handler

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
