"""bench/'s arithmetic: wrk's report read into figures, and runs of one call taken together (the ceiling and each
call are measured in turns, bench.beside_the_ceiling)."""

import math

from bench.__main__ import Result, merged, parse_wrk

WRK_REPORT = """Running 5s test @ http://127.0.0.1:8000
  2 threads and 64 connections
  Latency Distribution
     50%   24.10ms
     75%   30.00ms
     90%   41.00ms
     99%    1.20s
  6000 requests in 5.00s, 1.20MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   1200.00
Transfer/sec:    245.00KB
"""


def test_wrks_report_becomes_figures_with_cpu_per_request():
    result = parse_wrk("SendMessage", WRK_REPORT, ticks=300)  # 3 s of CPU at 100 ticks a second
    assert (result.rps, result.p50_ms, result.p99_ms, result.requests, result.errors) == (1200.0, 24.1, 1200.0,
                                                                                         6000, 12)
    assert math.isclose(result.cpu_us, 3_000_000 / 6000)


def test_runs_taken_together_count_every_request_over_all_their_time():
    fast = Result("GetChats", rps=1000.0, p50_ms=20.0, p99_ms=50.0, requests=5000, errors=0, cpu_us=400.0)
    slow = Result("GetChats", rps=500.0, p50_ms=40.0, p99_ms=90.0, requests=2500, errors=3, cpu_us=700.0)
    both = merged("GetChats", [fast, slow])
    assert math.isclose(both.rps, 7500 / 10)  # 5 s and 5 s, not the mean of 1000 and 500
    assert math.isclose(both.cpu_us, (5000 * 400 + 2500 * 700) / 7500)
    assert (both.p50_ms, both.p99_ms, both.requests, both.errors) == (30.0, 70.0, 7500, 3)


def test_a_run_with_no_answer_leaves_the_others_figures():
    answered = Result("GrabChat", rps=800.0, p50_ms=30.0, p99_ms=60.0, requests=4000, errors=0, cpu_us=500.0)
    failed = parse_wrk("GrabChat", "unable to connect to 127.0.0.1:8000 Connection refused\n", ticks=0)
    both = merged("GrabChat", [answered, failed])
    assert (both.rps, both.p50_ms, both.p99_ms, both.requests, both.cpu_us) == (800.0, 30.0, 60.0, 4000, 500.0)
