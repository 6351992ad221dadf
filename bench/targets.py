"""Issue 8's targets, each with its verdict on this box and at the speed of the box they were set on.

The targets are absolute (p99 ≤ 40 ms, ...) and were set on a machine where a plain JSON answer from Starlette ran
at ~37,000 req/s (../shared/PERFORMANCE.md). These machines differ by more than 2x from one session to the next
(15,000 req/s on one, 2026-12-03), and at a fixed number of connections a latency scales with the inverse of the
throughput (Little's law: 64 connections / 1,600 req/s is 40 ms on average before any tail), so each absolute
figure is also printed as it would be on the reference box: multiplied by this box's speed (its /hello req/s over
37,000). Ratios (× ceiling) carry across machines as they are.
"""

import math
from dataclasses import dataclass

REFERENCE_HELLO_RPS = 37_000.0  # ../shared/PERFORMANCE.md: "Plain JSON response, FastAPI / Starlette ~14k / ~37k"


@dataclass
class Verdict:
    target: str
    backend: str
    here: float
    unit: str
    limit: float
    at_least: bool  # a floor (× ceiling) rather than a ceiling (ms, s, MiB)
    scales: bool  # a time, which scales with the box's speed; ratios and memory do not

    def scaled(self, speed: float) -> float:
        return self.here * speed if self.scales else self.here

    def met(self, value: float) -> bool | None:
        if math.isnan(value):
            return None
        return value >= self.limit if self.at_least else value <= self.limit


def speed_of_this_box(hello_rps: float) -> float:
    """This box's speed as a fraction of the reference box's (1.0: as fast; 0.4: 2.5 times slower)."""
    return hello_rps / REFERENCE_HELLO_RPS


def verdicts(backend: str, rows: dict, fan_p99: float | None) -> list[Verdict]:
    """The targets of one backend's table: `rows` maps a call's name to its (req/s, p99 ms, ceiling beside it)."""
    out = []
    if "SendMessage" in rows:
        rps, p99, beside = rows["SendMessage"]
        out.append(Verdict("SendMessage ≥ 0.5× the ceiling", backend, rps / beside if beside > 0 else math.nan, "×",
                           0.5, True, False))
        out.append(Verdict("SendMessage p99 ≤ 40 ms at 64 connections", backend, p99, "ms", 40, False, True))
    if "GetChats" in rows:
        out.append(Verdict("GetChats p99 ≤ 50 ms", backend, rows["GetChats"][1], "ms", 50, False, True))
    if fan_p99 is not None:
        out.append(Verdict("fan-out to 1,000 sockets p99 ≤ 50 ms", backend, fan_p99, "ms", 50, False, True))
    return out


def fixed_rate_verdicts(backend: str, p99_ratios: dict[str, float]) -> list[Verdict]:
    """p99 at a fixed offered rate over the ceiling's at the same rate: ≤ 2× (a ratio, the same on any box)."""
    return [Verdict(f"{name} p99 at a fixed rate ≤ 2× the ceiling's", backend, ratio, "×", 2, False, False)
            for name, ratio in p99_ratios.items()]


def report_verdicts(seconds: float, peak_mib: float) -> list[Verdict]:
    return [Verdict("scheduled report ≤ 10 s", "postgresql", seconds, "s", 10, False, True),
            Verdict("scheduled report peak RSS ≤ 250 MB", "postgresql", peak_mib * 1.048576, "MB", 250, False, False)]


def _figure(value: float, unit: str) -> str:
    """A figure as the table shows it. A ratio is cut, not rounded, to three decimals: one just under its floor
    (0.4996) must not read as meeting it (0.500×, no)."""
    if math.isnan(value):
        return "n/a"
    return f"{math.floor(value * 1000) / 1000:.3f}×" if unit == "×" else f"{value:.1f} {unit}"


def _yes_no(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "no")


def table(all_verdicts: list[Verdict], speed: float, hello_rps: float, caveat: str = "") -> str:
    lines = [f"\n## targets (issue 8): this box runs at {speed:.2f}× the reference box's speed (plain JSON "
             f"{hello_rps:,.0f} req/s here, {REFERENCE_HELLO_RPS:,.0f} there){caveat}",
             "| target | backend | here | met here | at the reference's speed | met there |",
             "|---|---|---|---|---|---|"]
    for v in all_verdicts:
        scaled = v.scaled(speed)
        there = _figure(scaled, v.unit) if v.scales else "(the same)"
        lines.append(f"| {v.target} | {v.backend} | {_figure(v.here, v.unit)} | {_yes_no(v.met(v.here))} | {there} "
                     f"| {_yes_no(v.met(scaled))} |")
    return "\n".join(lines)
