"""Each hot call and the ceiling driven at the same fixed offered rate (bench/openloop.py), in turns, with the
server's CPU per answered request: the latency figures that mean something (docs/performance.md)."""

import json
import math
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.dataset import Seeded

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FixedRate:
    name: str
    rate: float
    ok: int
    refused: int
    failed: int
    p50_ms: float
    p99_ms: float
    ceiling_p99_ms: float

    @property
    def p99_ratio(self) -> float:
        """p99 over the ceiling's at the same rate; NaN without both."""
        if math.isnan(self.p99_ms) or math.isnan(self.ceiling_p99_ms) or self.ceiling_p99_ms <= 0:
            return math.nan
        return self.p99_ms / self.ceiling_p99_ms


def http_request(method: str, path: str, token: str | None, body: str | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body.encode())}"]
    return "\r\n".join(lines) + "\r\n\r\n" + (body or "")


def raw_requests(kind: str, seeded: Seeded, count: int = 2000, seed: int = 22) -> list[str]:
    """`count` requests of one kind, as bench/__main__.py's wrk scripts make them."""
    rng = random.Random(seed)
    if kind in ("ceiling", "SendMessage"):
        by_agent = {agent_id: token for agent_id, token, _d in seeded.agent_tokens}
        pairs = [(by_agent[a], c) for a, chats in seeded.assigned.items() for c in chats]
        path = "/ceiling" if kind == "ceiling" else "/api/SendMessage"
        return [http_request("POST", path, token, f'{{"ChatID":{chat},"Message":"Thanks, your order ships today."}}')
                for token, chat in (rng.choice(pairs) for _ in range(count))]
    if kind == "GetChats":
        tokens = [t for _a, t, _d in seeded.agent_tokens]
        return [http_request("GET", "/api/GetChats?Status=Closed&PageSize=50", rng.choice(tokens))
                for _ in range(count)]
    if kind == "GrabChat":
        # Every department's agents: all the queues, so that the grabs measured are grabs (GrabChatRate caps the
        # rate so that they last the run).
        tokens = [t for _a, t, _d in seeded.agent_tokens]
        return [http_request("POST", "/api/GrabChat", rng.choice(tokens), "{}") for _ in range(count)]
    if kind == "SearchCustomer":
        words = sorted({part[:5] for name in seeded.names[:2000] for part in name.split() if len(part) > 3})
        return [http_request("GET", f"/api/SearchCustomer?PageSize=50&Search={rng.choice(words)}",
                             rng.choice(seeded.manager_tokens)) for _ in range(count)]
    if kind == "GetLiveMetrics":
        return [http_request("GET", "/api/GetLiveMetrics", rng.choice(seeded.manager_tokens[:50]))
                for _ in range(count)]
    raise ValueError(kind)


def grab_rate_cap(queued: int, seconds: float, grabbed_before: int) -> float:
    """The highest rate at which GrabChat's queues outlast the run (with a fifth to spare)."""
    left = max(0, queued - grabbed_before)
    return 0.8 * left / seconds if seconds > 0 else math.nan


def drive(base: str, requests: list[str], rate: float, seconds: float, work: Path, name: str) -> dict:
    """bench/openloop.py in a process of its own (its CPU is not the server's); its figures."""
    path = work / f"openloop-{name}.json"
    path.write_text(json.dumps(requests))
    host, port = base.removeprefix("http://").split(":")
    run = subprocess.run([sys.executable, "-m", "bench.openloop", host, port, str(path), f"{rate:.1f}",
                          str(seconds)], capture_output=True, text=True, cwd=ROOT)
    if run.returncode:
        print(f"  {name} at {rate:.0f}/s: {run.stderr[-2000:]}", file=sys.stderr)
        return {"ok": 0, "refused": 0, "failed": 0, "p50_ms": math.nan, "p99_ms": math.nan}
    return json.loads(run.stdout.strip().splitlines()[-1])


def beside_the_ceiling(name: str, server: str, requests: list[str], ceiling: str, ceiling_requests: list[str],
                       rate: float, seconds: float, work: Path) -> FixedRate:
    """The call and the ceiling at the same rate, in turns (ceiling, call, call, ceiling: the box's drift weighs on
    both); the p99s are the means of each one's two runs."""
    half = max(1.0, seconds / 2)
    ceilings = [drive(ceiling, ceiling_requests, rate, half, work, "ceiling")]
    calls = [drive(server, requests, rate, half, work, name) for _ in range(2)]
    ceilings.append(drive(ceiling, ceiling_requests, rate, half, work, "ceiling"))
    return FixedRate(name=name, rate=rate, ok=sum(c["ok"] for c in calls), refused=sum(c["refused"] for c in calls),
                     failed=sum(c["failed"] for c in calls), p50_ms=_mean(c["p50_ms"] for c in calls),
                     p99_ms=_mean(c["p99_ms"] for c in calls), ceiling_p99_ms=_mean(c["p99_ms"] for c in ceilings))


def _mean(values) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def print_table(backend: str, rows: list[FixedRate], fraction: float) -> None:
    print(f"\n## {backend}: at a fixed offered rate ({fraction:.0%} of the ceiling's closed-loop throughput; "
          "open loop, constant arrivals, latency from when each request was due; 2xx answers only)")
    print("| call | rate/s | 2xx | other | no answer | p50 ms | p99 ms | ceiling p99 ms | p99 × ceiling's |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.name} | {r.rate:.0f} | {r.ok} | {r.refused} | {r.failed} | {_n(r.p50_ms)} | {_n(r.p99_ms)} "
              f"| {_n(r.ceiling_p99_ms)} | {_n(r.p99_ratio, '.2f')} |")
    sys.stdout.flush()


def _n(value: float, spec: str = ".1f") -> str:
    return "n/a" if math.isnan(value) else format(value, spec)
