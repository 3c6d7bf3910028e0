"""At most a few submissions of one channel at a time in this process.

Every submission of a channel ends under the channel's queue lock (one at a time, in the
database), and on PostgreSQL a submission waiting for that lock holds a pooled
connection meanwhile. A raid of a thousand ``!sr`` would so hold every connection of the
pool with lock waiters, and the chat door's token checks and reads, which need one too,
would wait behind them for seconds. Here the waiting happens in the process instead,
holding nothing: a channel's submissions beyond :data:`PER_CHANNEL` queue for a gate
(still within the answer's budget: past it they go on in the background like any slow
lookup). Gates of channels not used for a while are dropped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

PER_CHANNEL = 8
"""Submissions of one channel under way at once (lookups included) in one process."""


@dataclass
class _Gate:
    semaphore: asyncio.Semaphore
    users: int = 0  # submissions holding it or waiting for it


class ChannelGates:
    """One gate per channel (at most ``capacity`` kept: an unused one is dropped first)."""

    def __init__(self, per_channel: int = PER_CHANNEL, capacity: int = 10_000) -> None:
        self.per_channel = per_channel
        self.capacity = capacity
        self._gates: OrderedDict[uuid.UUID, _Gate] = OrderedDict()

    @property
    def kept(self) -> int:
        """Gates kept now."""
        return len(self._gates)

    def waiting_or_running(self, account_id: uuid.UUID) -> int:
        gate = self._gates.get(account_id)
        return gate.users if gate is not None else 0

    def backed_up(self, account_id: uuid.UUID) -> bool:
        """Whether a submission of the channel would wait for the ones ahead of it to
        pass first (as many are waiting as the gate lets through at once)."""
        return self.waiting_or_running(account_id) >= 2 * self.per_channel

    def _gate(self, account_id: uuid.UUID) -> _Gate:
        gate = self._gates.get(account_id)
        if gate is None:
            gate = self._gates[account_id] = _Gate(asyncio.Semaphore(self.per_channel))
            for other in [key for key, kept in self._gates.items() if kept.users == 0]:
                if len(self._gates) <= self.capacity:
                    break
                if other != account_id:
                    del self._gates[other]
        self._gates.move_to_end(account_id)
        return gate

    async def through(self, account_id: uuid.UUID, work: Awaitable[T]) -> T:
        """``work``, once the channel's gate lets it through."""
        gate = self._gate(account_id)
        gate.users += 1
        try:
            async with gate.semaphore:
                return await work
        finally:
            gate.users -= 1
