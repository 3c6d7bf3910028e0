"""Manual connect really polls: opening the window makes the account watched with no
client connected, and its polling stops when the window ends (a short TTL here) or is
stopped, unless clients remain."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tests.kit.storage import TEST_KEYRING
from tests.realtime.conftest import MakePolling, Polling, connect, new_account
from tests.realtime.recorder import Recorder
from tests.realtime.support import channel, eventually
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import Permission, Principal, PrincipalKind
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player import manual_connect
from tunedeck.player.context import PlayerContext
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.player.state import StateCache


@asynccontextmanager
async def player_context(
    polling: Polling, database: Database, account: uuid.UUID
) -> AsyncIterator[PlayerContext]:
    """What the doors build for a caller of the account holding spotify:worker."""
    principal = Principal(
        kind=PrincipalKind.API_KEY,
        account_id=account,
        account_name="streamer",
        label="mod bot",
        permissions=frozenset({Permission.SPOTIFY_WORKER, Permission.SPOTIFY_READ}),
        credential_id=uuid.uuid4(),
    )
    async with create_http_client() as http:
        tokens = TokenManager(database, TEST_KEYRING, http, polling.settings)
        cache = StateCache(NowPlayingStore(1.0))
        yield PlayerContext(principal, UnitsOfWork(database), tokens, cache)


async def polled_by(polling: Polling, account: uuid.UUID, at_least: int = 1) -> None:
    async def polled() -> bool:
        poller = polling.poller.account(account)
        return poller is not None and poller.polls >= at_least

    await eventually(polled, what=f"{at_least} poll(s) of the account")


async def no_longer_polled(polling: Polling, account: uuid.UUID) -> None:
    async def released() -> bool:
        return account not in polling.poller.accounts

    await eventually(released, what="the account released")


async def test_the_window_polls_with_no_client_until_it_ends(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    async with (
        make_polling() as polling,
        channel(polling.bus, account) as feed,
        player_context(polling, database, account) as ctx,
    ):
        status = await manual_connect.start_manual(ctx, ttl=timedelta(seconds=1))
        assert status.active
        await feed.wait_for(lambda m: m["type"] == "now_playing", what="a snapshot")
        assert polling.watch.clients(account) == 0  # nobody connected: the window did it
        await polled_by(polling, account, 3)

        await no_longer_polled(polling, account)
        await feed.wait_for(
            lambda m: m["type"] == "status" and m["status"] == "idle", what="status idle"
        )
        assert not (await manual_connect.manual_status(ctx)).active
        made = len(recorder.polls())
        start = polling.poller.reconciles

        async def a_while() -> bool:
            return polling.poller.reconciles >= start + 20

        await eventually(a_while, what="twenty reconcile passes")
        assert len(recorder.polls()) == made
        assert await polling.poller.leases.leases.holders([f"poll:{account}"]) == {}


async def test_clients_keep_it_polled_after_the_window(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    async with (
        make_polling(watch_linger_seconds=0.3) as polling,
        player_context(polling, database, account) as ctx,
    ):
        await manual_connect.start_manual(ctx, ttl=timedelta(seconds=1))
        await polled_by(polling, account)
        polling.watch.connected(account)  # an overlay opens meanwhile

        async def window_over() -> bool:
            return not (await manual_connect.manual_status(ctx)).active

        await eventually(window_over, what="the end of the window")
        poller = polling.poller.account(account)
        assert poller is not None
        await polled_by(polling, account, poller.polls + 5)  # still polled
        assert polling.poller.account(account) is poller

        polling.watch.disconnected(account)  # the overlay closes: polling stops
        await no_longer_polled(polling, account)


async def test_stopping_the_window_stops_the_polling(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    async with (
        make_polling() as polling,
        channel(polling.bus, account) as feed,
        player_context(polling, database, account) as ctx,
    ):
        await manual_connect.start_manual(ctx)  # the full 30 minutes
        await polled_by(polling, account)
        assert await manual_connect.stop_manual(ctx)
        await no_longer_polled(polling, account)
        await feed.wait_for(
            lambda m: m["type"] == "status" and m["status"] == "idle", what="status idle"
        )
