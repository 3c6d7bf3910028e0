"""Files that hold secrets: readable by their owner only.

The embedded SQLite database holds encrypted credentials, API key hashes and events;
its directory is created 700 and the database file 600. SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file, so creating that one private is enough
for new files; files left by an earlier version are tightened here too.

On Windows the mode bits mean nothing beyond read-only: privacy comes from where the
files are, as every file in a user's profile folder (``C:\\Users\\<name>``) is readable
by that user (and administrators) only, by the folder's inherited access list. The
calls here still run there (``chmod`` only sets the read-only flag, which 0o600 and
0o700 leave off) and skip what needs POSIX owners (``os.getuid``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

POSIX = os.name == "posix"
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by the owner only.

    An existing directory keeps its mode: it may be shared (``/tmp``, a home), and
    tightening it is the operator's call, not ours."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=PRIVATE_DIRECTORY)
        # mkdir's mode is filtered by the umask; say it again without it.
        os.chmod(directory, PRIVATE_DIRECTORY)


def private_data_dir(path: Path) -> None:
    """TuneDeck's own data directory: created 700, or tightened to 700 when it exists
    and belongs to this user (an earlier version created it 755)."""
    if not path.exists():
        private_directory(path)
        return
    getuid = getattr(os, "getuid", None)  # POSIX only
    if getuid is None:
        return
    status = path.stat()
    if status.st_uid == getuid() and status.st_mode & 0o777 != PRIVATE_DIRECTORY:
        os.chmod(path, PRIVATE_DIRECTORY)


def private_sqlite_file(database: Path) -> None:
    """Make the SQLite database at ``database`` (and its directory) private before
    SQLite opens it: created 600 when new, tightened to 600 when it exists."""
    private_directory(database.parent)
    # Only a missing file is opened here: closing a descriptor of a file drops every
    # POSIX lock this process holds on it, so opening an existing database beside a
    # live connection of this process would pull SQLite's locks from under it.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)


def privacy_of(path: Path) -> str | None:
    """Why ``path`` is not private, or None when it is: on POSIX, readable or writable
    by anyone but its owner; on Windows nothing can be said from mode bits (see above)."""
    if not POSIX:
        return None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return f"{path} can be read by other users of this computer (mode {mode:o})"
    return None
