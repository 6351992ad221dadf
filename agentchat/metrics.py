"""GET /metrics in Prometheus' text format: request counts and latency, plus live gauges read on scrape."""

import time
from collections import defaultdict

from fastapi import Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from agentchat.agents.models import Agent
from agentchat.chats.models import Chat

# Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class MetricsRegistry:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[str, float] = defaultdict(float)
        self.in_progress = 0  # requests begun and not yet answered (a scrape counts itself)

    def observe(self, method: str, path: str, status: int, elapsed: float) -> None:
        self.counts[(method, path, status)] += 1
        counts = self.buckets[path]
        for index, bound in enumerate(BUCKETS):
            if elapsed <= bound:
                counts[index] += 1
                break
        else:
            counts[-1] += 1
        self.sums[path] += elapsed

    def render(self) -> list[str]:
        lines = ["# TYPE agentchat_http_requests_total counter"]
        for (method, path, status), count in sorted(self.counts.items()):
            lines.append(f'agentchat_http_requests_total{{method="{method}",path="{path}",status="{status}"}} {count}')
        lines.append("# TYPE agentchat_http_request_seconds histogram")
        for path, counts in sorted(self.buckets.items()):
            running = 0
            for bound, count in zip((*BUCKETS, "+Inf"), counts, strict=True):
                running += count
                lines.append(f'agentchat_http_request_seconds_bucket{{path="{path}",le="{bound}"}} {running}')
            lines.append(f'agentchat_http_request_seconds_count{{path="{path}"}} {running}')
            lines.append(f'agentchat_http_request_seconds_sum{{path="{path}"}} {self.sums[path]:.6f}')
        lines.append("# TYPE agentchat_http_requests_in_progress gauge")
        lines.append(f"agentchat_http_requests_in_progress {self.in_progress}")
        return lines


class RequestMetrics:
    """Pure ASGI middleware: cheaper per request than BaseHTTPMiddleware, and it sees the matched route."""

    def __init__(self, app, registry: MetricsRegistry):
        self.app = app
        self.registry = registry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        observed = False

        def observe() -> None:
            nonlocal observed
            if not observed:
                observed = True
                # The router records the matched route in the scope; unmatched paths share one label.
                path = getattr(scope.get("route"), "path", "unmatched")
                self.registry.observe(scope["method"], path, status, time.perf_counter() - started)

        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Counted before the last byte leaves, so a client's next request already sees it.
                observe()
            await send(message)

        self.registry.in_progress += 1
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.registry.in_progress -= 1
            observe()


async def metrics_endpoint(request: Request) -> PlainTextResponse:
    lines = request.app.state.request_metrics.render()
    async with request.app.state.sessionmaker() as db:
        chats = (await db.execute(select(Chat.status, func.count()).group_by(Chat.status))).all()
        agents = (await db.execute(select(Agent.status_id, func.count()).where(Agent.enabled.is_(True))
                                   .group_by(Agent.status_id))).all()
    lines.append("# TYPE agentchat_chats gauge")
    lines += [f'agentchat_chats{{status="{status}"}} {count}' for status, count in chats]
    lines.append("# TYPE agentchat_agents gauge")
    lines += [f'agentchat_agents{{status_id="{status_id}"}} {count}' for status_id, count in agents]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
