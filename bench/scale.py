"""The scale curve (issue 22): the hot calls at several data sizes, and the throughput of 1 and 2 workers.

    python -m bench.scale --backends postgresql --sizes 10000,100000,1000000
    python -m bench.scale --backends sqlite --sizes 10000,100000
    python -m bench.scale --backends postgresql --sizes 100000 --worker-counts 1,2      # the sizing table's figures

Per size: each call's CPU µs per request and p99 (wrk, beside the ceiling as in `python -m bench`), the server's
peak RSS, the database's size per million messages, and how long the data set took to build and load. Then, per
call, the largest size's CPU µs over the smallest's (goal: ≤ 1.25×, cost flat with size). Other options are
`python -m bench`'s (--duration, --connections, --scenarios ...); sockets, the fixed-rate runs and the scheduled
report are left to `python -m bench`.
"""

import asyncio
import copy
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.__main__ import ADMIN_URL, DATABASE, make_parser, run_backend
from bench.dataset import Shape, build_rows


@dataclass
class Point:
    backend: str
    chats: int
    workers: int
    calls: dict[str, tuple[float, float, float | None]] = field(default_factory=dict)  # name: (req/s, p99, CPU µs)
    bytes_per_million_messages: float = math.nan
    peak_rss_mib: float = math.nan
    build_seconds: float = math.nan


def flatness(points: list[Point], call: str) -> float:
    """CPU µs per request at the largest size over the smallest's (NaN without both)."""
    measured = sorted((p.chats, p.calls[call][2]) for p in points if call in p.calls and p.calls[call][2])
    if len(measured) < 2:
        return math.nan
    return measured[-1][1] / measured[0][1]


def per_million(size_bytes: int, messages: int) -> float:
    return size_bytes / messages * 1_000_000 if messages else math.nan


async def postgres_size() -> tuple[int, int]:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}")
    try:
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
        return size, await connection.fetchval("SELECT count(*) FROM message")
    finally:
        await connection.close()


def sqlite_size(path: Path) -> tuple[int, int]:
    import sqlite3

    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as connection:
        return size, connection.execute("SELECT count(*) FROM message").fetchone()[0]


def measure(backend: str, chats: int, workers: int, base_args, work: Path) -> Point:
    args = copy.copy(base_args)
    args.chats, args.workers, args.sockets, args.fixed_rate = chats, workers, 0, 0
    started = time.monotonic()
    from argon2 import PasswordHasher

    shape = Shape(chats=chats)
    rows, seeded = build_rows(shape, PasswordHasher().hash("bench-password"))
    built = time.monotonic() - started  # in memory; run_backend prints the bulk load's time
    results, _ceilings, _fan, _hello, _fixed = run_backend(backend, rows, seeded, args, work)
    point = Point(backend, chats, workers, peak_rss_mib=getattr(args, "server_peak_mib", math.nan),
                  build_seconds=built)
    for r in results[1:]:
        point.calls[r.name] = (r.rps, r.p99_ms, r.cpu_us)
    size, messages = asyncio.run(postgres_size()) if backend == "postgresql" else sqlite_size(work / "bench.db")
    point.bytes_per_million_messages = per_million(size, messages)
    return point


def print_curve(points: list[Point], calls: list[str]) -> None:
    print("\n## scale curve: CPU µs per request / p99 ms per call and size (one row per backend, size, workers)")
    print("| backend | chats | workers | " + " | ".join(calls) + " | DB MiB per 1M messages | server peak RSS MiB "
          "| data built in s |")
    print("|---|---|---|" + "---|" * len(calls) + "---|---|---|")
    for p in points:
        cells = []
        for call in calls:
            rps, p99, cpu = p.calls.get(call, (math.nan, math.nan, None))
            cells.append(f"{cpu:.0f} µs / {p99:.1f} ms / {rps:.0f} req/s" if cpu else "n/a")
        print(f"| {p.backend} | {p.chats:,} | {p.workers} | " + " | ".join(cells)
              + f" | {p.bytes_per_million_messages / 2**20:.0f} | {p.peak_rss_mib:.0f} | {p.build_seconds:.1f} |")
    for backend in sorted({p.backend for p in points}):
        mine = [p for p in points if p.backend == backend and p.workers == 1]
        ratios = ", ".join(f"{call} " + ("n/a" if math.isnan(flatness(mine, call)) else f"{flatness(mine, call):.2f}×")
                           for call in calls)
        print(f"\n{backend}: CPU µs per request, largest size over smallest (goal ≤ 1.25×): {ratios}")
    sys.stdout.flush()


def main() -> None:
    parser = make_parser("python -m bench.scale")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--worker-counts", default="1")
    args = parser.parse_args()
    args.scenarios = args.scenarios.split(",")
    points = []
    with tempfile.TemporaryDirectory(prefix="agentchat-scale-") as tmp:
        for backend in args.backends.split(","):
            for chats in (int(s) for s in args.sizes.split(",")):
                for workers in (int(w) for w in args.worker_counts.split(",")):
                    points.append(measure(backend, chats, workers, args, Path(tmp)))
                    print(f"[{backend}] {chats:,} chats, {workers} worker(s): done", file=sys.stderr)
    print_curve(points, args.scenarios)


if __name__ == "__main__":
    main()
