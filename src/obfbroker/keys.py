"""Key rotation: re-seal every vault column under the first configured key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.db.sealed import replace_sealed, sealed_batch
from obfbroker.migrations.models import Base
from obfbroker.vault import Vault

BATCH = 500


def sealed_columns() -> list[tuple[str, str]]:
    """(table, column) for every column created with ``encrypted_column``."""
    return [(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns if column.info.get("encrypted")]


async def rotate(factory: async_sessionmaker[AsyncSession], vault: Vault) -> int:
    """Re-encrypt values sealed under older keys; returns how many were re-sealed.

    Each batch is its own transaction and each update is conditional on the old value, so a
    concurrent writer (a token refresh) is never overwritten with stale material.
    """
    resealed = 0
    for table_name, column_name in sealed_columns():
        table = Base.metadata.tables[table_name]
        last_id = ""
        while True:
            async with factory() as session:
                rows = await sealed_batch(session, table, column_name, after=last_id, limit=BATCH)
                if not rows:
                    break
                for row_id, sealed in rows:
                    last_id = row_id
                    if vault.is_current(sealed):
                        continue
                    where = dict(table=table_name, column=column_name, row_id=row_id)
                    fresh = vault.encrypt(vault.decrypt(sealed, **where), **where)
                    resealed += await replace_sealed(session, table, column_name, row_id=row_id,
                                                     old=sealed, new=fresh)
                await session.commit()
    return resealed
