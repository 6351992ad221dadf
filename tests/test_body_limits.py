"""Request bodies are limited per route while they are read, before parsing and before authentication
(issue 17): a declared length over the limit is refused before the app runs, a chunked body as soon as it
passes it; either way 413 `request_too_large` in the error envelope, and the server's memory stays flat."""

import asyncio
import json
import re

import httpx
from conftest import assert_error
from fastapi.routing import APIRoute

from agentchat.bodylimit import DEFAULT_LIMIT

MB = 1024 * 1024
CHUNK = b"x" * MB  # one buffer, sent over and over: the test itself holds no 100 MB


async def stream(megabytes: int):
    for _ in range(megabytes):
        yield CHUNK


def post_all(server, requests: list[tuple[str, int, bool]]) -> list[httpx.Response]:
    """POST (path, megabytes, declared) all at once; declared: with Content-Length, else chunked."""
    async def one(client, path, megabytes, declared):
        headers = {"Content-Type": "application/json"}
        if declared:
            headers["Content-Length"] = str(megabytes * MB)
        return await client.post(path, content=stream(megabytes), headers=headers)

    async def run():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120,
                                     limits=httpx.Limits(max_connections=len(requests) + 2)) as client:
            return await asyncio.gather(*[one(client, *request) for request in requests])
    return asyncio.run(run())


def peak_rss_kib() -> int:
    """This process's peak resident memory since reset_peak_rss (the test servers run in this process)."""
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1))


def reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


class TestBodyLimits:
    def test_a_declared_length_over_the_limit_is_413_before_the_session_check(self, server, api):
        body = json.dumps({"Name": "x" * DEFAULT_LIMIT}).encode()
        for path in ("/api/CreateAgent", "/api/AgentLogon", "/webchat/visitors", "/api/NoSuchCall"):
            response = api.http.post(path, content=body, headers={"Content-Type": "application/json"})
            assert_error(response, 413, "request_too_large")

    def test_a_chunked_body_is_cut_off_when_it_passes_the_limit(self, server, api):
        for response in post_all(server, [("/api/CreateAgent", 1, False), ("/webchat/visitors", 1, False)]):
            assert_error(response, 413, "request_too_large")

    def test_no_get_route_reads_a_body(self, server):
        # The limit skips GET and HEAD (their bodies are never read, so never held): it must stay true.
        for route in server.app.routes:
            if isinstance(route, APIRoute) and route.methods & {"GET", "HEAD"}:
                assert not route.dependant.body_params, route.path

    def test_bodies_within_their_routes_limits_are_served(self, server, api, manager):
        # Long texts of emoji, as JSON spells them (12 bytes each): beyond the default, within the call's limit.
        greeting = "\U0001F642" * 4096
        body = json.dumps({"Settings": [{"OutOfHoursMessage": greeting}, {"QueuedMessage": greeting}]})
        assert len(body) > DEFAULT_LIMIT
        response = api.http.post("/api/UpdateSettings", params={"SessionToken": manager}, content=body,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        # Under the limit but chunked: read as usual.
        (small,) = post_all(server, [("/api/CreateAgent", 0, False)])
        assert_error(small, 401, "session_required")

    def test_memory_stays_flat_under_eight_concurrent_100_mb_bodies(self, server, api):
        paths = ["/api/CreateAgent", "/webchat/visitors", "/api/UpdateSettings", "/webhooks/whatsapp"]
        post_all(server, [(path, 1, False) for path in paths])  # warmed up: first-use allocations aside
        reset_peak_rss()
        before = peak_rss_kib()
        responses = post_all(server, [(path, 100, declared) for path in paths for declared in (True, False)])
        grown_mib = (peak_rss_kib() - before) / 1024
        # 800 MB went in; before the limit the process grew by over a gigabyte.
        assert grown_mib < 64, f"the process grew by {grown_mib:.0f} MiB"
        for response in responses:
            assert_error(response, 413, "request_too_large")
