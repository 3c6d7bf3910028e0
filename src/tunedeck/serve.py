"""``tunedeck serve``: from a fresh data directory to a running server, nothing else to do.

Before listening: the encryption keys (``TUNEDECK_ENCRYPTION_KEYS``, else the key file
in the data directory, made on first run when the database is the embedded SQLite
one: a shared PostgreSQL deployment configures its keys itself), the migrations, and
on a fresh database a one-time setup link (``setup.service``). Once the server listens,
the dashboard URL and that link are printed (``setup.console``).
"""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from tunedeck.app import create_app, prepare_storage
from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring, key_file_path, load_keyring, write_key_file
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.realtime.serving import freeze_startup_objects, uvicorn_options
from tunedeck.setup import console
from tunedeck.setup.service import FirstRun, prepare_link


class ServeError(RuntimeError):
    """The server could not start (the message says why)."""


def embedded_database(settings: Settings) -> bool:
    url = settings.database_url
    return url is None or url.startswith("sqlite")


def ensure_keys(settings: Settings) -> None:
    """The configured keyring, or on first run of the embedded setup a new key file
    (announced once, with where it is). Raises ``KeyringError`` when neither applies."""
    path = key_file_path(settings.data_dir)
    if settings.encryption_keys or path.exists() or not embedded_database(settings):
        load_keyring(settings.encryption_keys, settings.data_dir)
        return
    write_key_file(path, Keyring.generate())
    typer.echo(console.key_file_notice(path))


async def first_run(settings: Settings) -> FirstRun:
    db = Database(settings.resolved_database_url)
    try:
        return await prepare_link(UnitsOfWork(db))
    finally:
        await db.dispose()


async def serve(settings: Settings) -> None:
    """Migrate, make the setup link if due, serve, and say where once listening."""
    await prepare_storage(settings)
    state = await first_run(settings)
    app = create_app(settings)
    freeze_startup_objects()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():  # failed to start (port taken...): uvicorn said why
            await serving
            raise ServeError(f"the server did not start on {settings.host}:{settings.port}")
        await asyncio.sleep(0.02)
    typer.echo(console.banner(state, settings.public_url))
    await serving
