"""This instance's agent sockets, and which of them may hear an event."""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from agentchat.events.broker import Envelope

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    agent_id: int
    session_id: int
    is_manager: bool
    department_ids: set[int]
    # Until the catch-up is sent, live events wait here so that nothing is missed or sent twice.
    ready: bool = False
    held: list[Envelope] = field(default_factory=list)
    last_sent: int = 0

    def may_see(self, envelope: Envelope) -> bool:
        audience = envelope["Audience"]
        if audience.get("Private"):
            return self.agent_id in audience["AgentIDs"]
        return (self.is_manager or audience["Everyone"] or self.agent_id in audience["AgentIDs"]
                or not self.department_ids.isdisjoint(audience["DepartmentIDs"]))


def client_json(envelope: Envelope) -> str:
    return json.dumps({key: value for key, value in envelope.items() if key != "Audience"},
                      separators=(",", ":"))


class AgentHub:
    """Fans events out to local sockets, one event at a time and in EventID order, off the request path."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for connection in list(self.connections):
            await _close(connection.websocket, 1001)

    async def receive(self, envelope: Envelope) -> None:
        """The broker's listener."""
        self._queue.put_nowait(envelope)

    async def _run(self) -> None:
        while True:
            envelope = await self._queue.get()
            try:
                self._apply(envelope)
                text = None
                for connection in list(self.connections):
                    if not connection.may_see(envelope):
                        continue
                    if not connection.ready:
                        connection.held.append(envelope)
                        continue
                    text = text or client_json(envelope)
                    await self.send(connection, envelope["EventID"], text)
            except Exception:
                log.exception("event fan-out failed")

    def _apply(self, envelope: Envelope) -> None:
        """Keep connections' view of their agent current (role, departments) and end revoked sessions."""
        data = envelope.get("Data") or {}
        if envelope["Type"] == "AgentUpdated":
            for connection in self.connections:
                if connection.agent_id == data.get("AgentID"):
                    connection.is_manager = data.get("RoleID") == 2
                    connection.department_ids = set(data.get("DepartmentIDs") or [])
        if envelope["Type"] == "SessionEnded":
            for connection in list(self.connections):
                if connection.session_id in (data.get("SessionIDs") or []):
                    asyncio.create_task(_close(connection.websocket, 4401))

    async def send(self, connection: Connection, event_id: int, text: str) -> None:
        if event_id and event_id <= connection.last_sent:
            return
        try:
            await connection.websocket.send_text(text)
            connection.last_sent = max(connection.last_sent, event_id)
        except Exception:
            self.connections.discard(connection)

    async def catch_up(self, connection: Connection, missed: list[Envelope]) -> None:
        """Send what the client missed, then what arrived meanwhile, then go live."""
        for envelope in missed:
            if connection.may_see(envelope):
                await self.send(connection, envelope["EventID"], client_json(envelope))
        while connection.held:
            envelope = connection.held.pop(0)
            await self.send(connection, envelope["EventID"], client_json(envelope))
        connection.ready = True


async def _close(websocket: WebSocket, code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code)
