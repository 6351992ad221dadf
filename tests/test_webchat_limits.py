"""The web chat's limits shared through Redis (channels/webchat/limits.py): instances count together, the window
slides, and an unreachable Redis leaves each instance counting alone instead of failing visitors."""

import asyncio
import logging
import os
import uuid

import redis.asyncio as redis

from agentchat.channels.webchat.limits import SharedSlidingWindowLimit, SlidingWindowLimit

REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _limits(count: int, limit: int, window: float, url: str = REDIS_URL):
    """`count` instances' limits on one Redis (each with its own client), under a prefix of their own."""
    prefix = f"agentchat_test_{uuid.uuid4().hex}"
    clients = [redis.from_url(url) for _ in range(count)]
    return clients, [SharedSlidingWindowLimit(c, "visitors", limit, window, prefix=prefix) for c in clients]


async def _close(clients) -> None:
    for client in clients:
        await client.aclose()


def test_instances_count_one_keys_hits_together():
    async def scenario():
        clients, (a, b) = _limits(2, limit=3, window=60)
        try:
            assert [await a.hit("203.0.113.9"), await b.hit("203.0.113.9"), await a.hit("203.0.113.9")] == [None] * 3
            for limit in (b, a):
                assert 1 <= await limit.hit("203.0.113.9") <= 60  # seconds until the oldest hit leaves the window
            assert await b.hit("203.0.113.10") is None  # another key has its own count
        finally:
            await _close(clients)
    asyncio.run(scenario())


def test_the_window_slides():
    async def scenario():
        clients, (a, b) = _limits(2, limit=2, window=0.5)
        try:
            assert await a.hit("v1") is None and await b.hit("v1") is None
            assert await a.hit("v1") == 1  # under a second left: at least 1, as Retry-After is whole seconds
            await asyncio.sleep(0.6)
            assert await b.hit("v1") is None
        finally:
            await _close(clients)
    asyncio.run(scenario())


def test_unreachable_redis_counts_on_this_instance_and_says_so_once(caplog):
    async def scenario():
        clients, (alone,) = _limits(1, limit=2, window=60, url="redis://127.0.0.1:1/0")  # nothing listens there
        try:
            with caplog.at_level(logging.WARNING, logger="agentchat.channels.webchat.limits"):
                assert [await alone.hit("v1"), await alone.hit("v1")] == [None, None]
                assert 1 <= await alone.hit("v1") <= 60
                assert await alone.hit("v2") is None
        finally:
            await _close(clients)
    asyncio.run(scenario())
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_in_process_limit_answers_alike():
    clock = [1000.0]
    limit = SlidingWindowLimit(2, 60, now=lambda: clock[0])
    assert [asyncio.run(limit.hit("v")) for _ in range(2)] == [None, None]
    clock[0] += 20.5
    assert asyncio.run(limit.hit("v")) == 40  # the first hit leaves at 1060
    clock[0] += 40
    assert asyncio.run(limit.hit("v")) is None
