"""Operator commands: ``tunedeck chat-token create | list | revoke``, the same operations
as the REST API, called as the operator acting for the account named."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.chat import tokens
from tunedeck.chat.schemas import ChatTokenOut
from tunedeck.commands import fail, with_units
from tunedeck.config import get_settings
from tunedeck.kit.unit_of_work import UnitsOfWork

chat_token_app = typer.Typer(
    help="Chat tokens for chat bots (the chat door): create, list, revoke.",
    no_args_is_help=True,
)

AccountOpt = Annotated[str, typer.Option("--account", "-a", help="Account name.")]


def _state(row: ChatTokenOut) -> str:
    return "revoked " + row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "active"


@chat_token_app.command("create")
def create(
    account: AccountOpt,
    label: Annotated[str, typer.Option(help="Which bot it is for.")] = "chat bot",
    trust_roles: Annotated[
        bool,
        typer.Option(
            "--trust-roles/--no-trust-roles",
            help="Believe the role the bot reports (moderator commands need it).",
        ),
    ] = True,
) -> None:
    """Create a chat token and print the command line for each bot, once."""

    async def work(units: UnitsOfWork) -> tuple[str, str, list[str]]:
        ctx = operator(units, await accounts.account_named(units, account))
        created = await tokens.create_chat_token(
            ctx, label, trust_roles=trust_roles, public_url=get_settings().public_url
        )
        lines = []
        for bot in created.bots:
            lines.append(f"{bot.name}: {bot.how}")
            lines += [f"  {c.command}  {c.text}" for c in bot.commands]
        return str(created.id), created.token, lines

    token_id, secret, lines = with_units(work)
    typer.echo(f"chat token id: {token_id}", err=True)
    typer.echo("the token and the commands below are shown once:", err=True)
    typer.echo(secret)
    for line in lines:
        typer.echo(line)


@chat_token_app.command("list")
def list_tokens(account: AccountOpt) -> None:
    """List an account's chat tokens; never the tokens."""

    async def work(units: UnitsOfWork) -> list[str]:
        ctx = operator(units, await accounts.account_named(units, account))
        return [
            f"{t.id}  {t.prefix}…  {t.label}  "
            f"{'trusts roles' if t.trust_roles else 'everyone regular'}  {_state(t)}"
            for t in await tokens.list_chat_tokens(ctx)
        ]

    for line in with_units(work):
        typer.echo(line)


@chat_token_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="Id from `list`.")]) -> None:
    """Revoke a chat token: the bots' commands answer that their link is no longer valid."""
    try:
        wanted = uuid.UUID(token_id)
    except ValueError:
        raise fail(f"chat token id {token_id!r} is not an id (see the list command)", 2) from None

    async def work(units: UnitsOfWork) -> None:
        owner = await tokens.chat_token_owner(units, wanted)
        await tokens.revoke_chat_token(operator(units, owner), wanted)

    with_units(work)
    typer.echo(f"revoked chat token {wanted}")
