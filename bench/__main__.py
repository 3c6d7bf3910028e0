"""Run every benchmark (``make bench``), or the ones named: ``python -m bench client``.

``python -m bench --profile state`` runs the named benchmarks under cProfile: the
functions that took the most time of their own are printed after each, and the whole
profile is written to ``<temp dir>/tunedeck-bench-<name>.pstats`` (``python -m pstats``
reads it). It profiles this process only, not the servers a benchmark starts in others.
"""

from __future__ import annotations

import cProfile
import importlib
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCHMARKS = (
    "client",
    "cluster",
    "events",
    "fanout",
    "history",
    "freshness",
    "leases",
    "limits",
    "observe",
    "overlay_soak",
    "poller",
    "requests",
    "state",
)
PROFILE_FLAG = "--profile"
PROFILE_LINES = 30


def run(names: list[str], *, profile: bool = False) -> None:
    for name in names:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.perf_counter()
        if profile:
            profiled(name, module.main)
        else:
            module.main()
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)


def profiled(name: str, main: Callable[[], None]) -> None:
    """Run ``main`` under cProfile; print its top functions and keep the whole profile."""
    profiler = cProfile.Profile()
    profiler.runcall(main)
    path = Path(tempfile.gettempdir()) / f"tunedeck-bench-{name}.pstats"
    profiler.dump_stats(path)
    print(f"\n--- profile of bench/{name}.py, by own time (the whole of it: {path})")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(PROFILE_LINES)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    with_profile = PROFILE_FLAG in arguments
    chosen = [argument for argument in arguments if argument != PROFILE_FLAG]
    run(chosen or list(BENCHMARKS), profile=with_profile)
