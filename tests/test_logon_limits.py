"""The logon limit under concurrency, and the bound on password hashes (issue 17): whatever the number of
parallel guesses, only the limit's worth get their password checked; a flood of logons waits in a short
queue for the hash slots, and beyond it is turned away at once rather than stall the service."""

import asyncio

import httpx
from conftest import PASSWORD, add_agent, assert_error

from agentchat.security import HashSlots

GUESSES = 40


def logon_all(server, bodies: list[dict]) -> list[httpx.Response]:
    async def run():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60,
                                     limits=httpx.Limits(max_connections=len(bodies) + 5)) as client:
            return await asyncio.gather(*[client.post("/api/AgentLogon", json=body) for body in bodies])
    return asyncio.run(run())


class TestConcurrentGuesses:
    def test_forty_parallel_guesses_get_only_the_limit_checked(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        limit = server.settings.logon_max_failures
        responses = logon_all(server, [{"EmailAddress": "ann@example.com", "Password": f"guess {n}"}
                                       for n in range(GUESSES)])
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [401] * limit + [429] * (GUESSES - limit)
        for response in responses:
            if response.status_code == 429:
                assert_error(response, 429, "too_many_attempts")
        # The right password after the limit is refused as well.
        assert_error(api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": PASSWORD}), 429,
                     "too_many_attempts")

    def test_parallel_guesses_at_many_addresses_from_one_ip_are_limited_too(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        limit = server.settings.logon_max_failures
        responses = logon_all(server, [{"EmailAddress": f"user{n}@example.com", "Password": "guess"}
                                       for n in range(GUESSES)])
        assert sorted(r.status_code for r in responses) == [401] * limit + [429] * (GUESSES - limit)
        assert_error(api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": PASSWORD}), 429)


class TestHashSlots:
    def test_a_full_queue_is_turned_away_at_once_uncounted_while_other_calls_go_on(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        slots = HashSlots(1, 1)
        original, server.app.state.hash_slots = server.app.state.hash_slots, slots
        server.run(slots.semaphore.acquire())  # every hash slot taken: nobody's password can be checked

        async def run():
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
                attempts = [asyncio.ensure_future(client.post("/api/AgentLogon", json={
                    "EmailAddress": "ann@example.com", "Password": f"guess {n}"})) for n in range(4)]
                done, waiting = await asyncio.wait(attempts, timeout=20, return_when=asyncio.FIRST_COMPLETED)
                while len(done) < 3 and waiting:
                    more, waiting = await asyncio.wait(waiting, timeout=20, return_when=asyncio.FIRST_COMPLETED)
                    done |= more
                turned_away = [task.result() for task in done]
                # Meanwhile the service answers everything else.
                alive = await client.get("/api/KeepAlive", params={"SessionToken": token})
                server.loop.call_soon_threadsafe(slots.semaphore.release)
                (queued,) = [await task for task in waiting]
                return turned_away, alive, queued

        try:
            turned_away, alive, queued = asyncio.run(run())
        finally:
            server.app.state.hash_slots = original
        assert len(turned_away) == 3
        for response in turned_away:
            assert_error(response, 503, "busy")
            assert response.headers["Retry-After"] == "1"
        assert alive.status_code == 200
        assert_error(queued, 401, "invalid_credentials")
        # Only the one whose password was checked counts as a failure: the right password still works.
        assert api.logon("ann@example.com")
