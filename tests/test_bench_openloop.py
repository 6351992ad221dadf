"""bench/'s fixed-rate (open-loop) driver and its arithmetic, against a real HTTP server on loopback."""

import asyncio
import math

from bench import fixedrate, openloop, targets
from bench.__main__ import Result, successes_only
from bench.dataset import Seeded


def test_arrivals_are_constant_intervals():
    due = openloop.arrivals(rate=100, seconds=2)
    assert len(due) == 200 and due[0] == 0
    assert all(math.isclose(b - a, 0.01) for a, b in zip(due, due[1:], strict=False))


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (openloop.percentile(values, 50), openloop.percentile(values, 99), openloop.percentile(values, 100)) == (
        50.0, 99.0, 100.0)
    assert math.isnan(openloop.percentile([], 99))


async def _serve(stall_first: float = 0.0):
    """A keep-alive HTTP/1.1 server: /ok is 200, /lost is 409; the very first request waits `stall_first`."""
    state = {"first": True}

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if state["first"] and stall_first:
                    state["first"] = False
                    await asyncio.sleep(stall_first)
                status = b"200 OK" if b" /ok " in head.split(b"\r\n", 1)[0] + b" " else b"409 Conflict"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_only_2xx_answers_count_in_the_latencies():
    async def run():
        server, port = await _serve()
        async with server:
            requests = [fixedrate.http_request("GET", "/ok", None).encode(),
                        fixedrate.http_request("POST", "/lost", "t", "{}").encode()]
            return await openloop.drive("127.0.0.1", port, requests, rate=200, seconds=0.5, connections=4)

    result = asyncio.run(run())
    assert (result.sent, result.ok, result.refused, result.failed) == (100, 50, 50, 0)


def test_a_stall_counts_for_every_request_due_behind_it():
    """Latency runs from when a request was due: a closed loop would not have sent the ones behind the stall and
    would report them fast (coordinated omission)."""
    async def run():
        server, port = await _serve(stall_first=0.3)
        async with server:
            request = fixedrate.http_request("GET", "/ok", None).encode()
            return await openloop.drive("127.0.0.1", port, [request], rate=50, seconds=1, connections=1)

    result = asyncio.run(run())
    assert result.ok == 50 and result.max_ms >= 300
    # Requests 2..15 were due during the stall and waited behind it, each for (0.3 s minus its due time).
    assert result.p99_ms >= 250


def test_grabchat_counts_successful_grabs_only():
    both = Result("GrabChat", rps=1000.0, p50_ms=5.0, p99_ms=20.0, requests=10_000, errors=9_000, cpu_us=100.0)
    grabs = successes_only(both)
    assert (grabs.rps, grabs.requests, grabs.errors) == (100.0, 1000, 9000)
    assert math.isclose(grabs.cpu_us, 1000.0)  # all the CPU, over the grabs
    assert successes_only(Result("GrabChat", 50.0, 1, 2, 500, 500, 10.0)).rps == 0.0


def test_grabs_are_offered_no_faster_than_the_queues_last():
    assert fixedrate.grab_rate_cap(queued=30_000, seconds=10, grabbed_before=5_000) == 2_000.0
    assert fixedrate.grab_rate_cap(queued=100, seconds=10, grabbed_before=500) == 0.0


def test_requests_are_whole_http_requests():
    seeded = Seeded(agent_tokens=[(1, "tok1", 1), (2, "tok2", 2)], manager_tokens=["m1"], assigned={1: [7], 2: [8]},
                    names=["Thandi Nkosi"])
    for kind in ("ceiling", "SendMessage", "GetChats", "GrabChat", "SearchCustomer", "GetLiveMetrics"):
        for request in fixedrate.raw_requests(kind, seeded, count=5):
            head, _, body = request.partition("\r\n\r\n")
            assert head.split("\r\n")[0].endswith(" HTTP/1.1") and "Authorization: Bearer " in head
            if body:
                assert f"Content-Length: {len(body.encode())}" in head


def test_p99_at_a_fixed_rate_is_judged_against_twice_the_ceilings():
    row = fixedrate.FixedRate("SendMessage", 3000.0, 30_000, 0, 0, 2.0, 9.0, 5.0)
    assert math.isclose(row.p99_ratio, 1.8)
    found = targets.fixed_rate_verdicts("postgresql", {"SendMessage": 1.8, "GetChats": 2.4, "GrabChat": math.nan})
    assert [v.met(v.here) for v in found] == [True, False, None]


def test_the_scale_curve_judges_cost_from_the_smallest_size_to_the_largest():
    from bench.scale import Point, flatness, per_million

    points = [Point("postgresql", 1_000_000, 1, {"SendMessage": (3000.0, 20.0, 250.0)}),
              Point("postgresql", 10_000, 1, {"SendMessage": (3100.0, 18.0, 200.0), "GetChats": (1.0, 1.0, None)}),
              Point("postgresql", 100_000, 1, {"SendMessage": (3050.0, 19.0, 230.0)})]
    assert flatness(points, "SendMessage") == 1.25
    assert math.isnan(flatness(points, "GetChats"))  # one size measured: no curve
    assert per_million(size_bytes=300 * 2**20, messages=3_000_000) == 100 * 2**20


def test_several_workers_serve_one_port():
    from bench.__main__ import server_argv

    assert server_argv(8000, 1)[-4:] == ["agentchat", "serve", "--port", "8000"]
    argv = server_argv(8000, 2)
    assert argv[argv.index("--workers") + 1] == "2" and "--factory" in argv and "agentchat.app:create_app" in argv


def test_the_bulk_data_set_fills_every_column_of_every_row():
    from agentchat.db import Base
    from bench.dataset import Shape, build_rows

    rows, seeded = build_rows(Shape(chats=200, managers=1, manager_sessions=2), "hash")
    tables = Base.metadata.tables
    assert len(rows["message"]) == 2000 and len(rows["chat"]) == 200
    for name, records in rows.items():
        columns = list(tables[name].columns)
        assert all(len(r) == len(columns) for r in records), name
        for i, column in enumerate(columns):  # a NOT NULL column with a default is never left empty
            if not column.nullable and column.default is not None:
                assert all(r[i] is not None for r in records), (name, column.name)
    assert len(seeded.manager_tokens) == 2 and seeded.assigned
