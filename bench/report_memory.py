"""Memory and time of the chat summary report over many chats (not part of the tests).

    .venv/bin/python bench/report_memory.py [--chats 100000] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

1. Creates a scratch PostgreSQL database (agentchat_bench_<pid>), migrates it and bulk-loads the chats
   through asyncpg's COPY: each chat queued, grabbed, answered and closed (3 chat events, 4 messages, one tag).
2. Produces the ChatSummary CSV for the whole range in a fresh child process (so that its peak RSS is the
   report's alone), the way GET /api/GetReport streams it, writing the file to a temporary directory.
3. Prints rows, bytes, seconds, RSS before the report and peak RSS (VmHWM), then drops the database.

`python -m bench` runs the same measurement (measure()) after its wrk tables: --report-chats N.

Run it with --chats 10000 and --chats 100000: the peak RSS should barely differ (reports read in batches).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIRST_DAY = datetime(2026, 1, 1)


def _status(field: str) -> int:
    """A VmRSS/VmHWM line of /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def build(url: str, chats: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        now = FIRST_DAY
        await connection.execute(
            "INSERT INTO department (id, name, include_in_welcome_menu, menu_option, enabled, created_at) "
            "VALUES (1, 'Sales', true, 1, true, $1), (2, 'Support', true, 2, true, $1)", now)
        await connection.executemany(
            "INSERT INTO agent (id, name, email_address, role_id, status_id, notifications, enabled, created_at) "
            "VALUES ($1, $2, $3, 1, 1, '[]', true, $4)",
            [(i, f"Agent {i}", f"agent{i}@example.com", now) for i in range(1, 21)])
        await connection.execute("INSERT INTO tag_group (id, name, enabled) VALUES (1, 'Topics', true)")
        await connection.execute("INSERT INTO tag (id, tag_group_id, name, enabled) VALUES (1, 1, 'Order', true), "
                                 "(2, 1, 'Refund', true)")
        await connection.copy_records_to_table(
            "customer", columns=["id", "name", "phone_number", "created_at"],
            records=[(i, f"Customer {i}", f"2782{i:07d}", now) for i in range(1, 1001)])
        chat_rows, events, messages, tags = [], [], [], []
        event_id = message_id = 0
        span = timedelta(days=28) / chats
        for chat_id in range(1, chats + 1):
            created = FIRST_DAY + span * chat_id
            queued, grabbed = created + timedelta(seconds=5), created + timedelta(seconds=65 + chat_id % 300)
            answered, closed = grabbed + timedelta(seconds=30), grabbed + timedelta(seconds=600)
            agent, department = 1 + chat_id % 20, 1 + chat_id % 2
            chat_rows.append((chat_id, 1 + chat_id % 1000, "WhatsApp", "Closed", department, agent, created, queued,
                              grabbed, closed, closed, answered))
            for type_, at, from_status, to_status, agent_id in (
                    ("Queued", queued, "Bot", "Unassigned", None),
                    ("Grabbed", grabbed, "Unassigned", "Assigned", agent),
                    ("Closed", closed, "Assigned", "Closed", agent)):
                event_id += 1
                events.append((event_id, chat_id, type_, at, department, agent_id, from_status, to_status))
            for sender, at, agent_id, text in (
                    ("Customer", created, None, "Hello, where is my order?"), ("Bot", queued, None, "You are queued."),
                    ("Agent", answered, agent, "Let me check that for you."),
                    ("Customer", answered + timedelta(seconds=40), None, "Thanks")):
                message_id += 1
                messages.append((message_id, chat_id, sender, agent_id, text, at))
            tags.append((chat_id, 1 + chat_id % 2, closed))
            if len(chat_rows) >= 20000 or chat_id == chats:
                await connection.copy_records_to_table(
                    "chat", records=chat_rows,
                    columns=["id", "customer_id", "channel", "status", "department_id", "agent_id", "created_at",
                             "queued_at", "assigned_at", "closed_at", "last_message_at", "last_customer_message_at"])
                await connection.copy_records_to_table(
                    "chat_event", records=events, columns=["id", "chat_id", "type", "at", "department_id", "agent_id",
                                                           "from_status", "to_status"])
                await connection.copy_records_to_table(
                    "message", records=messages, columns=["id", "chat_id", "sender_type", "agent_id", "text",
                                                          "created_at"])
                await connection.copy_records_to_table("chat_tag", records=tags,
                                                       columns=["chat_id", "tag_id", "added_at"])
                chat_rows, events, messages, tags = [], [], [], []
        for table in ("customer", "chat", "chat_event", "message"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def produce(url: str, out: Path) -> dict:
    """The child: the ChatSummary CSV for the 28 days, streamed to a file. Returns the measurements."""
    from agentchat.config import Settings
    from agentchat.db import create_engine, create_sessionmaker
    from agentchat.reports import catalogue, renderers

    engine = create_engine(Settings(_env_file=None, database_url=url))
    sessionmaker = create_sessionmaker(engine)
    report = catalogue.get_report("ChatSummary")
    start, end = FIRST_DAY, FIRST_DAY + timedelta(days=29)
    rss_before = _status("VmRSS")
    began = time.perf_counter()
    size = 0
    async with sessionmaker() as db:
        with out.open("wb") as file:
            async for chunk in renderers.csv_chunks(report.columns, report.rows(db, start, end)):
                file.write(chunk)
                size += len(chunk)
    seconds = time.perf_counter() - began
    await engine.dispose()
    with out.open() as file:
        rows = sum(1 for _ in file) - 1
    return {"rows": rows, "bytes": size, "seconds": round(seconds, 1), "rss_before_mib": round(rss_before / 1024, 1),
            "peak_rss_mib": round(_status("VmHWM") / 1024, 1)}


async def measure(admin_url: str, chats: int) -> dict:
    """Steps 1-3 for `chats` chats: the child's measurements, plus the load time (`build_seconds`)."""
    import asyncpg

    from agentchat.config import Settings
    from agentchat.migrate import migrate

    name = f"agentchat_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    try:
        await migrate(Settings(_env_file=None, database_url=url))
        began = time.perf_counter()
        await build(f"{base}/{name}", chats)
        build_seconds = round(time.perf_counter() - began, 1)
        with tempfile.TemporaryDirectory() as tmp:
            child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                                    f"{url}|{Path(tmp) / 'report.csv'}"], capture_output=True, text=True)
            if child.returncode:
                raise RuntimeError(f"the report child failed:\n{child.stderr or child.stdout}")
            return {**json.loads(child.stdout.strip().splitlines()[-1]), "build_seconds": build_seconds}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--admin-url", default=os.environ.get("AGENTCHAT_TEST_POSTGRES_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, out = args.child.split("|", 1)
        print(json.dumps(await produce(url, Path(out))))
        return
    result = await measure(args.admin_url, args.chats)
    print(f"built {args.chats} chats in {result['build_seconds']}s")
    print(f"ChatSummary CSV: {result['rows']} rows, {result['bytes'] / 1e6:.1f} MB in {result['seconds']}s; "
          f"RSS before {result['rss_before_mib']} MiB, peak {result['peak_rss_mib']} MiB")


if __name__ == "__main__":
    asyncio.run(main())
