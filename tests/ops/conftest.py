"""Fixtures of the operations tests: the storage fixtures, the app, keys to call it with."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accounts.conftest import make_caller as accounts_make_caller
from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support.app import app_settings
from tests.support.redis_server import own_redis as redis_server_fixture
from tunedeck.config import Settings

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
