"""Operator commands: ``tunedeck account | key | overlay-token``. The same operations as
the REST API, called as the operator acting for the account named (a door like REST:
this module imports the service, never another door)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from tunedeck.accounts import service
from tunedeck.accounts.context import CallContext, operator
from tunedeck.accounts.permissions import GRANTABLE
from tunedeck.accounts.schemas import ApiKeyOut, OverlayTokenOut
from tunedeck.commands import fail, with_units
from tunedeck.config import get_settings
from tunedeck.kit.unit_of_work import UnitsOfWork

account_app = typer.Typer(help="Create and list accounts (one per streamer).", no_args_is_help=True)
key_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
overlay_app = typer.Typer(help="Overlay tokens: create, list, revoke.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option("--account", "-a", help="Account name.")]


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{what} {value!r} is not an id (see the list command)", 2) from None


def _when(row: ApiKeyOut | OverlayTokenOut) -> str:
    return "revoked " + row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "active"


async def _acting_for(units: UnitsOfWork, name: str) -> CallContext:
    """The operator, acting for the account named ``name``."""
    return operator(units, await service.account_named(units, name))


@account_app.command("create")
def account_create(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Create an account."""

    async def work(units: UnitsOfWork) -> str:
        return str((await service.create_account(units, name)).id)

    typer.echo(f"created account {name} ({with_units(work)})")


@account_app.command("list")
def account_list() -> None:
    """List the accounts."""

    async def work(units: UnitsOfWork) -> list[str]:
        return [f"{a.id}  {a.name}" for a in await service.list_accounts(units)]

    for line in with_units(work):
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

    async def work(units: UnitsOfWork) -> tuple[str, str]:
        ctx = await _acting_for(units, account)
        created = await service.create_key(ctx, label, permissions.split(","))
        return str(created.id), created.key

    key_id, secret = with_units(work)
    typer.echo(f"key id: {key_id}", err=True)
    typer.echo("the key below is shown once; store it now:", err=True)
    typer.echo(secret)


@key_app.command("list")
def key_list(account: AccountOpt) -> None:
    """List an account's keys (id, prefix, label, permissions, state); never the keys."""

    async def work(units: UnitsOfWork) -> list[str]:
        keys = await service.list_keys(await _acting_for(units, account))
        return [
            f"{k.id}  {k.prefix}…  {k.label}  {','.join(k.permissions)}  {_when(k)}" for k in keys
        ]

    for line in with_units(work):
        typer.echo(line)


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(help="Key id from `key list`.")]) -> None:
    """Revoke a key now; its dashboard sessions end with it."""
    wanted = _uuid(key_id, "key id")

    async def work(units: UnitsOfWork) -> None:
        owner = await service.key_owner(units, wanted)
        await service.revoke_key(operator(units, owner), wanted)

    with_units(work)
    typer.echo(f"revoked key {wanted}")


@overlay_app.command("create")
def overlay_create(
    account: AccountOpt,
    label: Annotated[str, typer.Option(help="Which overlay it is for.")] = "overlay",
) -> None:
    """Create an overlay token (read-only, now playing) and print its overlay URL once."""

    async def work(units: UnitsOfWork) -> tuple[str, str]:
        ctx = await _acting_for(units, account)
        created = await service.create_token(ctx, label, get_settings().public_url)
        return str(created.id), created.overlay_url

    token_id, url = with_units(work)
    typer.echo(f"overlay token id: {token_id}", err=True)
    typer.echo("the URL below holds the token and is shown once:", err=True)
    typer.echo(url)


@overlay_app.command("list")
def overlay_list(account: AccountOpt) -> None:
    """List an account's overlay tokens; never the tokens."""

    async def work(units: UnitsOfWork) -> list[str]:
        tokens = await service.list_tokens(await _acting_for(units, account))
        return [f"{t.id}  {t.prefix}…  {t.label}  {_when(t)}" for t in tokens]

    for line in with_units(work):
        typer.echo(line)


@overlay_app.command("revoke")
def overlay_revoke(token_id: Annotated[str, typer.Argument(help="Id from `list`.")]) -> None:
    """Revoke an overlay token: overlays using it stop updating."""
    wanted = _uuid(token_id, "overlay token id")

    async def work(units: UnitsOfWork) -> None:
        owner = await service.token_owner(units, wanted)
        await service.revoke_token(operator(units, owner), wanted)

    with_units(work)
    typer.echo(f"revoked overlay token {wanted}")
