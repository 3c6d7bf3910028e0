"""Typed access to what the app's lifespan put on ``app.state``.

``app.state.settings`` (Settings), ``app.state.db`` (Database), ``app.state.keyring``
(Keyring), ``app.state.http`` (the pooled httpx.AsyncClient).
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends
from starlette.requests import HTTPConnection

from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring


def get_app_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def get_keyring(conn: HTTPConnection) -> Keyring:
    keyring: Keyring = conn.app.state.keyring
    return keyring


def get_http_client(conn: HTTPConnection) -> httpx.AsyncClient:
    client: httpx.AsyncClient = conn.app.state.http
    return client


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
KeyringDep = Annotated[Keyring, Depends(get_keyring)]
HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
