"""What the database holds, read back whole: every row as text and every sealed value opened,
for the tests that look for secrets in plain text at rest."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.stack import Stack


async def dump_and_decrypt(stack: Stack) -> tuple[str, list[str]]:
    """Every row of every table as text, plus each sealed value decrypted."""
    from obfbroker.migrations.models import Base
    from obfbroker.runtime import Runtime

    runtime = await Runtime.start(stack.settings)
    try:
        dump, plain = [], []
        async with runtime.sessions() as session:
            for table in Base.metadata.sorted_tables:
                for row in (await session.execute(select(table))).mappings():
                    dump.append(repr(dict(row)))
                    for column in table.columns:
                        value = row[column.name]
                        if column.info.get("encrypted") and value is not None:
                            assert value.startswith("v1."), f"{table.name}.{column.name} not sealed"
                            plain.append(runtime.vault.decrypt(
                                value, table=table.name, column=column.name, row_id=row["id"]))
        return "\n".join(dump), plain
    finally:
        await runtime.close()
