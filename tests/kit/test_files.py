"""The embedded database and the key file are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from tunedeck.app import prepare_storage
from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring, key_file_path, write_key_file
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def companions(database: Path) -> list[Path]:
    return [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm")]


async def test_sqlite_database_directory_and_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "tunedeck"
    database = data_dir / "tunedeck.db"
    url = f"sqlite:///{database}"
    umask = os.umask(0o022)  # the usual umask, which would leave them 755 / 644
    await upgrade_database(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TABLE written (n INTEGER)"))
            await session.execute(text("INSERT INTO written VALUES (1)"))
        modes = {
            path.name: mode(path)
            for path in (data_dir.parent, data_dir, database, *companions(database))
        }
    finally:
        await db.dispose()
        os.umask(umask)
    assert modes == {
        "data": 0o700,  # created by us as well
        "tunedeck": 0o700,
        "tunedeck.db": 0o600,
        "tunedeck.db-wal": 0o600,  # WAL mode made both while the connection was open
        "tunedeck.db-shm": 0o600,
    }


async def test_existing_files_are_tightened_and_existing_directories_kept(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    database = shared / "old.db"
    database.write_bytes(b"")
    os.chmod(database, 0o644)

    db = Database(f"sqlite:///{database}")
    await db.dispose()

    assert mode(database) == 0o600
    assert mode(shared) == 0o755  # not ours to tighten


def test_key_file_and_its_directory_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    path = key_file_path(data_dir)
    write_key_file(path, Keyring.generate())
    assert mode(data_dir) == 0o700
    assert mode(path) == 0o600


async def test_an_existing_data_dir_of_ours_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "old-data"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)  # as an earlier version left it
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'td.db'}")
    await prepare_storage(settings)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "td.db") == 0o600
