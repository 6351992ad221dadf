"""GET /ws: the agent WebSocket. Authenticated by SessionToken; LastEventID asks for what was missed."""

import asyncio
from datetime import timedelta

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from agentchat.agents.models import AgentDepartment
from agentchat.events.hub import Connection
from agentchat.security import authenticate

router = APIRouter()

# Close codes: 4401 = no valid session (log on again), 4400 = bad request.
CLOSE_UNAUTHORIZED = 4401


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    token = websocket.query_params.get("SessionToken", "")
    last_event_id = websocket.query_params.get("LastEventID")
    async with state.sessionmaker() as db:
        caller = await authenticate(db, token, idle=timedelta(minutes=state.settings.session_idle_minutes)) \
            if token else None
        department_ids = set() if caller is None else set((await db.execute(
            select(AgentDepartment.department_id).where(AgentDepartment.agent_id == caller.agent_id))).scalars())
    if caller is None:
        await websocket.close(CLOSE_UNAUTHORIZED)
        return
    await websocket.accept()
    hub, broker = state.agent_hub, state.broker
    connection = Connection(websocket=websocket, agent_id=caller.agent_id, session_id=caller.session_id,
                            is_manager=caller.is_manager, department_ids=department_ids)
    hub.connections.add(connection)
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
        await _read_until_closed(websocket)
    finally:
        hub.connections.discard(connection)


async def _read_until_closed(websocket: WebSocket) -> None:
    """Clients may send {"Type":"Ping"}; we answer Pong. Anything else is ignored."""
    try:
        while True:
            message = await websocket.receive_json()
            if isinstance(message, dict) and message.get("Type") == "Ping":
                await websocket.send_json({"EventID": 0, "Type": "Pong"})
    except (WebSocketDisconnect, asyncio.CancelledError):
        return
    except Exception:
        return
