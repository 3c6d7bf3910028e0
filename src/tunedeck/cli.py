"""The ``tunedeck`` command: demo, serve, simulator and operator commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunedeck.accounts.cli import account_app, key_app, overlay_app
from tunedeck.chat.cli import chat_token_app
from tunedeck.commands import fail, run_cli
from tunedeck.config import Settings
from tunedeck.history.cli import stream_app
from tunedeck.kit.crypto import (
    Keyring,
    KeyringError,
    key_file_path,
    load_keyring,
    new_key_entry,
    write_key_file,
)
from tunedeck.kit.logs import configure_logging

app = typer.Typer(
    name="tunedeck",
    help="TuneDeck: Spotify for live streamers (overlay, dashboard player, REST and GraphQL).",
    no_args_is_help=True,
    add_completion=False,
)
crypto_app = typer.Typer(
    help="Encryption keys for the secrets stored in the database.", no_args_is_help=True
)
app.add_typer(account_app, name="account")
app.add_typer(key_app, name="key")
app.add_typer(overlay_app, name="overlay-token")
app.add_typer(chat_token_app, name="chat-token")
app.add_typer(crypto_app, name="crypto")
app.add_typer(stream_app, name="stream")

# The options of the commands that serve TuneDeck (demo and serve).
ServerPort = Annotated[
    int | None, typer.Option(help="Port to listen on (default TUNEDECK_PORT or 8000).")
]
ServerHost = Annotated[
    str | None, typer.Option(help="Interface to bind (default TUNEDECK_HOST or 127.0.0.1).")
]


@app.command()
def simulator(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    config: Annotated[
        Path | None, typer.Option(help="JSON file with extra apps, users and knobs.")
    ] = None,
) -> None:
    """Run the Spotify simulator alone (Web API under /v1, accounts service at /authorize)."""
    from tunedeck.simulator.server import serve

    serve(host=host, port=port, config_path=config)


@app.command()
def demo(
    port: ServerPort = None,
    host: ServerHost = None,
) -> None:
    """Start the demo with zero configuration: TuneDeck and a Spotify simulator on one port,
    account 'demo' connected and playing; prints an admin key and the URLs."""
    from tunedeck.config import get_settings
    from tunedeck.demo import DemoError, run_demo

    settings = get_settings()
    _start_logging(settings)
    try:
        run_demo(settings, host=host, port=port)
    except (DemoError, KeyringError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


@app.command()
def serve(
    port: ServerPort = None,
    host: ServerHost = None,
) -> None:
    """Serve TuneDeck (configured by TUNEDECK_*). On a fresh data directory it makes the
    database and the encryption key file, and prints a one-time setup link."""
    from tunedeck.config import get_settings, listening_settings
    from tunedeck.realtime.serving import run_serving
    from tunedeck.serve import ServeError, ensure_keys
    from tunedeck.serve import serve as run_serve

    settings = listening_settings(get_settings(), host, port)
    _start_logging(settings)
    try:
        ensure_keys(settings)  # fail before listening
        run_serving(run_serve(settings))
    except (KeyringError, ServeError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


@app.command()
def worker() -> None:
    """Poll the watched accounts and relay events, with no API (configured by TUNEDECK_*).
    Several workers on PostgreSQL share the accounts; serve then runs with
    TUNEDECK_POLL_IN_PROCESS=false. TUNEDECK_WORKER_METRICS_PORT serves /metrics,
    /healthz and /readyz on that port."""
    from tunedeck.config import get_settings
    from tunedeck.ops.app import worker_endpoints
    from tunedeck.realtime.worker import run_worker

    settings = get_settings()
    try:
        load_keyring(settings.encryption_keys, settings.data_dir)  # fail before starting
    except KeyringError as exc:
        raise fail(str(exc)) from None
    _start_logging(settings)
    run_worker(settings, worker_endpoints)


@app.command()
def migrate() -> None:
    """Apply the database migrations (TUNEDECK_DATABASE_URL; default SQLite in the data dir)."""
    from tunedeck.migrations.apply import current_revision, upgrade_database

    async def work(settings: Settings) -> str | None:
        await upgrade_database(settings.resolved_database_url)
        return await current_revision(settings.resolved_database_url)

    typer.echo(f"database at revision {run_cli(work)}")


@app.command()
def doctor() -> None:
    """Check this installation: database and migrations, the key file, Redis, the public
    URL and redirect URI, the clock, Spotify, each account's Spotify connection, the
    server. Exit status 1 when a check fails."""
    import asyncio

    from tunedeck.config import get_settings
    from tunedeck.doctor.service import from_the_command_line

    settings = get_settings()
    found = asyncio.run(from_the_command_line(settings))
    for check in found.checks:
        mark = (
            typer.style("✓", fg=typer.colors.GREEN)
            if check.ok
            else typer.style("✗", fg=typer.colors.RED)
        )
        typer.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok:
            typer.echo(f"    → {check.fix}")
    if not found.ok:
        raise typer.Exit(1)


@crypto_app.command("new-key")
def crypto_new_key() -> None:
    """Print a fresh key entry 'kid:base64key' for TUNEDECK_ENCRYPTION_KEYS (first = primary)."""
    typer.echo(new_key_entry())


@crypto_app.command("status")
def crypto_status() -> None:
    """Show the primary key id and how many stored values each key encrypted."""
    from tunedeck.kit.db import Database
    from tunedeck.kit.rotation import values_by_key
    from tunedeck.migrations import import_models
    from tunedeck.migrations.apply import upgrade_database

    import_models()  # every table, so that every encrypted column is counted

    async def work(settings: Settings) -> None:
        keyring = load_keyring(settings.encryption_keys, settings.data_dir)
        await upgrade_database(settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        try:
            counts = await values_by_key(db)
        finally:
            await db.dispose()
        typer.echo(f"primary key: {keyring.primary_id}")
        for kid in sorted(set(keyring.key_ids) | set(counts)):
            known = "" if kid in keyring.key_ids else "  (NOT IN THE KEYRING)"
            typer.echo(f"{kid}: {counts.get(kid, 0)} values{known}")

    run_cli(work)


@crypto_app.command("rotate")
def crypto_rotate(
    key: Annotated[
        str | None,
        typer.Option(help="Make this 'kid:base64key' primary instead of generating a new key."),
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Afterwards, drop the keys no value uses any more.")
    ] = False,
) -> None:
    """Make a new key primary and re-encrypt every stored secret with it.

    With the demo key file (no TUNEDECK_ENCRYPTION_KEYS), the file is updated: the new
    key goes first, the old ones stay for reading unless --prune. With
    TUNEDECK_ENCRYPTION_KEYS, the new value to set is printed; servers must run with it.

    Without downtime: `tunedeck crypto new-key`, put it first in TUNEDECK_ENCRYPTION_KEYS
    and restart the servers (they write with it and still read the old keys), then
    `tunedeck crypto rotate --key <that entry> --prune` and set the value it prints.
    """
    from tunedeck.kit.db import Database
    from tunedeck.kit.rotation import reencrypt_all, values_by_key
    from tunedeck.migrations import import_models
    from tunedeck.migrations.apply import upgrade_database

    import_models()  # every table, so that every encrypted column is rotated

    async def work(settings: Settings) -> None:
        current = load_keyring(settings.encryption_keys, settings.data_dir)
        rotated = current.with_primary(Keyring.parse(key) if key else Keyring.generate())
        in_file = not settings.encryption_keys
        if in_file:
            # Saved before any row changes, so every stored value stays readable.
            write_key_file(key_file_path(settings.data_dir), rotated)
        await upgrade_database(settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        try:
            report = await reencrypt_all(db, rotated)
            left = await values_by_key(db)
        finally:
            await db.dispose()
        stale = {kid: n for kid, n in left.items() if kid != rotated.primary_id}
        if stale:
            raise fail(f"values still on old keys: {stale}")
        typer.echo(f"primary key is now {rotated.primary_id}; re-encrypted {report.total} values")
        final = rotated.without(rotated.key_ids) if prune else rotated
        if in_file:
            write_key_file(key_file_path(settings.data_dir), final)
            typer.echo(f"updated {key_file_path(settings.data_dir)}; restart running servers")
        else:
            typer.echo("set this and restart the servers:", err=True)
            typer.echo(f"TUNEDECK_ENCRYPTION_KEYS={final.serialize()}")

    run_cli(work)


def _start_logging(settings: Settings) -> None:
    """Logging of the commands that run TuneDeck (TUNEDECK_LOG_FORMAT, TUNEDECK_LOG_LEVEL)."""
    configure_logging(settings.log_format, settings.log_level.upper())


def main() -> None:
    app()
