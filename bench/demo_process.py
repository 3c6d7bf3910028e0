"""A real ``tunedeck demo`` process for the benchmarks (serve, poller and simulator on
one port, the account ``demo`` connected and playing), started by the same launcher as
the browser tests (``tests/support/demo.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.demo import DemoProcess
from tests.support.demo import start_demo as start_demo_process


@dataclass
class Demo:
    running: DemoProcess

    @property
    def origin(self) -> str:
        return self.running.origin

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.running.admin_key}"}

    def sim(self, path: str) -> str:
        """A control URL of the simulator's user ``demo`` (``/app-actions``...)."""
        return f"{self.origin}/spotify-sim/_sim/users/demo{path}"

    def stop(self) -> None:
        self.running.stop()


def start_demo(data_dir: Path) -> Demo:
    """Start the demo on a free port with its own data dir; returns once it printed its key."""
    return Demo(start_demo_process(data_dir))
