"""An in-memory sliding-window limit, for the public visitor endpoints.

Per process: with several instances each keeps its own count, so the effective limit is multiplied by
the number of instances. Good enough against a script hammering one endpoint; not a DDoS defence.
"""

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimit:
    """At most `limit` hits per key in any `window_seconds`."""

    def __init__(self, limit: int, window_seconds: float, *, now: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.limit = limit
        self.window = window_seconds
        self.now = now
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> int | None:
        """Count one hit; returns None if allowed, else the seconds until the next hit would be."""
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
