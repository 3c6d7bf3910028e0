"""Rate-limit etiquette and lost authorizations, against the simulator's knobs: a 429
pauses every account of the Spotify app until Retry-After (in every poller process), a
long one is announced and not retried, a refused refresh token stops the polling of its
account until it is connected again. What the poller did is read from the simulator's
record of requests (arrival order on the pollers' own clock) and from the channel, never
from durations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.realtime.conftest import MakePolling, Polling, connect, new_account
from tests.realtime.recorder import Recorder, Request
from tests.realtime.support import Channel, channel, eventually
from tests.support.simulator import Sim
from tunedeck.kit.db import Database, utcnow
from tunedeck.simulator.defaults import DEMO_CLIENT_ID


async def idle_for_a_while(polling: Polling, passes: int = 20) -> None:
    """Let the poller run ``passes`` reconcile passes (at FAST cadences, every account
    would have been polled several times meanwhile, were it not held back)."""
    start = polling.poller.reconciles

    async def done() -> bool:
        return polling.poller.reconciles >= start + passes

    await eventually(done, what=f"{passes} reconcile passes")


def status(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "status" and m["status"] == kind


async def test_a_429_pauses_every_account_of_the_app_until_retry_after(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    first, second = await new_account(database), await new_account(database)
    tokens = {
        (await connect(database, sim, first, "demo"))["access_token"],
        (await connect(database, sim, second, "free"))["access_token"],
    }
    # The demo app may make six requests per 30 s; then 429 with Retry-After: 2.
    sim.knobs(rate_limit_per_30s=6, rate_limit_retry_after=2)
    async with make_polling() as polling, channel(polling.bus, first) as feed:
        polling.watch.connected(first)
        polling.watch.connected(second)

        def limited() -> list[Request]:
            return [r for r in recorder.polls() if r.status == 429 and r.token in tokens]

        async def two_limits() -> bool:
            return len(limited()) >= 2

        await eventually(two_limits, what="two 429s")
        sim.knobs(rate_limit_per_30s=None)
        last_limit = max(r.answered for r in limited())

        async def both_resumed() -> bool:
            resumed = {
                r.token for r in recorder.polls() if r.status == 200 and r.arrived > last_limit
            }
            return resumed == tokens

        await eventually(both_resumed, what="both accounts polled again")

    polls = [r for r in recorder.polls() if r.token in tokens]
    for refused in limited():
        assert refused.retry_after == 2
        window = [
            r
            for r in polls
            if refused.answered < r.arrived < refused.answered + refused.retry_after
        ]
        # Until Retry-After has passed, the refused account makes no request, and the
        # other account of the app at most the one it had in flight when the 429 came.
        assert [r for r in window if r.token == refused.token] == []
        assert len(window) <= 1, window
    assert polling.poller.pauses.limited >= 2
    assert "rate_limited" not in feed.statuses()  # a 2 s pause is not worth announcing


async def test_a_429_met_by_one_process_pauses_the_app_in_the_others(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    """Poller A meets a 429 polling one account; poller B, then taking another account of
    the same app, polls it only once the pause is over, though Spotify would answer."""
    first, second = await new_account(database), await new_account(database)
    first_token = (await connect(database, sim, first, "demo"))["access_token"]
    second_token = (await connect(database, sim, second, "free"))["access_token"]
    sim.knobs(rate_limit_per_30s=2, rate_limit_retry_after=3)
    async with make_polling() as a:
        a.watch.connected(first)

        def refused() -> list[Request]:
            return [r for r in recorder.polls(first_token) if r.status == 429]

        async def limited() -> bool:
            return bool(refused())

        await eventually(limited, what="a 429 for poller A")
        sim.knobs(rate_limit_per_30s=None)  # from now on Spotify answers every request
        limit = refused()[0]
        async with make_polling() as b:

            async def both_members() -> bool:
                return await a.poller.leases.members() == 2

            await eventually(both_members, what="poller B counted")
            b.watch.connected(second)

            async def second_polled() -> bool:
                return any(r.status == 200 for r in recorder.polls(second_token))

            await eventually(second_polled, what="poller B polls the second account")
            assert b.poller.account(second) is not None
            assert a.poller.account(second) is None
        assert b.poller.pauses.limited == 0  # B met no 429: it learnt the pause from A
    assert limit.retry_after == 3
    polls_of_second = recorder.polls(second_token)
    # Without the shared pause, B would have polled at once (well within the pause).
    assert min(r.arrived for r in polls_of_second) >= limit.answered + limit.retry_after / 2
    assert all(r.status == 200 for r in polls_of_second)


async def test_a_long_rate_limit_is_announced_and_not_retried(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    first, second = await new_account(database), await new_account(database)
    tokens = {
        (await connect(database, sim, first, "demo"))["access_token"],
        (await connect(database, sim, second, "free"))["access_token"],
    }
    sim.knobs(quota_exceeded=True)  # 429 with Retry-After: a day
    async with (
        make_polling() as polling,
        channel(polling.bus, first) as first_feed,
        channel(polling.bus, second) as second_feed,
    ):
        polling.watch.connected(first)
        polling.watch.connected(second)
        for feed in (first_feed, second_feed):
            announced = await feed.wait_for(status("rate_limited"), what="rate_limited")
            retry_at = announced["retry_at"]
            assert retry_at is not None
            assert retry_at > (utcnow() + timedelta(hours=23)).isoformat()
        made = len([r for r in recorder.polls() if r.token in tokens])
        assert 1 <= made <= 2  # the first 429, and a poll of the other account in flight
        await idle_for_a_while(polling)
        assert len([r for r in recorder.polls() if r.token in tokens]) == made
        assert polling.poller.pauses.until(DEMO_CLIENT_ID) is not None


async def wait_status(feed: Channel, kind: str, after: int = 0) -> None:
    await feed.wait_for(status(kind), what=f"status {kind}", after=after)


async def test_needs_reauth_stops_polling_until_connected_again(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    account = await new_account(database)
    minted = await connect(database, sim, account)
    async with make_polling() as polling, channel(polling.bus, account) as feed:
        polling.watch.connected(account)
        await wait_status(feed, "polling")
        # The streamer revoked TuneDeck in Spotify: the token stops working and the
        # refresh token is refused.
        sim.revoke(minted["refresh_token"])
        sim.expire(minted["access_token"])
        await wait_status(feed, "needs_reauth")
        assert sim.token_calls("refresh_token") == 1  # one refresh, no loop
        made = len(recorder.polls())
        await idle_for_a_while(polling)
        assert len(recorder.polls()) == made
        assert account in polling.poller.accounts  # still ours, just not polled

        mark = len(feed.messages)
        fresh = await connect(database, sim, account)  # connected again
        await wait_status(feed, "polling", after=mark)
        await feed.wait_for(lambda m: m["type"] == "now_playing", what="a snapshot", after=mark)
        assert recorder.polls(fresh["access_token"])
