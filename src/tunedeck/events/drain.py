"""One pass of the relay: outbox rows stored in ``platform_events`` and published on the bus.

Each outbox row has two tracks, the store and the publish, which a pass follows
separately (``stored_at``, ``published_at`` say what an earlier pass left done). A pass:

1. reads the outbox's oldest ``batch_size`` rows (the head), whatever is left to do for
   them;
2. stores those not stored yet in one statement (``INSERT ... ON CONFLICT DO NOTHING``:
   an event stored before, by a pass cut short, stays as it is: stored exactly once) and
   commits;
3. publishes those not published yet, in order, ``PUBLISH_CHUNK`` per round trip. While
   the store works, only stored rows go out (a resuming client reads what it missed back
   from ``platform_events``, so none may reach the bus before it is there); while the
   store fails, live delivery goes on. A failed publish stops there, so every account's
   events go out in the order they were recorded;
4. settles: deletes the rows done on both tracks, and marks on the others what this pass
   did, in one transaction.

A track with nothing left to do in a full head (the other track is down and its rows fill
the head) takes its own oldest rows beyond it, so a track that is down does not hold up
the other. Between steps 1 and 4 nothing is written to the rows: a pass cut short is
redone by the next one (storing again is a no-op, publishing again is at least once).
A track that fails notes the error on the rows it failed on (``attempts``,
``last_error``): the rows the store could not write, the row the publish stopped at.

Each step is its own short transaction on the pass's connection, none open while the bus
is waited for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from tunedeck.events import repository
from tunedeck.events.bus import BusUnavailable, EventBus
from tunedeck.events.schemas import event_message
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import describe

# Messages per bus round trip (a Redis pipeline): a whole batch.
PUBLISH_CHUNK = 500

Rows = Sequence[repository.Waiting]


def describe_error(exc: BaseException) -> str:
    """The error as the outbox stores it (``repository.ERROR_LENGTH`` at most)."""
    return describe(exc)[: repository.ERROR_LENGTH]


@dataclass
class DrainResult:
    """What one pass did; ``more`` means a batch was full and another pass should follow."""

    stored: int = 0
    published: int = 0
    deleted: int = 0
    store_error: str | None = None
    publish_error: str | None = None
    more: bool = False
    skipped: bool = False  # another relay was draining
    oldest: datetime | None = None  # when the oldest event the pass found happened

    @property
    def failed(self) -> bool:
        return self.store_error is not None or self.publish_error is not None

    def saw(self, rows: Rows) -> None:
        if rows and (self.oldest is None or rows[0].occurred_at < self.oldest):
            self.oldest = rows[0].occurred_at


@dataclass
class _Tracks:
    """Where the rows a pass handles stand on each track (by ``seq``), as it goes."""

    rows: dict[int, repository.Waiting] = field(default_factory=dict)
    stored: set[int] = field(default_factory=set)
    published: set[int] = field(default_factory=set)
    stored_now: list[int] = field(default_factory=list)
    published_now: list[int] = field(default_factory=list)

    def take(self, rows: Rows) -> None:
        for row in rows:
            self.rows[row.seq] = row
            if row.stored:
                self.stored.add(row.seq)
            if row.published:
                self.published.add(row.seq)

    def did_store(self, seqs: Iterable[int]) -> None:
        self.stored_now = list(seqs)
        self.stored.update(self.stored_now)

    def did_publish(self, seqs: Iterable[int]) -> None:
        self.published_now = list(seqs)
        self.published.update(self.published_now)

    def done(self) -> list[int]:
        """Rows done on both tracks: to delete."""
        return sorted(self.stored & self.published)

    def only_stored_now(self) -> list[int]:
        """Rows this pass stored that still wait to be published: to mark stored."""
        return [seq for seq in self.stored_now if seq not in self.published]

    def only_published_now(self) -> list[int]:
        """Rows this pass published that still wait to be stored: to mark published."""
        return [seq for seq in self.published_now if seq not in self.stored]


async def drain(conn: AsyncConnection, bus: EventBus, batch_size: int) -> DrainResult:
    """One pass on ``conn`` (the relay holds its lock); never raises, says what it did."""
    return await _Pass(conn, bus, batch_size).run()


class _Pass:
    def __init__(self, conn: AsyncConnection, bus: EventBus, batch_size: int) -> None:
        self.conn = conn
        self.bus = bus
        self.batch_size = batch_size
        self.result = DrainResult()
        self.tracks = _Tracks()

    async def run(self) -> DrainResult:
        head = await self._read_head()
        if head is None:
            return self.result
        await self._store(head)
        await self._publish(head)
        await self._settle()
        return self.result

    async def _read_head(self) -> Rows | None:
        try:
            head = await repository.outbox_head(self.conn, self.batch_size)
        except Exception as exc:  # the database is unreachable: neither track can work
            await _rollback(self.conn)
            self.result.store_error = describe_error(exc)
            return None
        self._took(head)
        self.result.more = len(head) == self.batch_size
        return head

    def _took(self, rows: Rows) -> None:
        self.tracks.take(rows)
        self.result.saw(rows)

    def _full_and_done(self, head: Rows, waiting: Rows) -> bool:
        """Whether a track has nothing left in a full head: it takes rows beyond it."""
        return not waiting and len(head) == self.batch_size

    async def _store(self, head: Rows) -> None:
        rows: Rows = [row for row in head if not row.stored]
        try:
            if self._full_and_done(head, rows):
                # The bus is behind and its rows fill the head: storing goes on beyond.
                rows = await repository.outbox_waiting_for_store(self.conn, self.batch_size)
                self._took(rows)
            await repository.store_events(self.conn, rows, utcnow())
            await self.conn.commit()
        except Exception as exc:
            await _rollback(self.conn)
            self.result.store_error = describe_error(exc)
            await self._note_failure([row.seq for row in rows], exc)
            return
        self.tracks.did_store(row.seq for row in rows)
        self.result.stored = len(rows)

    async def _publish(self, head: Rows) -> None:
        # After a successful store every row of the head is stored: all may go out.
        rows: Rows = [row for row in head if not row.published]
        if self._full_and_done(head, rows):
            # The store is behind and its rows fill the head: publishing goes on beyond.
            rows = await self._waiting_for_publish()
        sent = await self._send(rows)
        self.tracks.did_publish(row.seq for row in rows[:sent])
        self.result.published = sent

    async def _waiting_for_publish(self) -> Rows:
        try:
            rows = await repository.outbox_waiting_for_publish(
                self.conn, self.batch_size, stored_only=self.result.store_error is None
            )
            await self.conn.commit()
        except Exception as exc:
            await _rollback(self.conn)
            self.result.publish_error = describe_error(exc)
            return []
        self._took(rows)
        return rows

    async def _send(self, rows: Rows) -> int:
        """Publish ``rows`` in order, ``PUBLISH_CHUNK`` per round trip; how many went out.
        A failure stops there and is noted on the row that failed."""
        sent = 0
        for start in range(0, len(rows), PUBLISH_CHUNK):
            chunk = rows[start : start + PUBLISH_CHUNK]
            outgoing = [(row.account_id, event_message(row.payload)) for row in chunk]
            try:
                await self.bus.publish_many(outgoing)
            except Exception as exc:
                sent += exc.published if isinstance(exc, BusUnavailable) else 0
                self.result.publish_error = describe_error(exc)
                await self._note_failure([rows[sent].seq], exc)
                break
            sent += len(chunk)
        return sent

    async def _settle(self) -> None:
        """Delete what is done on both tracks; mark on the rest what this pass did."""
        tracks, now = self.tracks, utcnow()
        try:
            await repository.mark_stored(self.conn, tracks.only_stored_now(), now)
            await repository.mark_published(self.conn, tracks.only_published_now(), now)
            self.result.deleted = await repository.delete_rows(self.conn, tracks.done())
            await self.conn.commit()
        except Exception as exc:
            # Nothing settled: a later pass stores these rows again (a no-op) and
            # publishes them again (at least once; message ids tell the duplicates).
            await _rollback(self.conn)
            self.result.publish_error = self.result.publish_error or describe_error(exc)

    async def _note_failure(self, seqs: list[int], exc: BaseException) -> None:
        if not seqs:
            return
        with contextlib.suppress(Exception):  # the database may be what failed
            await repository.note_failure(self.conn, seqs, describe_error(exc))
            await self.conn.commit()


async def _rollback(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):  # a broken connection: the pool replaces it
        await conn.rollback()
