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


def test_targets_are_judged_here_and_at_the_reference_boxs_speed():
    from bench import targets

    speed = targets.speed_of_this_box(14_800)  # 0.4: this box is 2.5 times slower than the reference
    calls = {"SendMessage": (1500.0, 60.0, 3200.0), "GetChats": (900.0, 130.0, 3100.0)}
    found = {v.target: v for v in targets.verdicts("sqlite", calls, fan_p99=49.0)}
    ratio, send_p99 = found["SendMessage ≥ 0.5× the ceiling"], found["SendMessage p99 ≤ 40 ms at 64 connections"]
    assert math.isclose(ratio.here, 1500 / 3200) and ratio.scaled(speed) == ratio.here  # a ratio carries over as is
    assert (ratio.met(ratio.here), send_p99.met(send_p99.here)) == (False, False)
    assert math.isclose(send_p99.scaled(speed), 24.0) and send_p99.met(send_p99.scaled(speed))
    get_chats = found["GetChats p99 ≤ 50 ms"]
    assert math.isclose(get_chats.scaled(speed), 52.0) and not get_chats.met(get_chats.scaled(speed))
    assert found["fan-out to 1,000 sockets p99 ≤ 50 ms"].met(49.0)
    table = targets.table(list(found.values()), speed, 14_800)
    assert "| SendMessage p99 ≤ 40 ms at 64 connections | sqlite | 60.0 ms | no | 24.0 ms | yes |" in table
    assert "| SendMessage ≥ 0.5× the ceiling | sqlite | 0.468× | no | (the same) | no |" in table
    just_under = targets.verdicts("sqlite", {"SendMessage": (1249.0, 60.0, 2500.0)}, fan_p99=None)
    assert "| sqlite | 0.499× | no |" in targets.table(just_under, speed, 14_800)  # 0.4996, cut


def test_a_target_without_a_figure_is_not_judged():
    from bench import targets

    seconds, memory = targets.report_verdicts(float("nan"), 76.0)
    assert seconds.met(seconds.here) is None and memory.met(memory.here)  # 76 MiB is 79.7 MB, below 250
    assert "| scheduled report ≤ 10 s | postgresql | n/a | n/a | n/a | n/a |" in targets.table([seconds], 0.4, 14_800)
