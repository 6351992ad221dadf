"""Brokers carry published events to every instance, numbered by one increasing EventID.

memory:// keeps everything in this process. redis://... uses a Redis stream: an atomic script takes the next
EventID and appends the event under that id, and each instance follows the stream with XREAD. The stream also
holds the recent past (bounded) that reconnecting clients catch up from.
"""

import asyncio
import contextlib
import functools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agentchat.events.model import Event

log = logging.getLogger(__name__)

Envelope = dict[str, Any]
Listener = Callable[[Envelope], Awaitable[None]]
# Web chat visitors' channel: (customer_id, frame). Not agent events: no EventID, nothing retained.
VisitorListener = Callable[[int, dict[str, Any]], Awaitable[None]]

# How many past events a reconnecting client can catch up from.
RETAINED_EVENTS = 10_000

# XREAD's answer: per stream, its entries (ID, fields); None when the block timed out.
_StreamReply = list[tuple[bytes, list[tuple[bytes, dict]]]] | None


class Broker(Protocol):
    async def start(self, listener: Listener) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, events: list[Event]) -> None: ...

    async def since(self, last_event_id: int) -> list[Envelope] | None:
        """Events after `last_event_id`, or None when some of them are no longer retained."""

    async def last_event_id(self) -> int: ...

    async def follow_visitors(self, listener: VisitorListener) -> None:
        """Every instance's web chat hub hears every frame published for visitors (it keeps its own sockets')."""

    async def publish_visitor(self, customer_id: int, frame: dict[str, Any]) -> None:
        """A frame for a visitor's open sockets, on whichever instance holds them; lost if none does."""


class MemoryBroker:
    def __init__(self, retained: int = RETAINED_EVENTS):
        self._next_id = 1
        self._recent: deque[Envelope] = deque(maxlen=retained)
        self._listener: Listener | None = None
        self._visitor_listener: VisitorListener | None = None

    async def start(self, listener: Listener) -> None:
        self._listener = listener

    async def stop(self) -> None:
        self._listener = None
        self._visitor_listener = None

    async def follow_visitors(self, listener: VisitorListener) -> None:
        self._visitor_listener = listener

    async def publish_visitor(self, customer_id: int, frame: dict[str, Any]) -> None:
        if self._visitor_listener is not None:
            await self._visitor_listener(customer_id, frame)

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            envelope = {"EventID": self._next_id, **event.envelope()}
            self._next_id += 1
            self._recent.append(envelope)
            if self._listener is not None:
                await self._listener(envelope)

    async def since(self, last_event_id: int) -> list[Envelope] | None:
        return _after(list(self._recent), last_event_id, self._next_id - 1)

    async def last_event_id(self) -> int:
        return self._next_id - 1


def _after(recent: list[Envelope], last_event_id: int, newest: int) -> list[Envelope] | None:
    if last_event_id >= newest:
        return []
    if not recent or recent[0]["EventID"] > last_event_id + 1:
        return None
    return [e for e in recent if e["EventID"] > last_event_id]


