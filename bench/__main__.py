"""python -m bench: build the data set, start the real server and the ceiling, drive both with wrk, print a table.

    bench/run.sh                                   # PostgreSQL and SQLite, 100k chats / 1M messages
    python -m bench --backends postgresql --chats 20000 --duration 5 --sockets 1000

Needs: wrk (apt-get install wrk), PostgreSQL at BENCH_POSTGRES_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/
postgres). Every figure is printed with its ratio to the ceiling measured beside it, and with the server's
CPU microseconds per request (from /proc/<pid>/stat). Then, on PostgreSQL, the time and peak RSS of the scheduled
report over --report-chats chats (bench/report_memory.py, in its own scratch database; 0 skips it). Last, issue 8's
targets, each judged on this box and at the speed of the box they were set on (bench/targets.py).
"""

import argparse
import asyncio
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import fixedrate, targets
from bench.dataset import Seeded, Shape, build_rows, load_postgres, load_sqlite

ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DATABASE", "agentchat_bench")  # one per concurrent run
ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us: float | None


class Process:
    def __init__(self, argv: list[str], env: dict, port: int, log: Path, health: str):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.request("POST" if health == "/ceiling" else "GET", self.base + health, timeout=2,
                                 content=b'{"ChatID": 1, "Message": "warm"}').status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start; see {log}")
            time.sleep(0.1)

    def cpu_ticks(self) -> int:
        """CPU of the process and its children alive now (uvicorn --workers: the workers do the serving)."""
        return sum(_ticks(pid) for pid in [self.process.pid, *_children(self.process.pid)])

    def peak_rss_mib(self) -> float:
        """The largest peak RSS of the process and its children (VmHWM), in MiB."""
        peaks = [_status_kib(pid, "VmHWM") for pid in [self.process.pid, *_children(self.process.pid)]]
        return max(peaks, default=0) / 1024

    def stop(self) -> None:
        try:
            self.peak_mib = self.peak_rss_mib()
        except OSError:
            self.peak_mib = float("nan")
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _ticks(pid: int) -> int:
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0  # gone meanwhile
    return int(fields[11]) + int(fields[12])  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def server_argv(port: int, workers: int) -> list[str]:
    """One `agentchat serve`, or N uvicorn workers on one port (the kernel spreads connections among them)."""
    if workers <= 1:
        return [sys.executable, "-m", "agentchat", "serve", "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", "--factory", "agentchat.app:create_app", "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning",
            "--ws-per-message-deflate", "false"]


def lua_table(rows: list) -> str:
    return "{" + ",".join("{" + ",".join(json.dumps(v) for v in row) + "}" for row in rows) + "}"


