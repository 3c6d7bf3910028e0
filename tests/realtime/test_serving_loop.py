"""A serving process (``tunedeck serve``, ``tunedeck demo``) runs on uvloop's event loop,
as ``uvicorn.run`` would choose: on asyncio's own loop each idle live connection costs
some 25 KiB more and deliveries are slower (bench/fanout.py)."""

from __future__ import annotations

import asyncio

import uvloop

from tunedeck.realtime.serving import run_serving


async def _running_loop() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_a_serving_process_runs_on_uvloop() -> None:
    assert run_serving(_running_loop()) is uvloop.Loop
