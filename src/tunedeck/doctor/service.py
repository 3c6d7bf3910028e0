"""The doctor's reports: the installation's checks, then the account's Spotify token and
the poller (on the admin's Health page: the caller's account and this process's poller;
from the command line: every account, and whether the server answers)."""

from __future__ import annotations

import httpx

from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.config import Settings
from tunedeck.doctor import checks
from tunedeck.doctor.schemas import CheckOut, DoctorReport
from tunedeck.kit.db import Database
from tunedeck.player.context import SpotifyClients


async def installation(settings: Settings, db: Database, http: httpx.AsyncClient) -> list[CheckOut]:
    return [await checks.database(db), *await beside_the_database(settings, http)]


async def beside_the_database(settings: Settings, http: httpx.AsyncClient) -> list[CheckOut]:
    return [
        checks.keys(settings),
        await checks.redis(settings),
        checks.public_url(settings),
        *await checks.spotify(settings, http),
    ]


def report(found: list[CheckOut]) -> DoctorReport:
    return DoctorReport(ok=all(check.ok for check in found), checks=found)


async def for_admin(
    ctx: CallContext,
    settings: Settings,
    db: Database,
    http: httpx.AsyncClient,
    clients: SpotifyClients,
    poller_running: bool | None,
) -> DoctorReport:
    """Every check, for the caller's account and this process (admin)."""
    account_id = authorize(ctx, Permission.ADMIN)
    found = await installation(settings, db, http)
    found.append(await checks.account_token(clients, account_id, ctx.principal.account_name))
    found.append(checks.poller(settings, poller_running))
    return report(found)


async def from_the_command_line(settings: Settings) -> DoctorReport:
    """Every check, for every account, and whether the server answers (``tunedeck
    doctor``: it runs beside the server, whose poller it cannot see)."""
    from tunedeck.accounts import service as accounts
    from tunedeck.connections.token_manager import TokenManager
    from tunedeck.kit.crypto import load_keyring
    from tunedeck.kit.http import create_http_client
    from tunedeck.kit.unit_of_work import UnitsOfWork

    missing = checks.missing_sqlite_file(settings.resolved_database_url)
    if missing is not None:  # not opened: that would make an empty one
        async with create_http_client() as http:
            found = [checks.no_database(missing), *await beside_the_database(settings, http)]
            found += [checks.no_account(), await checks.server(settings, http)]
        return report(found)
    db = Database(settings.resolved_database_url)
    try:
        async with create_http_client() as http:
            found = await installation(settings, db, http)
            usable = all(check.ok for check in found[:2])  # the database, the keys
            keyring = load_keyring(settings.encryption_keys, settings.data_dir) if usable else None
            names = await accounts.list_accounts(UnitsOfWork(db)) if usable else []
            if not names:
                found.append(checks.no_account())
            for account in names:
                assert keyring is not None
                manager = TokenManager(db, keyring, http, settings)
                found.append(await checks.account_token(manager, account.id, account.name))
            found.append(await checks.server(settings, http))
    finally:
        await db.dispose()
    return report(found)
