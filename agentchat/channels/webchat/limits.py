"""Sliding-window limits for the public visitor endpoints: in memory, or shared through Redis.

With one instance (AGENTCHAT_BROKER_URL=memory://) the counts live in the process. With Redis as the broker they
live in Redis, so that N instances allow what one would, not N times as much; if Redis cannot be reached the
instance counts on its own meanwhile (the limit then holds per instance, as before) rather than refuse visitors
or let them through unchecked. Good enough against a script hammering an endpoint; not a DDoS defence.
"""

import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from agentchat.events.broker import REDIS_UNREACHABLE

log = logging.getLogger(__name__)


class Limit(Protocol):
    limit: int

    async def hit(self, key: str) -> int | None:
        """Count one hit; None if allowed, else the whole seconds until a hit would be."""

    def reset(self) -> None: ...


class SlidingWindowLimit:
    """At most `limit` hits per key in any `window_seconds`, counted in this process."""

    def __init__(self, limit: int, window_seconds: float, *, now: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.limit = limit
        self.window = window_seconds
        self.now = now
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str) -> int | None:
        return self.hit_here(key)

    def hit_here(self, key: str) -> int | None:
        now = self.now()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._sweep(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()

    def _sweep(self, now: float) -> None:
        stale = [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:
            # Still full of live keys: forget the oldest half rather than grow without bound.
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]


# One key's hits as a sorted set scored by Redis's own clock in ms (one clock for every instance): drop those out
# of the window, refuse if `limit` remain (answering the ms until the oldest leaves), else add this one (a unique
# member: two instances may hit in the same ms) and let the key expire with the window.
_HIT_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class SharedSlidingWindowLimit:
    """SlidingWindowLimit counted in Redis (under `{prefix}:limit:{name}:{key}`) for every instance at once."""

    def __init__(self, redis, name: str, limit: int, window_seconds: float, *, prefix: str = "agentchat"):
        self.limit = limit
        self._window_ms = math.ceil(window_seconds * 1000)
        self._key = f"{prefix}:limit:{name}:"
        self._script = redis.register_script(_HIT_SCRIPT)
        self._here = SlidingWindowLimit(limit, window_seconds)  # while Redis is unreachable
        self._unreachable_logged = False

    async def hit(self, key: str) -> int | None:
        try:
            wait_ms = await self._script(keys=[self._key + key],
                                         args=[self.limit, self._window_ms, secrets.token_hex(8)])
        except REDIS_UNREACHABLE:
            if not self._unreachable_logged:  # once per outage, not per visitor message
                log.warning("Redis is unreachable; counting %s on this instance alone", self._key.rstrip(":"))
                self._unreachable_logged = True
            return self._here.hit_here(key)
        self._unreachable_logged = False
        return None if int(wait_ms) < 0 else max(1, math.ceil(int(wait_ms) / 1000))

    def reset(self) -> None:
        """Forgets this instance's own counts (tests); the shared ones expire with their window."""
        self._here.reset()


def new_limit(redis, prefix: str, name: str, limit: int, window_seconds: float) -> Limit:
    """A limit counted in this process, or in Redis (`redis` a client, with Redis as the broker) for all
    instances together."""
    if redis is None:
        return SlidingWindowLimit(limit, window_seconds)
    return SharedSlidingWindowLimit(redis, name, limit, window_seconds, prefix=prefix)
