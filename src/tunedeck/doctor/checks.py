"""The checks: each returns a :class:`CheckOut` (never raises), in words a streamer can
act on. The ones about this installation (database, keys, Redis, public URL, clock,
Spotify) need only the settings; the ones about an account (its Spotify token) and the
process (the poller) are given what they look at."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tunedeck.config import Settings, origin_for
from tunedeck.connections.token_manager import redirect_uri_for
from tunedeck.doctor.schemas import CheckOut
from tunedeck.kit.crypto import KeyringError, key_file_path, load_keyring
from tunedeck.kit.db import Database
from tunedeck.kit.files import privacy_of
from tunedeck.migrations.apply import head_revision, revision_of
from tunedeck.player.context import SpotifyClients
from tunedeck.setup.checks import public_url_problem, spotify_account_check
from tunedeck.setup.schemas import Problem

TIMEOUT = 5.0
CLOCK_TOLERANCE_SECONDS = 30.0
"""Spotify's Date header has one-second resolution; OAuth breaks minutes off, not seconds."""


def ok(name: str, detail: str) -> CheckOut:
    return CheckOut(name=name, ok=True, detail=detail)


def failed(name: str, detail: str, fix: str) -> CheckOut:
    return CheckOut(name=name, ok=False, detail=detail, fix=fix)


def from_problem(name: str, problem: Problem) -> CheckOut:
    return failed(name, problem.message, problem.fix)


def missing_sqlite_file(url: str) -> str | None:
    """The SQLite file ``url`` names, when it does not exist (yet)."""
    path = make_url(url).database if url.startswith("sqlite") else None
    if path and path != ":memory:" and not Path(path).exists():
        return path
    return None


def no_database(path: str) -> CheckOut:
    return failed(
        "Database and migrations",
        f"no database yet at {path}",
        "start TuneDeck with `tunedeck serve`: it makes it",
    )


async def database(db: Database) -> CheckOut:
    name = "Database and migrations"
    try:
        async with asyncio.timeout(TIMEOUT):
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision = await revision_of(db.engine)
    except Exception as exc:  # any failure is the answer: the database cannot be used
        return failed(
            name,
            f"the database does not answer ({type(exc).__name__})",
            "check TUNEDECK_DATABASE_URL, and that the database server runs",
        )
    head = head_revision()
    if revision != head:
        return failed(
            name,
            f"the database is at revision {revision}, this TuneDeck needs {head}",
            "start TuneDeck with `tunedeck serve` (it applies them) or run `tunedeck migrate`",
        )
    return ok(name, f"{db.engine.dialect.name}, migrations up to date ({head})")


def keys(settings: Settings) -> CheckOut:
    name = "Encryption key"
    if settings.encryption_keys:
        try:
            load_keyring(settings.encryption_keys, settings.data_dir)
        except KeyringError as exc:
            return failed(
                name, str(exc), "fix TUNEDECK_ENCRYPTION_KEYS (`tunedeck crypto new-key`)"
            )
        return ok(name, "from TUNEDECK_ENCRYPTION_KEYS")
    path = key_file_path(settings.data_dir).resolve()
    if not path.exists():
        return failed(
            name,
            f"no key file at {path}",
            "start TuneDeck with `tunedeck serve` on this data folder: it makes one",
        )
    try:
        load_keyring(None, settings.data_dir)
    except KeyringError as exc:
        return failed(name, str(exc), "restore the key file from your backup")
    exposed = privacy_of(path)
    if exposed is not None:
        return failed(name, exposed, f"make it private: chmod 600 {path}")
    private = "readable by you only" if os.name == "posix" else "private through your user folder"
    return ok(name, f"{path} ({private}); keep a backup of it")


async def redis(settings: Settings) -> CheckOut:
    name = "Redis"
    if not settings.redis_url:
        return ok(name, "not configured: events stay inside this process (fine for one server)")
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_timeout=TIMEOUT)
    try:
        async with asyncio.timeout(TIMEOUT):
            await client.ping()
    except Exception as exc:  # any failure is the answer: Redis cannot be used
        return failed(
            name,
            f"Redis does not answer ({type(exc).__name__})",
            "check TUNEDECK_REDIS_URL, and that Redis runs",
        )
    finally:
        await client.aclose()
    return ok(name, "answers")


