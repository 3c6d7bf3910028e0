"""Several pollers on one database share the watched accounts through leases: each
account is polled by exactly one of them, and when one stops the others take its
accounts over. (Two ``tunedeck worker`` processes and a SIGKILL: test_worker.py.)"""

from __future__ import annotations

import uuid

from tests.realtime.conftest import MakePolling, connect, new_account
from tests.realtime.support import eventually
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Leases
from tunedeck.realtime.poll_leases import lease_name


async def test_two_pollers_poll_each_account_once_and_take_over(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    accounts: list[uuid.UUID] = []
    for n in range(6):
        account = await new_account(database)
        await connect(database, sim, account, ("demo", "free")[n % 2])
        accounts.append(account)
    async with make_polling() as one, make_polling() as two:
        # Clients of half the accounts on each process.
        for n, account in enumerate(accounts):
            (one if n % 2 else two).watch.connected(account)

        leases = Leases(database)

        async def each_polled_by_its_lease_holder() -> bool:
            # Never both, at any moment: one lease per account.
            assert one.poller.accounts.isdisjoint(two.poller.accounts)
            before = (one.poller.accounts, two.poller.accounts)
            holders = await leases.holders(lease_name(a) for a in accounts)
            if (one.poller.accounts, two.poller.accounts) != before:
                return False  # a handover meanwhile (a fair share): look again
            for account in accounts:
                state = holders.get(lease_name(account))
                polling = one if account in one.poller.accounts else two
                poller = polling.poller.account(account)
                if state is None or poller is None or poller.polls == 0:
                    return False  # not taken yet, or being handed over
                assert state.owner == polling.poller.owner
            return True

        await eventually(each_polled_by_its_lease_holder, what="every account polled")

        # One stops (its clients' heartbeats linger): the other polls everything.
        await one.poller.stop()

        async def taken_over() -> bool:
            return two.poller.accounts == set(accounts)

        await eventually(taken_over, what="every account taken over")


async def test_a_poller_that_joins_gets_a_fair_share(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    accounts: list[uuid.UUID] = []
    for _ in range(6):
        account = await new_account(database)
        await connect(database, sim, account)
        accounts.append(account)
    async with make_polling() as first:
        for account in accounts:
            first.watch.connected(account)

        async def all_first() -> bool:
            return first.poller.accounts == set(accounts)

        await eventually(all_first, what="the only poller polling everything")
        async with make_polling() as second:

            async def shared() -> bool:
                return len(first.poller.accounts) == len(second.poller.accounts) == 3

            await eventually(shared, what="three accounts each")
            assert first.poller.accounts.isdisjoint(second.poller.accounts)
            assert first.poller.accounts | second.poller.accounts == set(accounts)
        # The second one left (its leases given back): the first polls everything again.
        await eventually(all_first, what="everything back to the first poller")
