"""The process's pieces are reached through one typed accessor (``kit.deps``), never by
name on ``app.state``: an attribute looked up by name is a piece (or a counter) that a
rename loses silently, where a typed read fails type checking."""

from __future__ import annotations

import re
from pathlib import Path

import tunedeck

PACKAGE = Path(tunedeck.__file__).parent
ACCESSOR = PACKAGE / "kit" / "deps.py"
# The simulator is an app of its own, with its own state (``app.state.simulator``).
OWN_APPS = (PACKAGE / "simulator",)

BY_NAME = re.compile(
    r"app\.state\b"  # app.state.x, conn.app.state.x, getattr(request.app.state, ...)
    r"|\b(?:get|set|has|del)attr\(\s*state\b"  # getattr(state, ...): a state handed around
)


def offenders() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == ACCESSOR or any(path.is_relative_to(own) for own in OWN_APPS):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BY_NAME.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    return found


def test_only_the_accessor_touches_app_state() -> None:
    assert offenders() == []


def test_the_check_sees_what_it_forbids() -> None:
    for line in (
        "db: Database = conn.app.state.db",
        "live = request.app.state.live",
        "cache = getattr(conn.app.state, STATE_CACHE)",
        "metrics = getattr(state, 'metrics', None)",
        "setattr(app.state, REQUEST_LIMITS, limits)",
    ):
        assert BY_NAME.search(line), line
    # A connection's own state (the principal cached per request) is not the app's.
    assert not BY_NAME.search('cached = getattr(conn.state, "principal", None)')