def lua_script(kind: str, seeded: Seeded) -> str:
    head = "math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))\n"
    if kind in ("ceiling", "SendMessage"):
        by_agent = {agent_id: token for agent_id, token, _d in seeded.agent_tokens}
        pairs = [(by_agent[a], c) for a, chats in seeded.assigned.items() for c in chats]
        path = "/ceiling" if kind == "ceiling" else "/api/SendMessage"
        return head + f"""local pairs_ = {lua_table(pairs)}
request = function()
  local p = pairs_[math.random(#pairs_)]
  local body = '{{"ChatID":' .. p[2] .. ',"Message":"Thanks, your order ships today."}}'
  return wrk.format("POST", "{path}", {{["Authorization"]="Bearer " .. p[1], ["Content-Type"]="application/json"}},
                    body)
end
"""
    if kind == "GetChats":
        tokens = [[t] for _a, t, _d in seeded.agent_tokens]
        return head + f"""local tokens = {lua_table(tokens)}
request = function()
  local t = tokens[math.random(#tokens)][1]
  return wrk.format("GET", "/api/GetChats?Status=Closed&PageSize=50", {{["Authorization"]="Bearer " .. t}})
end
"""
    if kind == "GrabChat":
        tokens = [[t] for _a, t, d in seeded.agent_tokens if d <= 2]  # 20 agents, 2 queues: contention
        return head + f"""local tokens = {lua_table(tokens)}
request = function()
  local t = tokens[math.random(#tokens)][1]
  return wrk.format("POST", "/api/GrabChat", {{["Authorization"]="Bearer " .. t, ["Content-Type"]="application/json"}},
                    "{{}}")
end
"""
    if kind == "SearchCustomer":
        words = sorted({part for name in seeded.names[:2000] for part in name.split() if len(part) > 3})
        rows = [[seeded.manager_tokens[i % len(seeded.manager_tokens)], w[:5]] for i, w in enumerate(words)]
        return head + f"""local rows = {lua_table(rows)}
request = function()
  local r = rows[math.random(#rows)]
  return wrk.format("GET", "/api/SearchCustomer?PageSize=50&Search=" .. r[2], {{["Authorization"]="Bearer " .. r[1]}})
end
"""
    if kind == "GetLiveMetrics":
        tokens = [[t] for t in seeded.manager_tokens[:50]]
        return head + f"""local tokens = {lua_table(tokens)}
request = function()
  local t = tokens[math.random(#tokens)][1]
  return wrk.format("GET", "/api/GetLiveMetrics", {{["Authorization"]="Bearer " .. t}})
end
"""
    raise ValueError(kind)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str | None) -> float:
    """A wrk latency (850.00us, 1.20ms, 2.00s, 1.00m) in ms; NaN for anything else (no figure, -nan, an error)."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text or "")
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def _figure(pattern: str, out: str) -> str | None:
    match = re.search(pattern, out, re.MULTILINE)
    return match.group(1) if match else None


def parse_wrk(name: str, out: str, ticks: int) -> Result:
    """wrk --latency's report as a Result. What wrk did not print (no successful request, an error) is NaN, so one
    failed call shows as n/a in the table instead of ending the run."""
    requests = int(_figure(r"(\d+) requests in", out) or 0)
    errors = int(_figure(r"Non-2xx or 3xx responses: (\d+)", out) or 0)
    # With no request answered wrk still prints latencies (0.00us): they mean nothing.
    p50, p99 = (_figure(rf"^\s*{p}%\s+(\S+)", out) if requests else None for p in (50, 99))
    return Result(name=name, rps=float(_figure(r"Requests/sec:\s+([\d.]+)", out) or "nan"), p50_ms=_ms(p50),
                  p99_ms=_ms(p99), requests=requests, errors=errors,
                  cpu_us=ticks / CLK_TCK * 1e6 / requests if requests else None)


def wrk(name: str, target: Process, script: Path, args, seconds: int | None = None) -> Result:
    before = target.cpu_ticks()
    run = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds or args.duration}s",
                          "--latency", "--timeout", "10s", "-s", str(script), target.base], capture_output=True,
                         text=True)
    ticks = target.cpu_ticks() - before
    result = parse_wrk(name, run.stdout, ticks)
    if run.returncode or math.isnan(result.rps) or math.isnan(result.p50_ms) or math.isnan(result.p99_ms):
        print(f"  {name}: wrk exited {run.returncode}; its output:\n{run.stdout}{run.stderr}", file=sys.stderr)
    if socket_errors := _figure(r"Socket errors: (.*)", run.stdout):
        print(f"  {name}: socket errors: {socket_errors}", file=sys.stderr)
    return result


def merged(name: str, parts: list[Result]) -> Result:
    """One Result of several runs of the same call: requests per second over their whole time, CPU per request
    over all requests, and the mean of their p50s and of their p99s (wrk prints percentiles, not its histogram)."""
    answered = [p for p in parts if p.requests and p.rps > 0]  # a run wrk got no answer in has no figures
    requests = sum(p.requests for p in answered)
    seconds = sum(p.requests / p.rps for p in answered)
    cpus = [(p.cpu_us * p.requests, p.requests) for p in answered if p.cpu_us is not None]
    nan = float("nan")
    return Result(name=name, rps=requests / seconds if seconds else nan,
                  p50_ms=statistics.fmean(p.p50_ms for p in answered) if answered else nan,
                  p99_ms=statistics.fmean(p.p99_ms for p in answered) if answered else nan,
                  requests=requests, errors=sum(p.errors for p in parts),
                  cpu_us=sum(c for c, _ in cpus) / sum(n for _, n in cpus) if cpus else None)


def successes_only(result: Result) -> Result:
    """A call's figures counting its 2xx answers only (GrabChat: a 409 lost the race and grabbed nothing); CPU per
    success. Latencies stay wrk's, over every answer (wrk keeps no histogram per status)."""
    ok = result.requests - result.errors
    if not result.requests or ok <= 0:
        return Result(result.name, 0.0, result.p50_ms, result.p99_ms, 0, result.errors, None)
    return Result(result.name, result.rps * ok / result.requests, result.p50_ms, result.p99_ms, ok, result.errors,
                  result.cpu_us * result.requests / ok if result.cpu_us is not None else None)


