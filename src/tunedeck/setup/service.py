"""First run: the setup link and the steps of the setup page.

``tunedeck serve`` calls :func:`prepare_link` once migrations are applied: on a fresh
database (no account, setup never finished) it makes a one-time code, stores only its
hash and returns it for the command to print, once; the link expires after
``LINK_TTL`` and is spent by the account it creates (:func:`create_account`). A later
start makes a new code only while no account exists. Everything after the first step
is done with the admin session the first step signed this browser in with, through the
same operations the dashboard uses; :func:`progress` says which step comes next, so the
page can be left and resumed at any point.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tunedeck.accounts import repository as accounts_repo
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.models import ApiKey
from tunedeck.accounts.permissions import GRANTABLE, Permission
from tunedeck.accounts.secrets import hash_secret
from tunedeck.config import Settings
from tunedeck.connections import service as connections
from tunedeck.connections.token_manager import redirect_uri_for
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import Unauthorized
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.context import SpotifyClients
from tunedeck.setup import repository as repo
from tunedeck.setup.checks import public_url_problem, spotify_account_check
from tunedeck.setup.models import SetupLink
from tunedeck.setup.schemas import Problem, SetupProgress, SpotifyAccount, Stage

LINK_TTL = timedelta(hours=1)
SETUP_PATH = "/setup"
ADMIN_KEY_LABEL = "admin (made by setup)"
RESTART_FOR_A_NEW_LINK = (
    "Stop TuneDeck (Ctrl+C in its window) and start it again with `tunedeck serve`: "
    "it prints a new setup link."
)


class SetupLinkRefused(Unauthorized):
    """A setup code that is unknown, used or expired (401: a credential refused, so a
    client guessing codes is throttled like one guessing keys)."""

    code = "setup_link_invalid"


@dataclass(frozen=True, slots=True)
class FirstRun:
    """What ``serve`` prints at start: the stage, and the code when a link was made."""

    stage: Stage
    code: str | None = None
    expires_at: datetime | None = None


def setup_url(public_url: str, code: str) -> str:
    """The setup link. The code travels in the fragment, which browsers never send: no
    access log, proxy or Referer sees it."""
    return f"{public_url.rstrip('/')}{SETUP_PATH}#code={code}"


async def stage(units: UnitsOfWork) -> Stage:
    async with units.begin() as work:
        if await repo.completed(work.session):
            return "done"
        if not await repo.any_account(work.session):
            return "open"
        return "started" if await repo.used_link(work.session) is not None else "operator"


async def prepare_link(units: UnitsOfWork, *, now: datetime | None = None) -> FirstRun:
    """At start: a new setup link when no account exists yet (earlier unused links are
    dropped: only the newest printed one works), else the stage alone."""
    now = now or utcnow()
    current = await stage(units)
    if current != "open":
        return FirstRun(stage=current)
    code = secrets.token_urlsafe(24)
    async with units.begin() as work:
        await repo.delete_unused(work.session)
        await repo.add(
            work.session, SetupLink(code_hash=hash_secret(code), expires_at=now + LINK_TTL)
        )
    return FirstRun(stage="open", code=code, expires_at=now + LINK_TTL)


async def create_account(
    units: UnitsOfWork, code: str, name: str, *, now: datetime | None = None
) -> accounts.Created[ApiKey]:
    """Spend the setup link: the channel's account and an admin key holding every
    permission, all or nothing. The key's secret is returned this once."""
    now = now or utcnow()
    digest = hash_secret(code.strip())
    async with units.begin() as work:
        link = await repo.claim(work.session, digest, now)
        if link is None:
            raise _refusal(await repo.link_by_hash(work.session, digest), now)
        account = await accounts.new_account(work.session, name.strip())
        link.account_id = account.id
        created = await accounts.new_key(
            work.session, account.id, ADMIN_KEY_LABEL, [p.value for p in GRANTABLE]
        )
    return created


def _refusal(link: SetupLink | None, now: datetime) -> SetupLinkRefused:
    if link is None:
        return SetupLinkRefused(
            "This setup link is not valid (maybe an older one). Open the newest link "
            "TuneDeck printed when it started. " + RESTART_FOR_A_NEW_LINK
        )
    if link.used_at is not None:
        return SetupLinkRefused(
            "This setup link was already used: sign in with the admin key you saved to "
            "continue setting up."
        )
    return SetupLinkRefused("This setup link has expired. " + RESTART_FOR_A_NEW_LINK)


async def progress(
    ctx: CallContext, keyring: Keyring, settings: Settings, clients: SpotifyClients
) -> SetupProgress:
    """Where the caller's account stands (admin): each step's facts, and the next step.
    Connected, Spotify is asked who the user is (Premium? allowed into the app?)."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        link = await repo.link_of_account(work.session, account_id)
        connection = await connections.connection_of(work.session, keyring, account_id)
        tokens = await accounts_repo.list_overlay_tokens(work.session, account_id)
    live_tokens = sum(1 for token in tokens if token.revoked_at is None)
    spotify: SpotifyAccount | None = None
    problem: Problem | None = None
    if connection.status == "active":
        spotify, problem = await spotify_account_check(clients, account_id)
    done = link is not None and link.completed_at is not None
    return SetupProgress(
        account_name=ctx.principal.account_name,
        redirect_uri=redirect_uri_for(settings),
        public_url=settings.public_url,
        public_url_problem=public_url_problem(settings),
        app_configured=connection.app.configured,
        client_id_hint=connection.app.client_id_hint,
        connection=connection.status.value,
        spotify_account=spotify,
        spotify_problem=problem,
        overlay_tokens=live_tokens,
        completed_at=link.completed_at if link is not None else None,
        next_step=_next_step(connection.app.configured, spotify, live_tokens, done),
    )


def _next_step(app: bool, spotify: SpotifyAccount | None, tokens: int, done: bool) -> int:
    if done:
        return 5
    if not app:
        return 2
    if spotify is None:
        return 3
    return 4


async def complete(ctx: CallContext, *, now: datetime | None = None) -> None:
    """The last step (admin): setup is done; no setup link is made from now on. An
    account made with the command line finishes too (its row stands for it)."""
    account_id = authorize(ctx, Permission.ADMIN)
    now = now or utcnow()
    async with ctx.begin() as work:
        link = await repo.link_of_account(work.session, account_id)
        if link is None:
            link = SetupLink(
                code_hash=hash_secret(secrets.token_urlsafe(24)),
                expires_at=now,
                used_at=now,
                account_id=account_id,
            )
            await repo.add(work.session, link)
        if link.completed_at is None:
            link.completed_at = now
        await work.session.flush()