def public_url(settings: Settings) -> CheckOut:
    name = "Public URL and redirect URI"
    problem = public_url_problem(settings)
    if problem is not None:
        return from_problem(name, problem)
    return ok(
        name, f"register exactly {redirect_uri_for(settings)} as your Spotify app's redirect URI"
    )


async def spotify(settings: Settings, http: httpx.AsyncClient) -> list[CheckOut]:
    """Spotify reachable, and this computer's clock against its Date header."""
    reach, clock = "Spotify reachable", "Clock"
    try:
        answer = await http.get(settings.spotify_accounts_url, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return [
            failed(
                reach,
                f"{settings.spotify_accounts_url} did not answer ({type(exc).__name__})",
                "check this computer's internet connection (and a firewall or proxy)",
            ),
            failed(
                clock, "not checked: Spotify did not answer", "check again once Spotify answers"
            ),
        ]
    return [ok(reach, f"{settings.spotify_accounts_url} answers"), clock_against(answer)]


def clock_against(answer: httpx.Response) -> CheckOut:
    name = "Clock"
    raw = answer.headers.get("date")
    try:
        theirs = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        theirs = None
    if theirs is None:
        return failed(name, "Spotify's answer has no date to compare with", "check again later")
    skew = (datetime.now(UTC) - theirs).total_seconds()
    if abs(skew) > CLOCK_TOLERANCE_SECONDS:
        direction = "ahead of" if skew > 0 else "behind"
        return failed(
            name,
            f"this computer's clock is {abs(skew):.0f} s {direction} Spotify's",
            "turn on automatic date and time in your system settings",
        )
    return ok(name, f"within {CLOCK_TOLERANCE_SECONDS:.0f} s of Spotify's ({skew:+.0f} s)")


async def account_token(clients: SpotifyClients, account_id: uuid.UUID, label: str) -> CheckOut:
    name = f"Spotify connection of {label}"
    spotify_user, problem = await spotify_account_check(clients, account_id)
    if spotify_user is None and problem is None:
        return failed(
            name,
            "Spotify is not connected",
            "finish the setup page, or connect on the dashboard's Connection tab",
        )
    if spotify_user is None:
        assert problem is not None
        return from_problem(name, problem)
    who = spotify_user.display_name or spotify_user.id
    if problem is not None:
        return failed(name, f"connected as {who}: {problem.message}", problem.fix)
    return ok(name, f"token valid, connected as {who} (Premium)")


def poller(settings: Settings, running: bool | None) -> CheckOut:
    """``running``: the serving process's poller state (None: this process has none)."""
    name = "Poller"
    if not settings.poll_in_process:
        return ok(
            name,
            "polling is left to `tunedeck worker` processes "
            "(TUNEDECK_POLL_IN_PROCESS=false): check that they run",
        )
    if running:
        return ok(name, "running inside the server")
    return failed(name, "not running", "restart TuneDeck; if it stops again, its log says why")


def no_account() -> CheckOut:
    return failed(
        "Spotify connection",
        "no account yet",
        "start TuneDeck with `tunedeck serve` and open the setup link it prints",
    )


async def server(settings: Settings, http: httpx.AsyncClient) -> CheckOut:
    """From the command line: whether the server answers where it listens (its poller
    runs inside it; the dashboard's Health page shows its state)."""
    name = "Server and poller"
    url = f"{origin_for(settings.host, settings.port)}/healthz"
    try:
        answer = await http.get(url, timeout=TIMEOUT)
    except httpx.HTTPError:
        return failed(name, f"TuneDeck does not answer at {url}", "start it: `tunedeck serve`")
    if answer.status_code != 200:
        return failed(name, f"{url} answered {answer.status_code}", "look at TuneDeck's log")
    return ok(name, "TuneDeck answers; the dashboard's Admin tab → Health shows its poller")
