"""Another process writing to TuneDeck's database, refusing to wait for any lock.

``python other_writer.py DATABASE_URL KEY_ID``: stamps the API key's row and adds an
account in one transaction; on SQLite with no busy timeout (a held write lock fails it
at once), on PostgreSQL with a short lock timeout (a held row lock fails it). Prints how
many transactions other connections hold open across the write: open before it and
still the same transaction after it (PostgreSQL; SQLite has no such view and prints 0
once its write succeeded). A background loop's transaction caught between two of its
statements is over by then, or a second later on a busy machine; one held across a wait
is not. What it found goes to stderr.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import uuid
from datetime import UTC, datetime

import asyncpg

from tunedeck.config import to_async_url


def write_sqlite(path: str, key_id: str) -> int:
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
            (datetime.now(UTC).isoformat(), uuid.UUID(key_id).hex),
        )
        connection.execute(
            "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)",
            (uuid.uuid4().hex, f"other-{uuid.uuid4().hex[:8]}", "2026-01-01 00:00:00.000000"),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
    return 0


OPEN_TRANSACTIONS = (
    "SELECT pid, xact_start, query FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
)


async def write_postgres(url: str, key_id: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        before = {
            (row["pid"], row["xact_start"]) for row in await connection.fetch(OPEN_TRANSACTIONS)
        }
        await connection.execute("SET lock_timeout = '2s'")
        async with connection.transaction():
            await connection.execute(
                "UPDATE api_keys SET last_used_at = now() WHERE id = $1", uuid.UUID(key_id)
            )
            await connection.execute(
                "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, now())",
                uuid.uuid4(),
                f"other-{uuid.uuid4().hex[:8]}",
            )
        held = [
            row
            for row in await connection.fetch(OPEN_TRANSACTIONS)
            if (row["pid"], row["xact_start"]) in before
        ]
        # A busy machine can keep a background loop's short transaction between two of
        # its statements for a while: only one still open after a further second counts
        # (a request waiting on Spotify is held far longer than that).
        for _ in range(4):
            if not held:
                break
            await asyncio.sleep(0.25)
            still = {(r["pid"], r["xact_start"]) for r in await connection.fetch(OPEN_TRANSACTIONS)}
            held = [row for row in held if (row["pid"], row["xact_start"]) in still]
    finally:
        await connection.close()
    for row in held:
        print(f"held across the write: {dict(row)}", file=sys.stderr)
    return len(held)


def main(url: str, key_id: str) -> None:
    if url.startswith("sqlite"):
        count = write_sqlite(url.split("///", 1)[1], key_id)
    else:
        count = asyncio.run(write_postgres(to_async_url(url), key_id))
    print(f"open transactions: {count}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
