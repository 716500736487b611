"""Latency figures of the live path from its cycle records (live/latency.py, bench/latency.py)."""

from bench.latency import _to_receipt, judge
from live.latency import file_latencies, percentile, summarise

# Two cycles. The first took files landed at t=100 and t=104 and finished its stages at
# 106 (ingested), 115 (computed), 116 (published) and 117 (notified); the second failed.
CYCLES = [
    {
        "files": [{"landed_at": 100.0}, {"landed_at": 104.0}],
        "stages": {"ingested": 106.0, "computed": 115.0, "published": 116.0, "notified": 117.0},
        "new_notices": ["W1:3"],
        "error": None,
    },
    {
        "files": [{"landed_at": 200.0}],
        "stages": {"ingested": 201.0},
        "new_notices": [],
        "error": "LiveRunError: dbt failed",
    },
]


def test_each_file_counts_from_its_own_landing_and_failed_cycles_are_left_out():
    found = file_latencies(CYCLES)
    assert found["ingested"] == [6.0, 2.0]  # 106 - 100, 106 - 104
    assert found["published"] == [16.0, 12.0]
    assert found["notified"] == [17.0, 13.0]


def test_percentiles_are_nearest_rank():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.95) == 10.0  # rank ceil(9.5) = 10
    assert percentile([], 0.5) is None
    assert summarise([3.0, 1.0]) == {"count": 2, "p50": 1.0, "p95": 3.0, "max": 3.0}


def test_a_notice_counts_when_it_arrives_during_its_cycle_s_notify_stage():
    # Arrivals: one before the store was published (another cycle's), one at 116.5.
    assert _to_receipt(CYCLES, [50.0, 116.5]) == [16.5, 12.5]
    assert _to_receipt(CYCLES, []) == []


def test_targets_are_judged_on_p95_by_scale():
    latencies = {"published": [10.0, 31.0], "notified": [20.0, 50.0]}
    district = judge(1.0, latencies)
    assert district["published"] == {"p95": 31.0, "limit": 30.0, "met": False}
    assert district["notified"]["met"] is True
    city = judge(16.0, latencies)
    assert "published" not in city and city["notified"]["limit"] == 120.0
