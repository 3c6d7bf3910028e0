"""The broadcast bus: an account's live messages, to every subscriber in every process.

The face of the package: the interface every bus offers (``EventBus``, from
``interface``) and :func:`create_bus`, which picks one. Inside, by responsibility:

- ``interface``: the interface, its shapes (``History``, ``BusUnavailable``) and what a
  bus knows of a message (ids per account channel; ``event`` messages are indexed);
- ``local``: this process's subscribers and the delivery to them (``LocalFanout``);
- ``memory``: ``InProcessBus``, the embedded default (one process);
- ``redis``: ``RedisBus``, Redis pub/sub with one subscription per process, its Lua
  scripts in ``seed.lua``, ``publish.lua`` and ``history.lua``.

Whatever is published on the bus is a JSON object with a ``type``; the bus adds the
``id``. A new kind of message needs nothing of the bus: publish it.
"""

from tunedeck.config import Settings
from tunedeck.events.bus.interface import HISTORY_SIZE, BusUnavailable, EventBus, History, Outgoing
from tunedeck.events.bus.local import QUEUE_SIZE, Callback, LocalFanout, Subscription
from tunedeck.events.bus.memory import InProcessBus
from tunedeck.events.bus.redis import CHANNEL_PREFIX, DEFAULT_NAMESPACE, RedisBus

__all__ = [
    "CHANNEL_PREFIX",
    "DEFAULT_NAMESPACE",
    "HISTORY_SIZE",
    "QUEUE_SIZE",
    "BusUnavailable",
    "Callback",
    "EventBus",
    "History",
    "InProcessBus",
    "LocalFanout",
    "Outgoing",
    "RedisBus",
    "Subscription",
    "create_bus",
]


def create_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when ``TUNEDECK_REDIS_URL`` is set, the in-process bus otherwise."""
    if settings.redis_url:
        return RedisBus(settings.redis_url, namespace=settings.redis_namespace)
    return InProcessBus()