def beside_the_ceiling(name: str, server: Process, script: Path, ceiling: Process, ceiling_script: Path,
                       args) -> tuple[Result, Result]:
    """`name` and the ceiling, measured in turns — ceiling, call, call, ceiling, each for half the duration — so
    that the machine's drift over the pair weighs on both alike (these boxes swing by half within minutes, and a
    ceiling measured once at the start made later calls' ratios depend on when they ran)."""
    half = max(1, args.duration // 2)
    first_ceiling = wrk("ceiling", ceiling, ceiling_script, args, half)
    calls = [wrk(name, server, script, args, half) for _ in range(2)]
    last_ceiling = wrk("ceiling", ceiling, ceiling_script, args, half)
    return merged(name, calls), merged("ceiling", [first_ceiling, last_ceiling])


def fan_out(server: Process, seeded: Seeded, sockets: int, work: Path, events: int = 30,
            send_path: str = "/api/SendMessage") -> tuple[float, float, int]:
    """p50/p99 (ms) from the start of a SendMessage to the MessageSent frame on each of `sockets` sockets; with
    the ceiling and its /broadcast, the floor beside it."""
    tokens = seeded.manager_tokens[:sockets]
    groups = 4
    clients = []
    for g in range(groups):
        tokens_file, out_file = work / f"fanout-tokens-{g}.json", work / f"fanout-out-{g}.json"
        tokens_file.write_text(json.dumps(tokens[g::groups]))
        process = subprocess.Popen([sys.executable, "-m", "bench.fanout", server.base.replace("http", "ws") + "/ws",
                                    str(tokens_file), str(out_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   cwd=ROOT, text=True)
        clients.append((process, out_file))
    for process, _ in clients:
        assert process.stdout.readline().strip() == "ready"
    agent_id, token, _d = next(a for a in seeded.agent_tokens if seeded.assigned.get(a[0]))
    chat_id = seeded.assigned[agent_id][0]
    sent: dict[int, float] = {}
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}) as http:
        for n in range(events):
            started = time.time()
            response = http.post(send_path, json={"ChatID": chat_id, "Message": f"fan-out {n}"})
            sent[response.json()["MessageID"]] = started
            time.sleep(0.2)
    time.sleep(1)
    latencies = []
    for process, out_file in clients:
        process.stdin.close()
        process.wait(timeout=60)
        for message_id, at in json.loads(out_file.read_text()):
            if message_id in sent:
                latencies.append((at - sent[message_id]) * 1000)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return (statistics.median(latencies) if latencies else float("nan")), p99, len(latencies)


async def _recreate_postgres() -> str:
    import asyncpg

    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def run_backend(backend: str, rows, seeded: Seeded, args, work: Path) -> tuple[list[Result], list[Result],
                                                                                  tuple | None, Result, list]:
    """The backend's calls, each beside the ceiling; the fan-out and its floor; and the box's speed (the ceiling's
    plain JSON /hello, at the start and at the end: bench/targets.py)."""
    from agentchat.config import Settings
    from agentchat.migrate import migrate

    if backend == "postgresql":
        dsn = asyncio.run(_recreate_postgres())
        url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    else:
        path = work / "bench.db"
        path.unlink(missing_ok=True)
        dsn, url = f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}"
    settings = Settings(_env_file=None, database_url=url, data_dir=work / "data")
    asyncio.run(migrate(settings))
    started = time.monotonic()
    if backend == "postgresql":
        asyncio.run(load_postgres(dsn, rows))
    else:
        load_sqlite(str(work / "bench.db"), rows)
    print(f"[{backend}] data set loaded in {time.monotonic() - started:.1f}s", file=sys.stderr)

    env = dict(os.environ, AGENTCHAT_DATABASE_URL=url, AGENTCHAT_DATA_DIR=str(work / "data"),
               AGENTCHAT_LOG_LEVEL="WARNING", BENCH_CEILING_DSN=dsn, AGENTCHAT_BROKER_URL="memory://")
    results: list[Result] = []
    ceilings: list[Result] = []
    scenarios = [s for s in ["SendMessage", "GetChats", "GrabChat", "SearchCustomer", "GetLiveMetrics"]
                 if s in args.scenarios]
    ceiling_port, port = free_port(), free_port()
    # Served as AgentChat is (uvicorn's defaults, no per-message deflate on its sockets).
    ceiling = Process([sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--port", str(ceiling_port),
                       "--log-level", "warning", "--no-access-log", "--ws-per-message-deflate", "false"], env,
                      ceiling_port, work / f"ceiling-{backend}.log", "/ceiling")
    server = None
    fan = None
    fixed: list[fixedrate.FixedRate] = []
    hello = []
    try:
        ceiling_script = work / "ceiling.lua"
        ceiling_script.write_text(lua_script("ceiling", seeded))
        hello_script = work / "hello.lua"
        hello_script.write_text('request = function() return wrk.format("GET", "/hello") end\n')
        hello.append(wrk("hello", ceiling, hello_script, args, max(1, args.duration // 2)))
        server = Process(server_argv(port, args.workers), env, port, work / f"server-{backend}.log", "/healthz")
        for kind in scenarios:
            script = work / f"{kind}.lua"
            script.write_text(lua_script(kind, seeded))
            result, beside = beside_the_ceiling(kind, server, script, ceiling, ceiling_script, args)
            results.append(successes_only(result) if kind == "GrabChat" else result)
            ceilings.append(beside)
        if args.fixed_rate:
            fixed = at_fixed_rates(scenarios, results, ceilings, seeded, server, ceiling, args, work)
        if args.sockets:
            floor = fan_out(ceiling, seeded, args.sockets, work, send_path="/broadcast")
            fan = (*fan_out(server, seeded, args.sockets, work), *floor)
        hello.append(wrk("hello", ceiling, hello_script, args, max(1, args.duration // 2)))
    finally:
        ceiling.stop()
        if server is not None:
            server.stop()
            args.server_peak_mib = server.peak_mib
    return [merged("ceiling (raw INSERT)", ceilings), *results], ceilings, fan, merged("hello", hello), fixed


def at_fixed_rates(scenarios: list[str], results: list[Result], ceilings: list[Result], seeded: Seeded,
                   server: Process, ceiling: Process, args, work: Path) -> list[fixedrate.FixedRate]:
    """Each call and the ceiling at args.fixed_rate of the ceiling's closed-loop throughput measured beside it;
    GrabChat no faster than its queues last (so that what is measured is grabs)."""
    rows = []
    ceiling_requests = fixedrate.raw_requests("ceiling", seeded)
    for kind, result, beside in zip(scenarios, results, ceilings, strict=True):
        rate = args.fixed_rate * beside.rps
        if kind == "GrabChat":
            rate = min(rate, fixedrate.grab_rate_cap(int(args.chats * 0.3), args.duration, result.requests))
        if not rate > 0:
            continue
        rows.append(fixedrate.beside_the_ceiling(kind, server.base, fixedrate.raw_requests(kind, seeded),
                                                 ceiling.base, ceiling_requests, rate, args.duration, work))
    return rows


def _number(value: float, spec: str) -> str:
    return "n/a" if math.isnan(value) else format(value, spec)


def print_table(backend: str, results: list[Result], ceilings: list[Result], fan, args) -> None:
    """The calls, each with its ratio to the ceiling measured beside it (beside_the_ceiling); the ceiling's row is
    all of its runs together."""
    print(f"\n## {backend}: wrk -t{args.threads} -c{args.connections}, {args.duration}s per call and as much of the "
          "ceiling beside it, one uvicorn worker")
    print(f"| {'call':<22} | {'req/s':>8} | {'× ceiling':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'CPU µs/req':>10} "
          f"| {'non-2xx':>7} | {'ceiling beside':>14} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 12}|{'-' * 9}|{'-' * 16}|")
    for r, ceiling in zip(results, [results[0], *ceilings], strict=True):
        cpu = f"{r.cpu_us:.0f}" if r.cpu_us is not None else "-"
        ratio = r.rps / ceiling.rps if ceiling.rps > 0 else float("nan")  # also when the ceiling is NaN
        beside = "" if r is results[0] else _number(ceiling.rps, ".0f")
        print(f"| {r.name:<22} | {_number(r.rps, '.0f'):>8} | {_number(ratio, '.2f'):>9} "
              f"| {_number(r.p50_ms, '.1f'):>7} | {_number(r.p99_ms, '.1f'):>7} | {cpu:>10} | {r.errors:>7} "
              f"| {beside:>14} |")
    if fan:
        print(f"| fan-out to {args.sockets} sockets: p50 {fan[0]:.1f} ms, p99 {fan[1]:.1f} ms ({fan[2]} deliveries); "
              f"bare sockets beside it (bench/ceiling.py): p50 {fan[3]:.1f} ms, p99 {fan[4]:.1f} ms |")
    sys.stdout.flush()


def print_report(chats: int) -> tuple[float, float]:
    """The scheduled report's line: the ChatSummary CSV over `chats` chats (bench/report_memory.py), on PostgreSQL.
    Returns its seconds and peak RSS (MiB), NaN if it failed."""
    from bench import report_memory

    try:
        result = asyncio.run(report_memory.measure(ADMIN_URL, chats))
        seconds, peak = float(result["seconds"]), float(result["peak_rss_mib"])
    except Exception as exc:  # the wrk tables above stand; say why this line has no figures
        print(f"  scheduled report: {exc!r}", file=sys.stderr)
        seconds = peak = float("nan")
    print("\n## postgresql: scheduled report (ChatSummary CSV, bench/report_memory.py)")
    print("| report | time | peak RSS |\n|---|---|---|")
    print(f"| scheduled report over {chats} chats | {_number(seconds, '.1f')} s | {_number(peak, '.1f')} MiB |")
    sys.stdout.flush()
    return seconds, peak


def make_parser(prog: str = "python -m bench") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--scenarios", default="SendMessage,GetChats,GrabChat,SearchCustomer,GetLiveMetrics")
    parser.add_argument("--report-chats", type=int, default=100_000,
                        help="after the wrk tables, time the scheduled report over this many chats on PostgreSQL "
                             "(bench/report_memory.py; its own scratch database); 0 skips it")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes serving AgentChat on its one port (docs/deployment.md, sizing)")
    parser.add_argument("--fixed-rate", type=float, default=0.5,
                        help="then drive each call and the ceiling at this fraction of the ceiling's throughput "
                             "(open loop, bench/openloop.py); 0 skips it")
    return parser


def main() -> None:
    parser = make_parser()
    args = parser.parse_args()
    args.scenarios = args.scenarios.split(",")
    shape = Shape(chats=args.chats)
    shape.manager_sessions = max(1, -(-args.sockets // shape.managers))
    started = time.monotonic()
    from argon2 import PasswordHasher

    rows, seeded = build_rows(shape, PasswordHasher().hash("bench-password"))
    print(f"data set built in memory in {time.monotonic() - started:.1f}s: "
          + ", ".join(f"{len(v)} {k}" for k, v in rows.items()), file=sys.stderr)
    found: list[targets.Verdict] = []
    hellos: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="agentchat-bench-") as tmp:
        for backend in args.backends.split(","):
            results, ceilings, fan, hello, fixed = run_backend(backend, rows, seeded, args, Path(tmp))
            print_table(backend, results, ceilings, fan, args)
            if fixed:
                fixedrate.print_table(backend, fixed, args.fixed_rate)
                found += targets.fixed_rate_verdicts(backend, {r.name: r.p99_ratio for r in fixed})
            calls = {r.name: (r.rps, r.p99_ms, c.rps) for r, c in zip(results[1:], ceilings, strict=True)}
            found += targets.verdicts(backend, calls, fan[1] if fan and args.sockets >= 1000 else None)
            hellos.append(hello)
    if args.report_chats:
        seconds, peak = print_report(args.report_chats)
        if args.report_chats >= 100_000:
            found += targets.report_verdicts(seconds, peak)
    hello = merged("hello", hellos)
    caveat = ("" if (args.chats, args.connections) == (100_000, 64) else
              f"; NB the targets are for 100,000 chats at 64 connections, this run had {args.chats:,} at "
              f"{args.connections}")
    print(targets.table(found, targets.speed_of_this_box(hello.rps), hello.rps, caveat))


if __name__ == "__main__":
    main()