# Atomic: the next EventID and the append under it, so the stream's order is the EventID order.
# ARGV[3] is the highest EventID this instance has seen: a Redis restarted without persistence starts
# the counter from nothing, and EventIDs must keep increasing (clients hold the last one they saw), so the
# counter is first pushed forward to it. Clients behind the (now empty) stream then get ResyncRequired.
_PUBLISH_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[3])
if current < floor then redis.call('SET', KEYS[1], floor) end
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id .. '-0', 'e', ARGV[1])
return id
"""


_COMMAND_ATTEMPTS = 3
# What a Redis command raises when Redis cannot be reached (down, restarting, the network); also the channels'
# shared notes (webchat/limits.py, whatsapp/receipts.py) fall back to their own on these.
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisBroker:
    def __init__(self, url: str, *, prefix: str = "agentchat", retained: int = RETAINED_EVENTS):
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._counter_key = f"{prefix}:event_id"
        self._stream_key = f"{prefix}:events"
        # Visitor frames go over pub/sub: fire and forget, like a socket push (the page catches up by GET).
        self._visitor_channel = f"{prefix}:visitors"
        self._visitor_reader: asyncio.Task | None = None
        self._retained = retained
        self._script = self._redis.register_script(_PUBLISH_SCRIPT)
        self._reader: asyncio.Task | None = None
        # The highest EventID this instance has published, followed or read from the counter.
        self._high = 0

    async def start(self, listener: Listener) -> None:
        last = await self.last_event_id()
        self._reader = asyncio.create_task(self._follow(listener, last))

    async def stop(self) -> None:
        for task in (self._reader, self._visitor_reader):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._redis.aclose()

    async def follow_visitors(self, listener: VisitorListener) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # Subscribed before this returns, so no frame published after start-up is missed.
        await self._command(lambda: pubsub.subscribe(self._visitor_channel))
        self._visitor_reader = asyncio.create_task(self._follow_visitors(pubsub, listener))

    async def publish_visitor(self, customer_id: int, frame: dict[str, Any]) -> None:
        payload = json.dumps({"CustomerID": customer_id, "Frame": frame}, ensure_ascii=False, separators=(",", ":"))
        await self._command(lambda: self._redis.publish(self._visitor_channel, payload))

    async def _follow_visitors(self, pubsub, listener: VisitorListener) -> None:
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=1.0)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Redis restarted: frames meanwhile are lost, pages catch up with GET on reconnect.
                    log.warning("lost the Redis visitor channel; retrying", exc_info=True)
                    await asyncio.sleep(0.5)
                    with contextlib.suppress(Exception):
                        await pubsub.subscribe(self._visitor_channel)
                    continue
                if message is None or message.get("type") != "message":
                    continue
                try:
                    data = json.loads(message["data"])
                    await listener(int(data["CustomerID"]), data["Frame"])
                except Exception:
                    log.exception("a visitor frame could not be handled")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            payload = json.dumps(event.envelope(), separators=(",", ":"))
            event_id = await self._command(functools.partial(self._append, payload))
            self._seen(int(event_id))

    def _append(self, payload: str) -> Awaitable[Any]:
        # self._high read at each attempt: a retry carries what was seen meanwhile.
        return self._script(keys=[self._counter_key, self._stream_key], args=[payload, self._retained, self._high])

    async def last_event_id(self) -> int:
        try:
            value = await self._command(lambda: self._redis.get(self._counter_key))
        except REDIS_UNREACHABLE:
            log.warning("Redis is unreachable; using the last EventID this instance saw")
            return self._high
        # Never lower than what this instance has seen (a restarted Redis has lost its counter).
        return self._seen(int(value or 0))

    async def _command(self, command: Callable[[], Awaitable[Any]]) -> Any:
        """Run a Redis command, again on a fresh connection if a pooled one died with a restarted Redis."""
        for attempt in range(_COMMAND_ATTEMPTS):
            try:
                return await command()
            except REDIS_UNREACHABLE:
                if attempt == _COMMAND_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

    def _seen(self, event_id: int) -> int:
        self._high = max(self._high, event_id)
        return self._high

    async def since(self, last_event_id: int) -> list[Envelope] | None:
        newest = await self.last_event_id()
        if last_event_id >= newest:
            return []
        try:
            entries = await self._command(lambda: self._redis.xrange(
                self._stream_key, min=f"{last_event_id + 1}-0", max="+"))
            oldest = await self._command(lambda: self._redis.xrange(self._stream_key, min="-", max="+", count=1))
        except REDIS_UNREACHABLE:
            log.warning("Redis is unreachable; the client is told to resync")
            return None
        recent = [_decode(entry_id, fields) for entry_id, fields in entries]
        if not oldest or _event_id(oldest[0][0]) > last_event_id + 1:
            return None
        return recent

    async def _follow(self, listener: Listener, last: int) -> None:
        cursor = f"{last}-0"
        while True:
            try:
                # redis-py types the answer of either protocol; ours is RESP2's, a list.
                reply = cast(_StreamReply, await self._redis.xread({self._stream_key: cursor}, block=1000, count=500))
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarted or the network blinked: clients catch up by EventID once it is back.
                log.warning("lost the Redis event stream; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    envelope = _decode(entry_id, fields)
                    self._seen(envelope["EventID"])
                    await listener(envelope)


def _event_id(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _decode(entry_id: bytes | str, fields: dict) -> Envelope:
    payload: bytes | str = fields.get(b"e") or fields["e"]
    return {"EventID": _event_id(entry_id), **json.loads(payload)}


def create_broker(url: str, prefix: str = "agentchat") -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, prefix=prefix)
    raise ValueError(f"AGENTCHAT_BROKER_URL must be memory:// or redis://..., not {url.split(':', 1)[0]}://")
