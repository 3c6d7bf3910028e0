"""Run every benchmark (``make bench``), or the ones named: ``python -m bench client``."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = (
    "client",
    "cluster",
    "events",
    "fanout",
    "freshness",
    "leases",
    "limits",
    "observe",
    "overlay_soak",
    "poller",
    "state",
)


def run(names: list[str]) -> None:
    for name in names:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    run(sys.argv[1:] or list(BENCHMARKS))
