"""Search over many messages on PostgreSQL: GET /api/Search through the real server, one request at a time.

    python -m bench.search --messages 1000000      # the goal: p99 <= 100 ms (docs/search.md)
    python -m bench.search --messages 20000 --searches 200    # a quick look (what was run here: bench/HISTORY.md)

Builds a scratch database (BENCH_SEARCH_DATABASE, default agentchat_bench_search) at BENCH_POSTGRES_ADMIN_URL,
migrates it, and fills it in the server (generate_series; a million messages in a minute or two): 10 departments,
a manager and an agent of one department, one chat per 10 messages, each message 6 to 14 words drawn from a
vocabulary of 20,000 with a skew (a few words are in most messages, most words in few), as chat words are. Then it
starts `agentchat serve` on it and times searches for rare, middling and common words and for two words, as the
manager (every chat) and as the agent (their department's), and prints p50, p99 and the largest per kind. A search
is timed from the request to the last byte of its answer, closed loop on one connection: the figure is the
latency of one search on an otherwise idle server, not a throughput.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from bench.__main__ import ADMIN_URL, Process, free_port, server_argv

DATABASE = os.environ.get("BENCH_SEARCH_DATABASE", "agentchat_bench_search")
PASSWORD = "bench password 1"
VOCABULARY = 20_000

FILL = [
    "INSERT INTO department (id, name, include_in_welcome_menu, enabled, routing_enabled, created_at) "
    "SELECT g, 'Department ' || g, false, true, false, now() FROM generate_series(1, 10) g",
    "INSERT INTO customer (id, name, phone_number, created_at) "
    "SELECT g, 'Customer ' || g, '2782' || lpad(g::text, 8, '0'), now() - interval '1 day' * (g % 365) "
    "FROM generate_series(1, $1::int) g",
    # Closed chats: a customer has at most one open chat, and a closed one is what years of history hold.
    "INSERT INTO chat (id, customer_id, channel, status, department_id, created_at, closed_at) "
    "SELECT g, g, 'WhatsApp', 'Closed', 1 + g % 10, now() - interval '1 minute' * g, now() - interval '1 minute' * g "
    "FROM generate_series(1, $1::int) g",
    # Words w0, w1, ... with a skew: power(random(), 3) puts most draws on the first few hundred words.
    "INSERT INTO message (chat_id, sender_type, text, created_at) "
    "SELECT 1 + (g % $1::int), CASE WHEN g % 2 = 0 THEN 'Customer' ELSE 'Agent' END, "
    "(SELECT string_agg('w' || floor(power(random(), 3) * $3::int)::int, ' ') "
    " FROM generate_series(1, 6 + (g % 9)) w WHERE g > 0), "
    "now() - interval '1 second' * ($2::int - g) FROM generate_series(1, $2::int) g",
]


async def build(messages: int) -> str:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    dsn = ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    from agentchat.config import Settings
    from agentchat.migrate import migrate

    settings = Settings(_env_file=None, database_url=url, run_jobs=False)
    await migrate(settings)
    chats = max(1, messages // 10)
    connection = await asyncpg.connect(dsn)
    try:
        started = time.monotonic()
        await connection.execute(FILL[0])
        await connection.execute(FILL[1], chats)
        await connection.execute(FILL[2], chats)
        await connection.execute(FILL[3], chats, messages, VOCABULARY)
        await connection.execute("VACUUM ANALYZE")
        print(f"{messages:,} messages in {chats:,} chats loaded in {time.monotonic() - started:.1f} s")
    finally:
        await connection.close()
    await _add_agents(settings)
    return url


async def _add_agents(settings) -> None:
    from agentchat.agents import service as agents
    from agentchat.agents.models import ROLE_AGENT, AgentDepartment
    from agentchat.db import create_engine, create_sessionmaker
    from agentchat.security import password_hasher

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as db:
            hasher = password_hasher(settings)
            await agents.create_or_reset_manager(db, hasher, name="Bench Manager", email="manager@bench.test",
                                                 password=PASSWORD)
            agent = await agents.create_or_reset_manager(db, hasher, name="Bench Agent", email="agent@bench.test",
                                                         password=PASSWORD)
            agent.role_id = ROLE_AGENT
            agent.departments = [AgentDepartment(department_id=1)]
            await db.commit()
    finally:
        await engine.dispose()


def kinds(rng: random.Random) -> dict[str, list[str]]:
    return {"rare word": [f"w{rng.randrange(15_000, VOCABULARY)}" for _ in range(50)],
            "middling word": [f"w{rng.randrange(500, 2_000)}" for _ in range(50)],
            "common word": [f"w{rng.randrange(0, 20)}" for _ in range(50)],
            "two words": [f"w{rng.randrange(0, 200)} w{rng.randrange(200, 2_000)}" for _ in range(50)]}


def run_searches(base: str, searches: int) -> None:
    rng = random.Random(7)
    with httpx.Client(base_url=base, timeout=30) as http:
        for who in ("manager", "agent"):
            token = http.post("/api/AgentLogon", json={"EmailAddress": f"{who}@bench.test",
                                                      "Password": PASSWORD}).json()["SessionToken"]
            # KeepAlive first: the same request's cost without a search, for what the box itself adds.
            for kind, words in {"(KeepAlive)": [""], **kinds(rng)}.items():
                times = []
                for n in range(searches):
                    started = time.perf_counter()
                    path, params = ("/api/KeepAlive", {}) if kind == "(KeepAlive)" else (
                        "/api/Search", {"Search": words[n % len(words)], "PageSize": 25})
                    response = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                times.sort()
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(f"{who:8} {kind:14} p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms  "
                      f"max {times[-1]:7.1f} ms  ({len(times)} searches)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=300, help="per kind of search and caller")
    args = parser.parse_args()
    url = asyncio.run(build(args.messages))
    port = free_port()
    env = {**os.environ, "AGENTCHAT_DATABASE_URL": url, "AGENTCHAT_RUN_JOBS": "false",
           "AGENTCHAT_LOG_LEVEL": "WARNING", "AGENTCHAT_DATA_DIR": tempfile.mkdtemp(prefix="bench-search-")}
    server = Process(server_argv(port, 1), env, port, Path(env["AGENTCHAT_DATA_DIR"]) / "server.log", "/healthz")
    try:
        run_searches(server.base, args.searches)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
