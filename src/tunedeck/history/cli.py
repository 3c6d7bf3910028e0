"""``tunedeck stream start | stop | list``: the streams of an account, as the operator
acting for it (the same operations as REST)."""

from __future__ import annotations

from typing import Annotated

import typer

from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import CallContext, operator
from tunedeck.commands import fail, with_units
from tunedeck.history import service
from tunedeck.history.schemas import StartStreamIn
from tunedeck.kit.unit_of_work import UnitsOfWork

stream_app = typer.Typer(
    help="Streams: the periods on air plays are grouped by.", no_args_is_help=True
)
AccountOpt = Annotated[str, typer.Option("--account", "-a", help="Account name.")]


async def _acting_for(units: UnitsOfWork, name: str) -> CallContext:
    return operator(units, await accounts.account_named(units, name))


@stream_app.command("start")
def stream_start(
    account: AccountOpt,
    title: Annotated[str | None, typer.Option(help="What the stream is.")] = None,
) -> None:
    """Start a stream (refused while one is live)."""

    async def work(units: UnitsOfWork) -> str:
        ctx = await _acting_for(units, account)
        started = await service.start_stream(ctx, StartStreamIn(title=title))
        return str(started.id)

    typer.echo(f"started stream {with_units(work)}")


@stream_app.command("stop")
def stream_stop(account: AccountOpt) -> None:
    """Stop the live stream of the account."""

    async def work(units: UnitsOfWork) -> str | None:
        ctx = await _acting_for(units, account)
        live = [s for s in (await service.streams(ctx)).items if s.stopped_at is None]
        if not live:
            return None
        return str((await service.stop_stream(ctx, live[0].id)).id)

    stopped = with_units(work)
    if stopped is None:
        raise fail("no stream is live on this account")
    typer.echo(f"stopped stream {stopped}")


@stream_app.command("list")
def stream_list(account: AccountOpt) -> None:
    """List the account's streams, newest first."""

    async def work(units: UnitsOfWork) -> list[str]:
        ctx = await _acting_for(units, account)
        return [
            f"{s.id}  {s.started_at:%Y-%m-%d %H:%M}  "
            f"{'live' if s.stopped_at is None else 'ended'}  {s.plays} plays  {s.title or ''}"
            for s in (await service.streams(ctx)).items
        ]

    for line in with_units(work):
        typer.echo(line)
