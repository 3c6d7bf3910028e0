"""The process's runtime as the doors reach it: the one module that touches ``app.state``.

The lifespan of ``serve`` (and a worker, for its endpoints) builds every long-lived
piece of the process once, into a typed, frozen runtime (``tunedeck.runtime.Runtime``),
and attaches it to the app while it runs (:func:`attached`); a door reaches it from its
connection (:func:`runtime_of`). The settings are attached when the app is made
(:func:`attach_settings`), so that what needs nothing else (pages, host checks) answers
before the lifespan, or without one.

kit cannot name the runtime's class: it sits above every domain. So each layer declares,
as a Protocol, the part of the runtime it reads (:class:`KitRuntime` here,
``connections.deps.ConnectionsRuntime``, ``player.deps.PlayerRuntime``, ...) and reads
it through an accessor of its own, typed by that Protocol; ``tunedeck.runtime`` proves to
mypy that its ``Runtime`` is every one of them. A piece renamed there fails type
checking, not a request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import httpx
from fastapi import Depends
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring

if TYPE_CHECKING:
    from tunedeck.kit.db import Database
    from tunedeck.kit.unit_of_work import UnitsOfWork


class NotRunning(RuntimeError):  # noqa: N818 (reads as a state)
    """The app's runtime was asked for outside its lifespan."""


class KitRuntime(Protocol):
    """The part of the runtime kit's dependencies read (the settings are the app's own,
    there before the runtime: :func:`settings_of`)."""

    @property
    def db(self) -> Database: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def http(self) -> httpx.AsyncClient: ...

    @property
    def units(self) -> UnitsOfWork: ...


@dataclass
class _Attachment:
    """What the app carries: its settings, and its runtime while its lifespan runs."""

    settings: Settings | None = None
    runtime: Any = None


def _attachment(app: Starlette) -> _Attachment:
    try:
        attachment: _Attachment = app.state.tunedeck
    except AttributeError:
        attachment = app.state.tunedeck = _Attachment()
    return attachment


def attach_settings(app: Starlette, settings: Settings) -> None:
    """The app's settings, from its making on (before its lifespan runs)."""
    _attachment(app).settings = settings


@contextmanager
def attached(app: Starlette, runtime: object) -> Iterator[None]:
    """``runtime`` is the app's for the block; the one before it (if any) again after."""
    attachment = _attachment(app)
    previous, attachment.runtime = attachment.runtime, runtime
    try:
        yield
    finally:
        attachment.runtime = previous


def current_runtime(app: Starlette) -> Any:
    """The app's runtime while its lifespan runs, else None. Typed by the caller, who
    assigns it to its layer's view (module doc)."""
    return _attachment(app).runtime


def app_runtime(app: Starlette) -> Any:
    """The app's runtime; :class:`NotRunning` outside its lifespan."""
    runtime = current_runtime(app)
    if runtime is None:
        raise NotRunning("the app's lifespan is not running: its pieces are not built")
    return runtime


def runtime_of(conn: HTTPConnection) -> Any:
    """The runtime of the app serving ``conn`` (:func:`app_runtime`)."""
    return app_runtime(conn.app)


def settings_of(conn: HTTPConnection) -> Settings:
    """The settings of the app serving ``conn`` (there from its making on)."""
    settings = _attachment(conn.app).settings
    if settings is None:
        raise NotRunning("not a TuneDeck app: it carries no settings")
    return settings


def kit_runtime(conn: HTTPConnection) -> KitRuntime:
    runtime: KitRuntime = runtime_of(conn)
    return runtime


def get_app_settings(conn: HTTPConnection) -> Settings:
    return settings_of(conn)


def get_keyring(conn: HTTPConnection) -> Keyring:
    return kit_runtime(conn).keyring


def get_http_client(conn: HTTPConnection) -> httpx.AsyncClient:
    return kit_runtime(conn).http


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
KeyringDep = Annotated[Keyring, Depends(get_keyring)]
HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
