"""The part of the process's runtime the chat door reads (``kit.deps``: each layer its own
view; ``tunedeck.runtime`` proves its ``Runtime`` is this one). The request service's
context comes from ``requests.deps``, as for every door."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from tunedeck.chat.pieces import ChatDoor
from tunedeck.config import Settings
from tunedeck.kit.deps import NotRunning, runtime_of
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.now_playing import NowPlayingStore


class ChatRuntime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def units(self) -> UnitsOfWork: ...

    @property
    def now_playing(self) -> NowPlayingStore: ...

    @property
    def chat(self) -> ChatDoor | None: ...


def chat_runtime(conn: HTTPConnection) -> ChatRuntime:
    runtime: ChatRuntime = runtime_of(conn)
    return runtime


def chat_door_of(runtime: ChatRuntime) -> ChatDoor:
    """The chat door's pieces (a process serving the API has them)."""
    if runtime.chat is None:
        raise NotRunning("this process does not serve the chat door")
    return runtime.chat
