"""The ceiling: one raw-driver INSERT of a message row per request; no auth, no validation, no logic.

    BENCH_CEILING_DSN=postgresql://... uvicorn bench.ceiling:app     (asyncpg pool)
    BENCH_CEILING_DSN=sqlite:///path.db uvicorn bench.ceiling:app     (one aiosqlite connection, WAL, NORMAL)

Every AgentChat figure is also printed as a ratio to this one, measured beside it on the same database.

The fan-out's floor too: WebSockets at /ws (no session; a Connected frame, then nothing but what is sent), and
POST /broadcast, the same INSERT, then a MessageSent frame of the size AgentChat sends, written to every socket in
turn from one task (as AgentChat's hub does; ../shared/PERFORMANCE.md's bare-socket figure). And GET /hello, the
box's speed (bench/targets.py).
"""

import asyncio
import json
import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

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


async def _insert(request: Request) -> tuple[int, dict]:
    body = json.loads(await request.body())
    if DSN.startswith("sqlite"):
        cursor = await request.app.state.sqlite.execute(INSERT_SQLITE, (body["ChatID"], body["Message"]))
        (message_id,) = await cursor.fetchone()
        await cursor.close()
    else:
        async with request.app.state.pool.acquire() as connection:
            message_id = await connection.fetchval(INSERT_PG, body["ChatID"], body["Message"])
    return message_id, body


async def insert(request: Request) -> Response:
    message_id, _ = await _insert(request)
    return Response(json.dumps({"MessageID": message_id}), media_type="application/json")


SOCKETS: set[WebSocket] = set()
SENDING: set[asyncio.Task] = set()


async def sockets(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text('{"Type":"Connected"}')
    SOCKETS.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        SOCKETS.discard(websocket)


async def broadcast(request: Request) -> Response:
    message_id, body = await _insert(request)
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    frame = json.dumps({"Type": "MessageSent", "EventID": message_id, "At": at, "Data": {
        "MessageID": message_id, "ChatID": body["ChatID"], "SenderType": "Agent", "AgentID": 1,
        "Text": body["Message"], "File": None, "CreatedAt": at, "DeliveryStatus": "Pending", "FailureReason": None}})
    sending = asyncio.get_running_loop().create_task(_send_to_all(frame))
    SENDING.add(sending)  # held until done: the loop keeps only a weak reference
    sending.add_done_callback(SENDING.discard)
    return Response(json.dumps({"MessageID": message_id}), media_type="application/json")


async def _send_to_all(frame: str) -> None:
    for websocket in list(SOCKETS):
        try:
            await websocket.send_text(frame)
        except Exception:  # closed meanwhile
            SOCKETS.discard(websocket)


async def hello(request: Request) -> Response:
    """A plain JSON answer, no database: ../shared/PERFORMANCE.md's "Plain JSON response, Starlette" line, which
    tells how fast this box is next to the one the targets were set on (bench/targets.py)."""
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/ceiling", insert, methods=["POST"]), Route("/broadcast", broadcast, methods=["POST"]),
                        Route("/hello", hello), WebSocketRoute("/ws", sockets)], lifespan=lifespan)
