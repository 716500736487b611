"""The 数字吹哨 loop end to end: the outbox, the demo's disposal system, and the second run.

On a copy of the built home (3 days, scale 0.02): its run sent every 吹哨 order to the outbox;
the demo's disposal system answers; the next `cityops run` ingests the answers and every
order's stage follows them. The stage rules themselves are pinned by the dbt unit test
`test_a_whistle_order_follows_the_disposal_feedback_and_closes_only_when_verified`.
"""

import csv
import datetime as dt
from collections import defaultdict

import duckdb
import pytest

from ingestion.pipeline import read_log
from ingestion.settings import Paths
from tests.cli_runner import cityops
from vitals.dispatch import acks, outbox

pytestmark = pytest.mark.integration


def _orders(home: Paths) -> dict[str, tuple]:
    with duckdb.connect(str(home.home / "serving" / "current.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select whistle_order_id, status, is_open, verified_at, received_at, "
            "is_receipt_overdue, return_count from vitals.fct_whistle_orders"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _feedback(home: Paths) -> dict[str, list[dict[str, str]]]:
    steps = defaultdict(list)
    for path in sorted((home.landing / "disposal").rglob("feedback_*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                steps[row["吹哨工单编号"]].append(row)
    return steps


def test_the_disposal_systems_answers_close_the_loop(built_home, tmp_path):
    home = Paths(built_home.copy(tmp_path / "home"))
    orders = _orders(home)
    assert orders, "the built home opens 吹哨 orders"
    # The run sent each order once; sending again writes nothing.
    sent = {path.stem: path.read_bytes() for path in outbox(home).glob("*.json")}
    assert set(sent) == set(orders)
    again = cityops("dispatch", "send", home=home.home)
    assert again.returncode == 0 and "本次新派 0 张" in again.stdout, again.stdout
    assert {path.stem: path.read_bytes() for path in outbox(home).glob("*.json")} == sent
    # Without answers, no order is closed: the indicator's recovery closes nothing.
    assert all(is_open for _, is_open, *_ in orders.values())

    simulated = cityops("dispatch", "simulate", home=home.home)
    assert simulated.returncode == 0, simulated.stderr
    feedback = _feedback(home)
    files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in home.landing.rglob("feedback_*")}
    assert feedback and set(feedback) <= set(orders)
    assert {path.stem for path in acks(home).glob("*.json")} == set(orders)
    # Playing it again gives the same files, untouched.
    assert cityops("dispatch", "simulate", home=home.home).returncode == 0
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == files

    run = cityops("run", home=home.home)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Every delivered step is in the lake, counted in the books.
    days = {path.parent.name for path in files}
    written = sum(
        read_log(home, "whistle_feedback", dt.date.fromisoformat(day))["rows_written"]
        for day in days
    )
    assert written == sum(len(steps) for steps in feedback.values())
    after = _orders(home)
    assert set(after) == set(orders)
    for order_id, (status, is_open, verified_at, received_at, *_) in after.items():
        kinds = [step["事件类型"] for step in feedback.get(order_id, [])]
        # Closed exactly when verified; never received until a 签收 arrives.
        assert (not is_open) == ("核查通过" in kinds), (order_id, status, kinds)
        assert (verified_at is not None) == ("核查通过" in kinds), order_id
        assert (received_at is None) == ("签收" not in kinds), order_id
        if "签收" not in kinds:
            assert status == "待签收", order_id
    returned = {
        oid for oid, steps in feedback.items() if any(s["事件类型"] == "退单" for s in steps)
    }
    assert {oid for oid, row in after.items() if row[-1] > 0} == returned
