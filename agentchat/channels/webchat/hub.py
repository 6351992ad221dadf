"""Which visitor WebSockets are open, and pushing JSON to them.

The hub is in-process: a push reaches the sockets held by this process only. Running several instances
needs a hub that fans out through the broker (Redis); it implements the same `VisitorHub` interface.
"""

import asyncio
import json
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

# A socket that does not take a message in this time is treated as gone: one stalled browser must not
# hold up delivery to the chat (the outbound dispatcher delivers a chat's messages one at a time).
SEND_TIMEOUT_SECONDS = 5.0
# Tabs per visitor; opening one more closes the oldest, so one visitor cannot hoard connections.
MAX_SOCKETS_PER_VISITOR = 8


class Socket(Protocol):
    """What the hub needs of a WebSocket (Starlette's WebSocket has these)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class VisitorSocket:
    """One visitor's open socket; sends are serialised, since the hub and the socket's own handler both write."""

    def __init__(self, socket: Socket, customer_id: int):
        self.socket = socket
        self.customer_id = customer_id
        self._lock = asyncio.Lock()

    async def send_json(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        async with self._lock:
            await asyncio.wait_for(self.socket.send_text(text), SEND_TIMEOUT_SECONDS)

    async def close(self, code: int, reason: str = "") -> None:
        try:
            await asyncio.wait_for(self.socket.close(code=code, reason=reason), SEND_TIMEOUT_SECONDS)
        except Exception:  # already closed by the other side: nothing left to do
            log.debug("closing a visitor socket failed", exc_info=True)


class VisitorHub(Protocol):
    def add(self, socket: VisitorSocket) -> VisitorSocket | None:
        """Register the socket; returns a socket pushed out by the per-visitor limit, for the caller to close."""

    def discard(self, socket: VisitorSocket) -> None: ...

    def is_connected(self, customer_id: int) -> bool: ...

    async def push(self, customer_id: int, data: dict[str, Any]) -> int:
        """Send to every open socket of the visitor; returns how many took it."""

    async def close_all(self) -> None: ...


class LocalVisitorHub:
    """The sockets of this process, by customer."""

    def __init__(self, max_per_visitor: int = MAX_SOCKETS_PER_VISITOR):
        self.max_per_visitor = max_per_visitor
        self._sockets: dict[int, list[VisitorSocket]] = {}

    def add(self, socket: VisitorSocket) -> VisitorSocket | None:
        sockets = self._sockets.setdefault(socket.customer_id, [])
        sockets.append(socket)
        if len(sockets) > self.max_per_visitor:
            return sockets.pop(0)
        return None

    def discard(self, socket: VisitorSocket) -> None:
        sockets = self._sockets.get(socket.customer_id)
        if sockets is None:
            return
        if socket in sockets:
            sockets.remove(socket)
        if not sockets:
            del self._sockets[socket.customer_id]

    def is_connected(self, customer_id: int) -> bool:
        return bool(self._sockets.get(customer_id))

    async def push(self, customer_id: int, data: dict[str, Any]) -> int:
        delivered = 0
        # Sequentially, not gathered: cheaper per socket (see PERFORMANCE.md), and a visitor has few tabs.
        for socket in list(self._sockets.get(customer_id, ())):
            try:
                await socket.send_json(data)
                delivered += 1
            except Exception:
                log.info("dropping a visitor socket of customer %s that failed a send", customer_id)
                self.discard(socket)
                await socket.close(1011, "send failed")
        return delivered

    async def close_all(self) -> None:
        sockets = [s for group in self._sockets.values() for s in group]
        self._sockets.clear()
        for socket in sockets:
            await socket.close(1001, "server shutting down")
