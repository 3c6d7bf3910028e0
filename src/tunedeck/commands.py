"""What the operator commands (``tunedeck migrate | crypto | account | key | overlay-token``)
share: their work run with the settings, expected errors as a message, and units of work
on the migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer

from tunedeck.config import Settings, get_settings
from tunedeck.kit.crypto import DecryptionError, KeyringError
from tunedeck.kit.db import Database
from tunedeck.kit.errors import TuneDeckError
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.migrations.apply import upgrade_database

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def run_cli(work: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` with the process settings; expected errors become a message and exit 1."""
    try:
        return asyncio.run(work(get_settings()))
    except TuneDeckError as exc:
        raise fail(exc.message) from None
    except (KeyringError, DecryptionError) as exc:
        raise fail(str(exc)) from None


def with_units(work: Callable[[UnitsOfWork], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` with the units of work of the configured database (migrated first, so
    operator commands work on a fresh data directory too). Nothing relays events in a
    command: what one records waits for the server's relay."""

    async def run(settings: Settings) -> T:
        await upgrade_database(settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        try:
            return await work(UnitsOfWork(db))
        finally:
            await db.dispose()

    return run_cli(run)
