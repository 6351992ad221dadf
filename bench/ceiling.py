"""The ceiling: one raw-driver INSERT of a message row per request; no auth, no validation, no logic.

    BENCH_CEILING_DSN=postgresql://... uvicorn bench.ceiling:app     (asyncpg pool)
    BENCH_CEILING_DSN=sqlite:///path.db uvicorn bench.ceiling:app     (one aiosqlite connection, WAL, NORMAL)

Every AgentChat figure is also printed as a ratio to this one, measured in the same run on the same database.
"""

import json
import os
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DSN = os.environ.get("BENCH_CEILING_DSN", "")
# Stored as already sent: AgentChat delivers every Pending agent message when it starts (Outbound.resume_pending),
# and the ceiling's tens of thousands of rows were being delivered in the background of the measured calls.
INSERT_PG = ("INSERT INTO message (chat_id, sender_type, text, created_at, delivery_status) "
             "VALUES ($1, 'Agent', $2, now() at time zone 'utc', 'Sent') RETURNING id")
INSERT_SQLITE = ("INSERT INTO message (chat_id, sender_type, text, created_at, delivery_status) "
                 "VALUES (?, 'Agent', ?, datetime('now'), 'Sent') RETURNING id")


@asynccontextmanager
async def lifespan(app: Starlette):
    if DSN.startswith("sqlite"):
        import aiosqlite

        connection = await aiosqlite.connect(DSN.split("///", 1)[1], isolation_level=None)
        await connection.execute("PRAGMA busy_timeout=5000")
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        app.state.sqlite = connection
        yield
        await connection.close()
    else:
        import asyncpg

        app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=10)
        yield
        await app.state.pool.close()


async def insert(request: Request) -> Response:
    body = json.loads(await request.body())
    if DSN.startswith("sqlite"):
        cursor = await request.app.state.sqlite.execute(INSERT_SQLITE, (body["ChatID"], body["Message"]))
        (message_id,) = await cursor.fetchone()
        await cursor.close()
    else:
        async with request.app.state.pool.acquire() as connection:
            message_id = await connection.fetchval(INSERT_PG, body["ChatID"], body["Message"])
    return Response(json.dumps({"MessageID": message_id}), media_type="application/json")


app = Starlette(routes=[Route("/ceiling", insert, methods=["POST"])], lifespan=lifespan)
