"""The part of the process's runtime the chat door reads (``kit.deps``: each layer its own
view; ``tunedeck.runtime`` proves its ``Runtime`` is this one)."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Principal
from tunedeck.chat.pieces import ChatDoor
from tunedeck.kit.deps import NotRunning, runtime_of
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.context import SpotifyClients
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.player.state import StateCache
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.matching import Matcher


class ChatRuntime(Protocol):
    @property
    def units(self) -> UnitsOfWork: ...

    @property
    def token_manager(self) -> SpotifyClients: ...

    @property
    def player_state(self) -> StateCache: ...

    @property
    def now_playing(self) -> NowPlayingStore: ...

    @property
    def request_matcher(self) -> Matcher: ...

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


def requests_context(runtime: ChatRuntime, principal: Principal) -> RequestsContext:
    """The context of one request operation called by the chat door for ``principal``."""
    return RequestsContext(
        principal=principal,
        units=runtime.units,
        clients=runtime.token_manager,
        cache=runtime.player_state,
        matcher=runtime.request_matcher,
    )
