"""Helpers of the fault tests: a connected streamer, commands and what they recorded."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from tests.events.support import outbox_count
from tests.kit import storage
from tests.support import accounts
from tests.support.connections import save_minted
from tests.support.simulator import Sim
from tunedeck.events.models import PlatformEvent
from tunedeck.kit.db import Database
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

PLAYBACK = "/v1/spotify/playback"


@dataclass(frozen=True)
class Streamer:
    account_id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def connected_streamer(db: Database, sim: Sim, user: str = "demo") -> Streamer:
    """An account connected to the simulator's ``user``, with a key that may control
    playback and read it."""
    account = await accounts.create_account(db, storage.unique("fault"))
    key = await accounts.create_key(db, account, "fault bot", ["spotify:playback", "spotify:read"])
    minted = sim.mint(user, client_id=DEMO_CLIENT_ID)
    await save_minted(
        db,
        account.id,
        minted,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        expires_in=int(minted["expires_in"]),
        spotify_user_id=user,
    )
    return Streamer(account.id, key.key)


def volume(percent: int) -> dict[str, object]:
    return {"action": "volume", "volume_percent": percent}


async def stored_event_ids(db: Database, account_id: uuid.UUID) -> Counter[uuid.UUID]:
    """How many ``platform_events`` rows each of the account's event ids has."""
    async with db.session() as session:
        rows = await session.scalars(
            select(PlatformEvent.id).where(PlatformEvent.account_id == account_id)
        )
        return Counter(rows)


async def stored_volumes(db: Database, account_id: uuid.UUID) -> Counter[int]:
    """How many stored events set each volume, for the account."""
    async with db.session() as session:
        rows = await session.scalars(
            select(PlatformEvent.params).where(PlatformEvent.account_id == account_id)
        )
        return Counter(int(params["new_volume"]) for params in rows)


async def drained(db: Database, account_id: uuid.UUID) -> bool:
    """Whether the account's outbox is empty (every event relayed and stored)."""
    return await outbox_count(db, account_id) == 0
