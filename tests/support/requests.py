"""Song requests left behind by a test: a waiting request keeps its account watched (and
polled), which would stand in other tests' way on the run's shared database."""

from __future__ import annotations

from sqlalchemy import delete

from tunedeck.kit.db import Database
from tunedeck.requests.models import SongRequest


async def forget_all_requests(database: Database) -> None:
    """Delete every request (a test run's database, one test at a time in a worker)."""
    async with database.session() as session:
        await session.execute(delete(SongRequest))
        await session.commit()
