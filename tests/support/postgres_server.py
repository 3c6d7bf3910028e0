"""A PostgreSQL server of the test's own: initdb in a temporary directory, a free port.

Fault tests stop and start this one; the machine's shared PostgreSQL is never touched.
Expose the fixture in a package's conftest.py: ``own_postgres = postgres_server.own_postgres``.

The binaries come from ``/usr/lib/postgresql/<version>/bin`` (or ``PATH``); without them
the test is skipped, or fails under ``CI=true``. PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` system user.

A server is stopped when its fixture ends, whatever the test did; one left behind by a
test run that was itself killed is stopped by the next run (its directory names the
pid of the run that made it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.services import port_open, unavailable

PREFIX = "tunedeck-pg-"
# The superuser initdb creates; trust authentication on the loopback only.
USER = "postgres"
START_TIMEOUT = 30


def find_binary(name: str) -> str | None:
    """The newest installed PostgreSQL's ``name`` (initdb, pg_ctl), or one on PATH."""
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(re.sub(r"\D", "", path.split("/")[4]) or 0),
    )
    return versions[-1] if versions else shutil.which(name)


def binaries() -> tuple[str, str]:
    """initdb and pg_ctl; without them the test is skipped (fails under ``CI=true``)."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        unavailable("PostgreSQL binaries (initdb, pg_ctl)", "not installed")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    return initdb, pg_ctl


def _runs_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root needs a 'postgres' system user to run PostgreSQL")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OwnPostgres:
    """One PostgreSQL cluster in ``directory`` (made by :meth:`create`), on its own port."""

    def __init__(self, directory: Path, *, initdb: str, pg_ctl: str) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = free_port()
        self._initdb = initdb
        self._pg_ctl = pg_ctl
        self._user = _runs_as()

    @property
    def admin_url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        user = self._user
        result = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            cwd=self.directory,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr or result.stdout}")

    def create(self) -> None:
        """initdb: a fresh cluster, trust authentication, no fsync (a test's data)."""
        if self._user is not None:
            os.chown(self.directory, self._user.pw_uid, self._user.pw_gid)
        self._run(
            self._initdb,
            *("-D", str(self.data), "-U", USER, "--auth=trust", "--no-sync"),
            *("-E", "UTF8", "--no-instructions"),
            timeout=120,
        )

    def start(self) -> None:
        """Start the server on its port (the same one after a stop) and wait until it accepts."""
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.directory}",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "-c max_connections=50",
            ]
        )
        self._run(
            self._pg_ctl, "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_open("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "PostgreSQL did not start listening"
            time.sleep(0.02)

    def stop(self, mode: str = "fast") -> None:
        """Stop this server (only this one): ``fast`` ends its sessions, ``immediate`` is
        a crash; returns once it no longer listens."""
        if not (self.data / "postmaster.pid").exists():
            return
        self._run(self._pg_ctl, "stop", "-w", "-D", str(self.data), "-m", mode)
        deadline = time.monotonic() + START_TIMEOUT
        while port_open("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "PostgreSQL still listens after stopping"
            time.sleep(0.02)

    def running(self) -> bool:
        return port_open("127.0.0.1", self.port)


def _stop_leftovers(root: Path, pg_ctl: str) -> None:
    """Stop and remove the servers of earlier runs that died without stopping them."""
    for directory in root.glob(f"{PREFIX}*"):
        match = re.match(rf"{PREFIX}(\d+)-", directory.name)
        if match is None or _pid_alive(int(match.group(1))):
            continue
        data = directory / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(
                    [pg_ctl, "stop", "-w", "-D", str(data), "-m", "immediate"],
                    capture_output=True,
                    timeout=30,
                    user=_owner(directory),
                )
        shutil.rmtree(directory, ignore_errors=True)


def _owner(directory: Path) -> int | None:
    return directory.stat().st_uid if os.geteuid() == 0 else None


@contextlib.contextmanager
def own_postgres_server() -> Iterator[OwnPostgres]:
    """A started server of this block alone, stopped and removed after it."""
    initdb, pg_ctl = binaries()
    root = Path(tempfile.gettempdir())
    _stop_leftovers(root, pg_ctl)
    # Not under pytest's tmp_path: the postgres user must be able to reach it.
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    server = OwnPostgres(directory, initdb=initdb, pg_ctl=pg_ctl)
    try:
        server.create()
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A started PostgreSQL server of this test alone (about a second to make), stopped
    and removed after it, even on failure."""
    with own_postgres_server() as server:
        yield server
