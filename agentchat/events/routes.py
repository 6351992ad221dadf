"""GET /ws: the agent WebSocket. Authenticated by SessionToken; LastEventID asks for what was missed."""

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from agentchat.channels.webchat import sender as webchat_sender
from agentchat.chats.models import CLOSED, WEBCHAT, WHATSAPP, Chat
from agentchat.dbunreachable import database_unreachable
from agentchat.events.hub import CLOSE_TOO_MANY_SOCKETS, Connection
from agentchat.events.model import Event
from agentchat.security import Caller, authenticate

log = logging.getLogger(__name__)
router = APIRouter()

# Close codes: 4401 = no valid session (log on again), 4400 = bad request, 1013 = the database cannot be reached.
CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN_LATER = 1013


async def _caller(state, token: str) -> tuple[Caller | None, set[int]]:
    async with state.raw.connect() as raw:
        caller = await authenticate(raw, token, idle=timedelta(minutes=state.settings.session_idle_minutes)) \
            if token else None
        department_ids = set() if caller is None else {row[0] for row in await raw.fetch(
            "SELECT department_id FROM agent_department WHERE agent_id = $1", caller.agent_id)}
    return caller, department_ids


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    token = websocket.query_params.get("SessionToken", "")
    last_event_id = websocket.query_params.get("LastEventID")
    try:
        caller, department_ids = await _caller(state, token)
    except Exception as error:
        if not database_unreachable(error):
            raise
        log.warning("a socket was refused: the database cannot be reached")
        await websocket.accept()  # so that the client sees the close code, and reconnects later
        await websocket.close(CLOSE_TRY_AGAIN_LATER)
        return
    if caller is None:
        await websocket.close(CLOSE_UNAUTHORIZED)
        return
    await websocket.accept()
    hub, broker = state.agent_hub, state.broker
    connection = Connection(websocket=websocket, agent_id=caller.agent_id, session_id=caller.session_id,
                            is_manager=caller.is_manager, department_ids=department_ids)
    pushed_out = hub.add(connection)
    if pushed_out is not None:
        hub.close(pushed_out, CLOSE_TOO_MANY_SOCKETS)
    try:
        newest = await broker.last_event_id()
        await websocket.send_json({"EventID": 0, "Type": "Connected", "Data": {"LastEventID": newest}})
        missed: list = []
        if last_event_id is not None and last_event_id.isdigit():
            found = await broker.since(int(last_event_id))
            if found is None:
                # Too far behind: the client must reload its state through the API.
                await websocket.send_json({"EventID": 0, "Type": "ResyncRequired", "Data": {"LastEventID": newest}})
            else:
                missed = found
        connection.last_sent = int(last_event_id) if last_event_id and last_event_id.isdigit() else newest
        await hub.catch_up(connection, missed)
        await _read_until_closed(websocket, connection)
    finally:
        hub.discard(connection)


# Clients send {"Type":"Ping"} and {"Type":"Typing","ChatID":n}: a frame longer than this is none of them.
MAX_CLIENT_FRAME_CHARS = 1024


def _client_frame(frame: Mapping[str, Any]) -> dict | None:
    """A text frame's JSON object; None for anything else (binary, not JSON, too long, too deep), which is
    ignored: the socket stays open."""
    text = frame.get("text")
    if not isinstance(text, str) or len(text) > MAX_CLIENT_FRAME_CHARS:
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


async def _read_until_closed(websocket: WebSocket, connection: Connection) -> None:
    """Clients may send {"Type":"Ping"} (we answer Pong) and {"Type":"Typing","ChatID":n}; the rest is ignored."""
    typing_sent: dict[int, float] = {}
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            message = _client_frame(frame)
            if message is None:
                continue
            if message.get("Type") == "Ping":
                await websocket.send_json({"EventID": 0, "Type": "Pong"})
            elif message.get("Type") == "Typing":
                try:
                    await _relay_typing(websocket, connection, message.get("ChatID"), typing_sent)
                except Exception:  # a relay that failed (the database, the broker) is one lost "typing…"
                    log.warning("relaying AgentTyping failed", exc_info=True)
    except (WebSocketDisconnect, asyncio.CancelledError):
        return
    except Exception:  # the socket is gone (a send on a closed socket)
        return


# A typing agent is announced at most this often per chat; clients show "typing" for a few seconds.
TYPING_EVERY_SECONDS = 2.0


async def _relay_typing(websocket: WebSocket, connection: Connection, chat_id: object,
                        sent: dict[int, float]) -> None:
    """AgentTyping to those who see the chat: nothing is stored; a chat the agent may not see is ignored."""
    if isinstance(chat_id, bool) or not isinstance(chat_id, int) or not 0 < chat_id < 2**31:
        return
    now = time.monotonic()
    if now - sent.get(chat_id, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
        return
    state = websocket.app.state
    async with state.sessionmaker() as db:
        chat = (await db.execute(select(Chat.department_id, Chat.agent_id, Chat.channel, Chat.customer_id).where(
            Chat.id == chat_id, Chat.status != CLOSED))).first()
    if chat is None:
        return
    department_id, agent_id, channel, customer_id = chat
    if not (connection.is_manager or agent_id == connection.agent_id or department_id in connection.department_ids):
        return
    sent[chat_id] = now
    if len(sent) > 100:
        sent.clear()
    event = Event("AgentTyping", {"ChatID": chat_id, "AgentID": connection.agent_id},
                  department_ids=(department_id,) if department_id else (),
                  agent_ids=(agent_id,) if agent_id else ())
    await state.broker.publish([event])
    if channel == WEBCHAT:  # the web chat page shows "Agent is typing…"
        await webchat_sender.agent_typing(state.broker, customer_id)
    elif channel == WHATSAPP and getattr(state, "whatsapp_receipts", None) is not None:
        # The customer's phone shows their message read and "typing…" (fire-and-forget, rate-limited per chat).
        state.whatsapp_receipts.agent_typing(chat_id)
