"""Latency at a fixed offered rate (open loop): requests start at constant intervals whatever the answers do, and
each latency runs from when its request was due, not from when a connection was free to send it. A closed loop
(wrk's 64 connections, each waiting for its answer) makes latency a mirror of throughput (Little's law) and hides
queueing behind its own waiting ("coordinated omission"); this does not.

    python -m bench.openloop HOST PORT REQUESTS.json RATE SECONDS [CONNECTIONS]   # prints one JSON line

REQUESTS.json: a list of whole HTTP/1.1 requests (text), sent in turn. Only 2xx answers count in the latencies
(a GrabChat that lost the race is not a grab); the others are counted apart.
"""

import asyncio
import json
import math
import sys
import time
from dataclasses import asdict, dataclass


@dataclass
class OpenLoopResult:
    rate: float  # offered, requests a second
    sent: int
    ok: int  # 2xx answers: the latencies are theirs
    refused: int  # other answers (4xx, 5xx)
    failed: int  # no answer (connection lost, timeout)
    p50_ms: float
    p99_ms: float
    max_ms: float


def arrivals(rate: float, seconds: float) -> list[float]:
    """When each request is due, in seconds from the start: constant intervals of 1/rate."""
    return [i / rate for i in range(int(rate * seconds))]


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of the values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer (Content-Length or chunked body); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def drive(host: str, port: int, requests: list[bytes], rate: float, seconds: float,
                connections: int = 64, timeout: float = 10.0) -> OpenLoopResult:
    """Offer `rate` requests a second for `seconds` over up to `connections` kept-alive connections."""
    free: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(None)  # a slot; its connection is opened when first used
    latencies: list[float] = []
    counts = {"refused": 0, "failed": 0}

    async def one(request: bytes, due: float) -> None:
        connection = await free.get()
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            writer.write(request)
            status = await asyncio.wait_for(_answer(reader), timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            counts["failed"] += 1
            if connection is not None:
                connection[1].close()
            free.put_nowait(None)
            return
        if 200 <= status < 300:
            latencies.append((time.perf_counter() - due) * 1000)
        else:
            counts["refused"] += 1
        free.put_nowait(connection)

    start = time.perf_counter() + 0.05
    tasks = []
    for n, offset in enumerate(arrivals(rate, seconds)):
        due = start + offset
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(requests[n % len(requests)], due)))
    await asyncio.gather(*tasks)
    while not free.empty():
        connection = free.get_nowait()
        if connection is not None:
            connection[1].close()
    return OpenLoopResult(rate=rate, sent=len(tasks), ok=len(latencies), refused=counts["refused"],
                          failed=counts["failed"], p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
                          max_ms=max(latencies, default=math.nan))


def main() -> None:
    host, port, path, rate, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    connections = int(sys.argv[6]) if len(sys.argv) > 6 else 64
    with open(path) as file:
        requests = [r.encode() for r in json.load(file)]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(drive(host, port, requests, rate, seconds, connections))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
