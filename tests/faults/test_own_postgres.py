"""The test's own PostgreSQL never lingers: one left behind by a run that was killed is
stopped by the next run, and a server is stopped when the test using it fails."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.postgres_server import PREFIX, OwnPostgres, binaries, own_postgres_server


@pytest.mark.slow
def test_a_server_left_behind_or_failed_with_is_stopped() -> None:
    initdb, pg_ctl = binaries()
    # A run that was killed: its process is gone, its server still runs.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{gone.stdout.strip()}-"))
    left = OwnPostgres(directory, initdb=initdb, pg_ctl=pg_ctl)
    started: list[OwnPostgres] = []

    def a_failing_test() -> None:
        with own_postgres_server() as server:
            started.append(server)
            assert server.running()
            assert not left.running()
            assert not directory.exists()
            raise RuntimeError("the test failed")

    try:
        left.create()
        left.start()
        with pytest.raises(RuntimeError, match="the test failed"):
            a_failing_test()
    finally:
        if directory.exists():
            left.stop("immediate")
    assert not started[0].running()
    assert not started[0].directory.exists()
