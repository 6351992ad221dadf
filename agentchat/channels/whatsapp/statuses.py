"""Statuses that arrive before the send's answer.

Meta may report `sent` or `delivered` for a wamid before its answer to our send call has given us that wamid
(a slow answer, a retried call). Such a status, for a wamid no message has yet, is kept here for a while and
applied once the send is recorded (WhatsAppSender.recorded). Each instance keeps them in memory; with Redis as
the broker they are kept there too (`<prefix>:whatsapp_early_status:<wamid>`), so the instance that sent the
message finds what another instance's webhook received.
"""

import json
import logging
import time

from agentchat.events.broker import REDIS_UNREACHABLE

log = logging.getLogger(__name__)

KEEP_SECONDS = 600
MAX_KEPT = 10_000


class EarlyStatuses:
    def __init__(self, redis=None, prefix: str = "agentchat"):
        self.redis = redis
        self.prefix = prefix
        self._kept: dict[str, list[tuple[float, str, str | None]]] = {}

    def _key(self, wamid: str) -> str:
        return f"{self.prefix}:whatsapp_early_status:{wamid}"

    async def keep(self, wamid: str, status: str, failure_reason: str | None) -> None:
        now = time.monotonic()
        if len(self._kept) >= MAX_KEPT:
            self._forget_old(now)
        self._kept.setdefault(wamid, []).append((now, status, failure_reason))
        if self.redis is not None:
            try:
                await self.redis.hset(self._key(wamid), status, json.dumps(failure_reason))
                await self.redis.expire(self._key(wamid), KEEP_SECONDS)
            except REDIS_UNREACHABLE:
                log.warning("Redis is unreachable: an early WhatsApp status is kept on this instance only")

    async def take(self, wamid: str) -> list[tuple[str, str | None]]:
        """The statuses kept for `wamid` (and forgets them)."""
        now = time.monotonic()
        found = {status: reason for at, status, reason in self._kept.pop(wamid, []) if now - at < KEEP_SECONDS}
        if self.redis is not None:
            try:
                shared = await self.redis.hgetall(self._key(wamid))
                if shared:
                    await self.redis.delete(self._key(wamid))
                for status, reason in shared.items():
                    found[status.decode()] = json.loads(reason)
            except REDIS_UNREACHABLE:
                pass
        return list(found.items())

    def _forget_old(self, now: float) -> None:
        self._kept = {wamid: kept for wamid, kept in self._kept.items() if now - kept[-1][0] < KEEP_SECONDS}
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
