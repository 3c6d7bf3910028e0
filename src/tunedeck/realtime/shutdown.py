"""Closing live connections as soon as the server is told to stop.

Uvicorn waits for open connections to end before it runs the app's shutdown: a live
feed never ends by itself (an SSE stream would hold the shutdown forever, and uvicorn
would close WebSockets with its own 1012). So when SIGINT or SIGTERM arrives, the hub
closes every live connection first (1001, "server shutting down"), then the handler
that was in place (uvicorn's) runs as before.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def on_stop_signal(callback: Callable[[], None]) -> Iterator[None]:
    """Run ``callback`` in the event loop when a stop signal arrives, for the block.

    Only where signals can be handled (the main thread); elsewhere (a server in a
    thread, as tests run it) the block just runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig in SIGNALS:
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous[sig])
