"""Re-encrypt every encrypted column to the keyring's primary key (``tunedeck crypto rotate``).

Encrypted columns are found by their ``encrypted_info()`` mark in ``Base.metadata``, so a
table added later is rotated without touching this file. Which tables exist is the
caller's knowledge, not kit's: the caller imports the models first (the ``tunedeck
crypto`` commands call ``tunedeck.migrations.import_models()``, which lists them all).
Each value is swapped with a compare-and-set UPDATE, so a token refreshed concurrently is
never overwritten with its older value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Column, ColumnElement, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.kit.crypto import FORMAT_VERSION, EncryptionContext, Keyring
from tunedeck.kit.db import ENCRYPTED, Base, Database

BATCH = 500
MAX_PASSES = 5


@dataclass
class RotationReport:
    rewritten: Counter[str] = field(default_factory=Counter)  # "table.column" -> values

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


def encrypted_columns() -> list[tuple[Table, list[Column[str]]]]:
    """Every table with encrypted columns, and those columns (of the models imported)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.info.get(ENCRYPTED)]
        if columns:
            if "account_id" not in table.c:
                raise RuntimeError(f"{table.name} has encrypted columns but no account_id")
            found.append((table, columns))
    if not found:
        # Rotating nothing would report success and leave every secret on the old key.
        raise RuntimeError("no table with encrypted columns is known: import the models first")
    return found


def _not_on_primary(column: Column[str], keyring: Keyring) -> ColumnElement[bool]:
    # Ciphertexts start with "v1:<key id>:", so a prefix test finds the stale ones.
    return and_(column.is_not(None), ~column.startswith(f"{FORMAT_VERSION}:{keyring.primary_id}:"))


async def _rotate_table(
    session: AsyncSession, table: Table, columns: list[Column[str]], keyring: Keyring
) -> Counter[str]:
    done: Counter[str] = Counter()
    stale = or_(*(_not_on_primary(c, keyring) for c in columns))
    query = select(table.c.id, table.c.account_id, *columns).where(stale).limit(BATCH)
    stalled = 0
    while rows := (await session.execute(query)).all():
        changed = 0
        for row in rows:
            for column in columns:
                old = row._mapping[column.name]
                if old is None or not keyring.needs_rotation(old):
                    continue
                context = EncryptionContext(table.name, column.name, row.account_id)
                new = keyring.encrypt(keyring.decrypt(old, context), context)
                result = await session.execute(
                    update(table)
                    .where(table.c.id == row.id, column == old)
                    .values({column.name: new})
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    changed += 1
                    done[f"{table.name}.{column.name}"] += 1
        await session.commit()
        # A batch with no progress means every value changed under us: retry a few times.
        stalled = 0 if changed else stalled + 1
        if stalled >= MAX_PASSES:
            raise RuntimeError(f"{table.name}: values kept changing during rotation")
    return done


async def reencrypt_all(db: Database, keyring: Keyring) -> RotationReport:
    """Re-encrypt every value not on ``keyring``'s primary key. Committed batch by batch:
    any prefix of the work is a consistent state, since the keyring reads old and new."""
    report = RotationReport()
    for table, columns in encrypted_columns():
        async with db.sessionmaker() as session:
            report.rewritten.update(await _rotate_table(session, table, columns, keyring))
    return report


async def values_by_key(db: Database) -> Counter[str]:
    """How many stored ciphertexts each key id encrypted (for status and verification)."""
    counts: Counter[str] = Counter()
    async with db.sessionmaker() as session:
        for _, columns in encrypted_columns():
            for column in columns:
                values = await session.scalars(select(column).where(column.is_not(None)))
                counts.update(Keyring.key_id_of(v) for v in values)
    return counts
