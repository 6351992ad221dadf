"""Which visitor WebSockets are open, and pushing JSON to them.

A hub knows the sockets of its own process. Pushes go through the broker's visitor channel
(`push_to_visitor`): every instance's hub hears every frame (`deliver`) and hands it to its own sockets of
that customer, so a visitor on instance B gets an agent's reply sent through instance A.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from agentchat.events.broker import Broker

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

    @asynccontextmanager
    async def opening(self) -> AsyncIterator[None]:
        """Sends wait until the block ends: the socket is registered before it is accepted."""
        async with self._lock:
            yield

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

    async def deliver(self, customer_id: int, data: dict[str, Any]) -> None:
        """The broker's visitor listener: push to this process's sockets of the visitor, without blocking."""

    async def close_all(self) -> None: ...


async def push_to_visitor(broker: Broker, customer_id: int, data: dict[str, Any]) -> bool:
    """Publish a frame for the visitor's sockets on every instance; False if the broker could not take it
    (the page catches up with GET /webchat/messages?After= when it reconnects)."""
    try:
        await broker.publish_visitor(customer_id, data)
        return True
    except Exception:
        log.warning("could not publish a frame for visitor %s", customer_id, exc_info=True)
        return False


class LocalVisitorHub:
    """The sockets of this process, by customer."""

    def __init__(self, max_per_visitor: int = MAX_SOCKETS_PER_VISITOR):
        self.max_per_visitor = max_per_visitor
        self._sockets: dict[int, list[VisitorSocket]] = {}
        # Frames heard from the broker wait here per visitor, sent in order by one task per visitor, so a
        # stalled browser holds up only its own visitor's frames, never the broker's listener.
        self._waiting: dict[int, deque[dict[str, Any]]] = {}
        self._senders: set[asyncio.Task] = set()

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

    async def deliver(self, customer_id: int, data: dict[str, Any]) -> None:
        if customer_id not in self._sockets:
            return  # not connected here: most frames, with several instances
        waiting = self._waiting.get(customer_id)
        if waiting is not None:  # a sender task is already draining this visitor's frames
            waiting.append(data)
            return
        self._waiting[customer_id] = deque([data])
        task = asyncio.create_task(self._drain(customer_id))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _drain(self, customer_id: int) -> None:
        waiting = self._waiting[customer_id]
        try:
            while waiting:
                await self.push(customer_id, waiting.popleft())
        finally:
            del self._waiting[customer_id]

    async def close_all(self) -> None:
        for task in list(self._senders):
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        sockets = [s for group in self._sockets.values() for s in group]
        self._sockets.clear()
        for socket in sockets:
            await socket.close(1001, "server shutting down")
