"""Raw statements on the driver connection (asyncpg / aiosqlite) behind a request's SQLAlchemy session.

The hot paths (session check, SendMessage, GrabChat, GetChats, outbound delivery) run a few hand-written
statements here instead of the async ORM, which costs several times more CPU per statement
(see ../shared/PERFORMANCE.md). The statements run on the session's own connection, so they share its
transaction: on SQLite the session has issued BEGIN (db.py), and `db.commit()` commits them; on PostgreSQL a
statement that runs before the session started a transaction runs on its own (autocommit), so each hot path
is written as ONE statement that checks and changes at once (a CTE, `UPDATE … RETURNING`).

SQL is written once with PostgreSQL's `$1` placeholders; for SQLite they become `?1` (numbered parameters).
Datetimes are naive UTC everywhere: PostgreSQL `timestamp without time zone`; on SQLite the text SQLAlchemy's
DateTime writes ('YYYY-MM-DD HH:MM:SS.ffffff'), so rows written here and by the ORM compare and order alike.
Rows are tuples (asyncpg Records index the same way).
"""

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite DateTime stores it."""
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


def to_time(value: Any) -> datetime | None:
    """A datetime column read raw: asyncpg gives datetimes, SQLite the stored text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def wire_time(value: Any) -> str | None:
    """A datetime column read raw, in the contract's form (contract.format_time): 2024-05-01T10:00:00Z."""
    # Hot (GetChats formats five per chat): the common shapes without a detour.
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if len(value) >= 19 and value[10] == " " and (len(value) == 19 or value[19] == "."):
        return f"{value[:10]}T{value[11:19]}Z"  # SQLite's stored text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    return to_time(value).isoformat(timespec="seconds") + "Z"


@lru_cache(maxsize=256)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class Raw:
    """One driver connection; `sqlite` tells which SQL dialect a caller must write where they differ."""

    __slots__ = ("connection", "sqlite")

    def __init__(self, connection: Any, sqlite: bool):
        self.connection = connection
        self.sqlite = sqlite

    async def fetch(self, sql: str, *args: Any) -> list:
        if self.sqlite:
            params = tuple(sqlite_time(a) if isinstance(a, datetime) else a for a in args)
            return list(await self.connection.execute_fetchall(_sqlite_sql(sql), params))
        return await self.connection.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any):
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        if self.sqlite:
            await self.fetch(sql, *args)
        else:
            await self.connection.execute(sql, *args)


async def raw_of(connection: AsyncConnection) -> Raw:
    fairy = await connection.get_raw_connection()
    return Raw(fairy.driver_connection, connection.dialect.name == "sqlite")


async def raw(db: AsyncSession) -> Raw:
    """The driver connection of the session (checked out, and on SQLite in its transaction).

    Kept for the rest of the session's transaction (the session check and the hot path's statement share it
    without a second trip through the session), fetched again once it has ended: commit and rollback give the
    connection back to the pool."""
    transaction = db.sync_session.get_transaction()
    cached = db.info.get(_RAW_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction and transaction.is_active:
        return cached[1]
    connection = await raw_of(await db.connection())
    db.info[_RAW_KEY] = (db.sync_session.get_transaction(), connection)
    return connection


_RAW_KEY = "rawdb.connection"
