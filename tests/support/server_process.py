"""A TuneDeck server in its own OS process, on a port that stays the same across restarts,
so a test can kill it (SIGKILL) and start it again where clients expect it.

``ServerProcess(env, SERVE)`` runs ``tunedeck serve``; another command (a test server
module) ends with the option or argument the port follows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0

#: ``tunedeck serve --port``, from the sources on PYTHONPATH (not an installed script).
SERVE = (sys.executable, "-c", "from tunedeck.cli import main; main()", "serve", "--port")


def server_env(**settings: str) -> dict[str, str]:
    """This environment without any ``TUNEDECK_*`` of its own, plus ``settings``
    (``database_url="..."`` becomes ``TUNEDECK_DATABASE_URL``), the sources importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH")])
    )
    env.update({f"TUNEDECK_{name.upper()}": value for name, value in settings.items()})
    return env


class ServerProcess:
    """``command`` + the port, in its own process; started by :meth:`start`."""

    def __init__(self, env: dict[str, str], command: Sequence[str] = SERVE) -> None:
        self.port = free_port()
        self.env = env
        self.command = list(command)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and return once it answers HTTP (it listens after its start-up)."""
        self.process = subprocess.Popen([*self.command, str(self.port)], cwd=ROOT, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, "the server exited at start"
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs, in-flight requests are cut."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
