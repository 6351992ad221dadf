"""This instance's agent sockets, and which of them may hear an event."""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from agentchat.events.broker import Envelope

log = logging.getLogger(__name__)

# Close codes: the session ended (log on again); pushed out by a newer socket of the same session.
CLOSE_SESSION_ENDED = 4401
CLOSE_TOO_MANY_SOCKETS = 1008
# Sockets one session may hold open on an instance (AGENTCHAT_MAX_SOCKETS_PER_SESSION): one more closes the oldest.
MAX_SOCKETS_PER_SESSION = 10


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
    """Fans events out to local sockets, one event at a time and in EventID order, off the request path.

    Connections are indexed by agent, by department and by role, so that an event touches only its audience
    (no per-socket check of every connection); the frame is serialized once and sent to each socket in turn,
    sequentially (PERFORMANCE.md: gathering the sends was slower), with one ASGI message shared by all sends.
    """

    def __init__(self, max_per_session: int = MAX_SOCKETS_PER_SESSION) -> None:
        self.connections: set[Connection] = set()
        self.max_per_session = max_per_session
        # Each session's sockets, oldest first.
        self._by_session: dict[int, list[Connection]] = {}
        self._managers: set[Connection] = set()
        self._by_agent: dict[int, set[Connection]] = {}
        self._by_department: dict[int, set[Connection]] = {}
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self._closing: set[asyncio.Task] = set()

    # ---- the index ----

    def add(self, connection: Connection) -> Connection | None:
        """Register the socket; returns the session's oldest socket when this one is over the limit (no longer
        registered: the caller closes it), so that one session cannot hoard sockets."""
        self.connections.add(connection)
        self._index(connection)
        sockets = self._by_session.setdefault(connection.session_id, [])
        sockets.append(connection)
        if len(sockets) > self.max_per_session:
            oldest = sockets[0]
            self.discard(oldest)
            return oldest
        return None

    def discard(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            self._unindex(connection)
            sockets = self._by_session.get(connection.session_id, [])
            if connection in sockets:
                sockets.remove(connection)
            if not sockets:
                self._by_session.pop(connection.session_id, None)

    def sessions(self) -> dict[int, int]:
        """The sessions with a socket here: {SessionID: AgentID}."""
        return {session_id: sockets[0].agent_id for session_id, sockets in self._by_session.items()}

    def close(self, connection: Connection, code: int) -> None:
        """Unregister the socket at once (it hears nothing more) and close it off the caller's path."""
        self.discard(connection)
        task = asyncio.create_task(_close(connection.websocket, code))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _index(self, connection: Connection) -> None:
        self._by_agent.setdefault(connection.agent_id, set()).add(connection)
        if connection.is_manager:
            self._managers.add(connection)
        for department_id in connection.department_ids:
            self._by_department.setdefault(department_id, set()).add(connection)

    def _unindex(self, connection: Connection) -> None:
        self._managers.discard(connection)
        for index, keys in ((self._by_agent, (connection.agent_id,)),
                            (self._by_department, connection.department_ids)):
            for key in keys:
                members = index.get(key)
                if members is not None:
                    members.discard(connection)
                    if not members:
                        del index[key]

    def audience(self, envelope: Envelope) -> list[Connection]:
        """The connections that may see the event (the same rule as Connection.may_see)."""
        audience = envelope["Audience"]
        by_agent = self._by_agent
        if audience.get("Private"):
            found: set[Connection] = set()
            for agent_id in audience["AgentIDs"]:
                found |= by_agent.get(agent_id, set())
            return list(found)
        if audience["Everyone"]:
            return list(self.connections)
        found = set(self._managers)
        for agent_id in audience["AgentIDs"]:
            found |= by_agent.get(agent_id, set())
        for department_id in audience["DepartmentIDs"]:
            found |= self._by_department.get(department_id, set())
        return list(found)

    # ---- the worker ----

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
                ended = self._apply(envelope)
                await self._fan_out(envelope)
                # After the fan-out, so that the sockets being closed hear SessionEnded first.
                for connection in ended:
                    self.close(connection, CLOSE_SESSION_ENDED)
            except Exception:
                log.exception("event fan-out failed")

    async def _fan_out(self, envelope: Envelope) -> None:
        audience = self.audience(envelope)
        if not audience:
            return
        event_id = envelope["EventID"]
        message = {"type": "websocket.send", "text": client_json(envelope)}
        for connection in audience:
            if not connection.ready:
                connection.held.append(envelope)
            elif not event_id or event_id > connection.last_sent:
                try:
                    await connection.websocket.send(message)
                except Exception:
                    self.discard(connection)
                else:
                    connection.last_sent = max(connection.last_sent, event_id)

    def _apply(self, envelope: Envelope) -> list[Connection]:
        """Keep connections' view of their agent current (role, departments); returns the connections of ended
        sessions, to be closed once they have heard this event (and before they hear another)."""
        kind = envelope["Type"]
        if kind == "AgentUpdated":
            data = envelope.get("Data") or {}
            for connection in list(self._by_agent.get(int(data.get("AgentID") or 0), ())):
                self._unindex(connection)
                connection.is_manager = data.get("RoleID") == 2
                connection.department_ids = set(data.get("DepartmentIDs") or [])
                self._index(connection)
        elif kind == "SessionEnded":
            data = envelope.get("Data") or {}
            return [connection for session_id in data.get("SessionIDs") or []
                    for connection in self._by_session.get(session_id, ())]
        return []

    async def send(self, connection: Connection, event_id: int, text: str) -> None:
        if event_id and event_id <= connection.last_sent:
            return
        try:
            await connection.websocket.send_text(text)
            connection.last_sent = max(connection.last_sent, event_id)
        except Exception:
            self.discard(connection)

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
