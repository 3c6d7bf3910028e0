"""Operator commands: ``tunedeck account | key | overlay-token``. Same service as the REST API
(a door like it: this module imports the service, never another door)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts import service
from tunedeck.accounts.models import ApiKey, OverlayToken
from tunedeck.accounts.permissions import GRANTABLE
from tunedeck.commands import fail, in_session
from tunedeck.config import get_settings

account_app = typer.Typer(help="Create and list accounts (one per streamer).", no_args_is_help=True)
key_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
overlay_app = typer.Typer(help="Overlay tokens: create, list, revoke.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option("--account", "-a", help="Account name.")]


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{what} {value!r} is not an id (see the list command)", 2) from None


def _when(row: ApiKey | OverlayToken) -> str:
    return "revoked " + row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "active"


@account_app.command("create")
def account_create(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Create an account."""

    async def work(session: AsyncSession) -> str:
        return str((await service.create_account(session, name)).id)

    typer.echo(f"created account {name} ({in_session(work)})")


@account_app.command("list")
def account_list() -> None:
    """List the accounts."""

    async def work(session: AsyncSession) -> list[str]:
        return [f"{a.id}  {a.name}" for a in await service.list_accounts(session)]

    for line in in_session(work):
        typer.echo(line)


@key_app.command("create")
def key_create(
    account: AccountOpt,
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'chat bot'.")],
    permissions: Annotated[
        str,
        typer.Option(help="Comma-separated: " + ",".join(p.value for p in GRANTABLE)),
    ],
) -> None:
    """Create an API key and print it. It is shown this once; only its hash is stored."""

    async def work(session: AsyncSession) -> tuple[str, str]:
        owner = await service.account_named(session, account)
        created = await service.create_api_key(session, owner.id, label, permissions.split(","))
        return str(created.row.id), created.secret

    key_id, secret = in_session(work)
    typer.echo(f"key id: {key_id}", err=True)
    typer.echo("the key below is shown once; store it now:", err=True)
    typer.echo(secret)


@key_app.command("list")
def key_list(account: AccountOpt) -> None:
    """List an account's keys (id, prefix, label, permissions, state); never the keys."""

    async def work(session: AsyncSession) -> list[str]:
        owner = await service.account_named(session, account)
        return [
            f"{k.id}  {k.prefix}…  {k.label}  {','.join(k.permissions)}  {_when(k)}"
            for k in await service.list_api_keys(session, owner.id)
        ]

    for line in in_session(work):
        typer.echo(line)


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(help="Key id from `key list`.")]) -> None:
    """Revoke a key now; its dashboard sessions end with it."""
    wanted = _uuid(key_id, "key id")

    async def work(session: AsyncSession) -> None:
        await service.revoke_api_key(session, wanted, None)

    in_session(work)
    typer.echo(f"revoked key {wanted}")


@overlay_app.command("create")
def overlay_create(
    account: AccountOpt,
    label: Annotated[str, typer.Option(help="Which overlay it is for.")] = "overlay",
) -> None:
    """Create an overlay token (read-only, now playing) and print its overlay URL once."""

    async def work(session: AsyncSession) -> tuple[str, str]:
        owner = await service.account_named(session, account)
        created = await service.create_overlay_token(session, owner.id, label)
        return str(created.row.id), created.secret

    token_id, secret = in_session(work)
    typer.echo(f"overlay token id: {token_id}", err=True)
    typer.echo("the URL below holds the token and is shown once:", err=True)
    typer.echo(service.overlay_url(get_settings().public_url, secret))


@overlay_app.command("list")
def overlay_list(account: AccountOpt) -> None:
    """List an account's overlay tokens; never the tokens."""

    async def work(session: AsyncSession) -> list[str]:
        owner = await service.account_named(session, account)
        return [
            f"{t.id}  {t.prefix}…  {t.label}  {_when(t)}"
            for t in await service.list_overlay_tokens(session, owner.id)
        ]

    for line in in_session(work):
        typer.echo(line)


@overlay_app.command("revoke")
def overlay_revoke(token_id: Annotated[str, typer.Argument(help="Id from `list`.")]) -> None:
    """Revoke an overlay token: overlays using it stop updating."""
    wanted = _uuid(token_id, "overlay token id")

    async def work(session: AsyncSession) -> None:
        await service.revoke_overlay_token(session, wanted, None)

    in_session(work)
    typer.echo(f"revoked overlay token {wanted}")
