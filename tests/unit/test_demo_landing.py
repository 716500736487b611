"""How the demo generator delivers the fast sources: file names, batches, alarms, landing times."""

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from demo.common import Config
from demo.iot import EPOCH, Batch, M, batch_name, hour_deliveries, resend_name
from demo.landing_times import (
    ALARM_DELAY,
    BATCH_DELAY,
    BEIJING,
    OFFICE_OPENS,
    landed_at,
    landing_schedule,
    next_day,
)
from demo.weather import _deliveries as weather_files

DAY = date(2024, 7, 1)
IDS = ["SD000001", "RG000001", "EB000001"]
SD, RG, EB = range(3)


def _at(moment: str) -> int:
    """Seconds since the generator's EPOCH of a ``YYYY-MM-DD HH:MM:SS`` Beijing time."""
    return int((datetime.fromisoformat(moment) - EPOCH).total_seconds())


def _batch(*rows: tuple[int, str, str, float]) -> Batch:
    device, metric, moment, value = zip(*rows, strict=True)
    return Batch(
        device=np.array(device, dtype=np.int64),
        metric=np.array([M[m] for m in metric], dtype=np.int16),
        time=np.array([_at(t) for t in moment], dtype=np.int64),
        value=np.array(value, dtype=float),
        incident=np.zeros(len(rows), dtype=bool),
    )


# The 10:00 hour as written after fault placement: a duplicate right after its original
# (10:05), a smoke alarm at 10:07:12 and an overcurrent alarm at 10:15.
HOUR = _batch(
    (RG, "rainfall_mm", "2024-07-01 10:00:00", 0.2),
    (SD, "smoke_obscuration_pct", "2024-07-01 10:00:00", 0.03),
    (RG, "rainfall_mm", "2024-07-01 10:05:00", 0.4),
    (RG, "rainfall_mm", "2024-07-01 10:05:00", 0.4),
    (SD, "smoke_alarm", "2024-07-01 10:07:12", 1.0),
    (RG, "rainfall_mm", "2024-07-01 10:10:00", 0.1),
    (EB, "overcurrent_alarm", "2024-07-01 10:15:00", 1.0),
    (EB, "charging_current_a", "2024-07-01 10:15:00", 17.2),
    (RG, "rainfall_mm", "2024-07-01 10:55:00", 0.0),
)
# A malformed line drawn from a 10:10 reading (its time field is gone).
MALFORMED = [(_at("2024-07-01 10:10:00"), "RG000001,rainfall_mm,0.3")]
# A reading of the previous day's 23:00 hour, delivered late.
LATE = _batch((SD, "temperature_c", "2024-06-30 23:00:00", 26.1))


def _contents(deliveries):
    """File name → (device, metric, reading time) of its rows, and its extra lines."""
    return {
        d.name: (
            [
                (IDS[dev], metric, str(EPOCH + timedelta(seconds=int(t))))
                for dev, metric, t in zip(
                    d.rows.device.tolist(),
                    d.rows.metric.tolist(),
                    d.rows.time.tolist(),
                    strict=True,
                )
            ],
            d.lines,
        )
        for d in deliveries
    }


def test_five_minute_batches_split_the_hour_by_reading_time_and_alarms_go_alone():
    files = _contents(hour_deliveries(HOUR, MALFORMED, LATE, DAY, 10, 5, IDS))
    rain, smoke, current = M["rainfall_mm"], M["smoke_obscuration_pct"], M["charging_current_a"]
    # Twelve batches (10:00 … 10:55) and two alarm files.
    assert len(files) == 12 + 2
    assert files["readings_202407011000.csv.gz"] == (
        [
            ("SD000001", M["temperature_c"], "2024-06-30 23:00:00"),  # late rows lead
            ("RG000001", rain, "2024-07-01 10:00:00"),
            ("SD000001", smoke, "2024-07-01 10:00:00"),
        ],
        [],
    )
    # The exact duplicate stays beside its original; the alarm at 10:07:12 is not here.
    assert files["readings_202407011005.csv.gz"] == (
        [("RG000001", rain, "2024-07-01 10:05:00")] * 2,
        [],
    )
    # The malformed line goes with the batch of the reading it was drawn from.
    assert files["readings_202407011010.csv.gz"] == (
        [("RG000001", rain, "2024-07-01 10:10:00")],
        ["RG000001,rainfall_mm,0.3"],
    )
    assert files["readings_202407011015.csv.gz"] == (
        [("EB000001", current, "2024-07-01 10:15:00")],
        [],
    )
    assert files["readings_202407011020.csv.gz"] == ([], [])
    assert files["readings_202407011055.csv.gz"][0] == [("RG000001", rain, "2024-07-01 10:55:00")]
    assert files["readings_20240701100712_alarm_SD000001.csv.gz"] == (
        [("SD000001", M["smoke_alarm"], "2024-07-01 10:07:12")],
        [],
    )
    assert files["readings_20240701101500_alarm_EB000001.csv.gz"] == (
        [("EB000001", M["overcurrent_alarm"], "2024-07-01 10:15:00")],
        [],
    )


def test_hourly_batches_keep_the_old_single_file_with_the_alarms_in_it():
    (delivery,) = hour_deliveries(HOUR, MALFORMED, LATE, DAY, 10, 60, IDS)
    assert delivery.name == "readings_2024070110.csv.gz"
    # The late row first, then the hour's nine rows in their order, then the malformed line.
    assert len(delivery.rows) == 1 + 9
    assert delivery.rows.time.tolist() == [*LATE.time.tolist(), *HOUR.time.tolist()]
    assert delivery.lines == ["RG000001,rainfall_mm,0.3"]
    assert delivery.due == datetime(2024, 7, 1, 11, 0)


def test_the_resend_sorts_after_every_file_of_its_hour_and_before_the_next_hour():
    # The ingestion keeps the version of the file whose name sorts last.
    names = [d.name for d in hour_deliveries(HOUR, MALFORMED, LATE, DAY, 10, 5, IDS)]
    resend = resend_name(DAY, 10)
    assert resend == "readings_2024070110_r1.csv.gz"
    assert sorted([*names, resend])[-1] == resend
    assert resend < batch_name(DAY, 11, 0, 5) == "readings_202407011100.csv.gz"
    assert batch_name(DAY, 11, 0, 60) == "readings_2024070111.csv.gz"


def test_a_batch_is_due_at_its_end_and_an_alarm_when_it_fires():
    deliveries = {d.name: d for d in hour_deliveries(HOUR, [], None, DAY, 10, 5, IDS)}
    batch = deliveries["readings_202407011005.csv.gz"]
    assert (batch.due, batch.delay) == (datetime(2024, 7, 1, 10, 10), BATCH_DELAY)
    alarm = deliveries["readings_20240701100712_alarm_SD000001.csv.gz"]
    assert (alarm.due, alarm.delay) == (datetime(2024, 7, 1, 10, 7, 12), ALARM_DELAY)


def test_landed_at_is_the_due_time_plus_a_seeded_delay_in_beijing_time():
    due = datetime(2024, 7, 1, 10, 10)
    path = "iot/2024-07-01/readings_202407011005.csv.gz"
    landed = landed_at(7, path, due, BATCH_DELAY)
    assert landed == landed_at(7, path, due, BATCH_DELAY)  # the same run, the same time
    assert timedelta(seconds=20) <= landed.replace(tzinfo=None) - due <= timedelta(seconds=90)
    assert landed.isoformat().endswith("+08:00") and len(landed.isoformat()) == 25
    # Other files draw their own delays: not all 30 of them the same.
    others = {landed_at(7, f"{path}.{k}", due, BATCH_DELAY) for k in range(30)}
    assert len(others) > 1


def test_daily_deliveries_land_the_next_night_and_business_reports_when_offices_open():
    assert next_day(DAY).isoformat() == "2024-07-02T00:30:00+08:00"
    assert next_day(DAY, OFFICE_OPENS).isoformat() == "2024-07-02T08:30:00+08:00"


def test_weather_comes_hourly_with_short_batches_and_daily_with_hourly_ones():
    config = Config(Path("unused"), DAY, 1, 7, 0.02, 0.0, batch_minutes=5)
    hourly = weather_files(config, DAY)
    assert [name for name, _, _ in hourly][:2] == [
        "weather_2024070100.json",
        "weather_2024070101.json",
    ]
    assert [list(hours) for _, hours, _ in hourly] == [[h] for h in range(24)]
    first = hourly[0][2]  # the 00:00 observations land 2–10 min after 01:00
    assert (
        datetime(2024, 7, 1, 1, 2, tzinfo=BEIJING)
        <= first
        <= datetime(2024, 7, 1, 1, 10, tzinfo=BEIJING)
    )
    daily = weather_files(Config(Path("unused"), DAY, 1, 7, 0.02, 0.0, batch_minutes=60), DAY)
    assert daily == [("weather_20240701.json", range(24), next_day(DAY))]


def test_the_landing_schedule_lists_one_day_by_time():
    manifest = {
        "files": [
            {
                "path": "iot/2024-07-01/readings_202407010005.csv.gz",
                "landed_at": "2024-07-01T00:10:40+08:00",
            },
            {
                "path": "hotline/2024-07-01/12345工单_20240701.csv",
                "landed_at": "2024-07-02T00:30:00+08:00",
            },
            {
                "path": "iot/2024-07-01/devices_20240701.csv",
                "landed_at": "2024-07-02T00:30:00+08:00",
            },
            {
                "path": "iot/2024-07-01/readings_202407010000.csv.gz",
                "landed_at": "2024-07-01T00:05:55+08:00",
            },
            {
                "path": "iot/2024-07-02/readings_202407020000.csv.gz",
                "landed_at": "2024-07-02T00:05:30+08:00",
            },
        ]
    }
    schedule = landing_schedule(manifest, DAY)
    # By time; the two files landing at 00:30 in the order of their paths; 07-02's file not here.
    assert [path for _, path in schedule] == [
        "iot/2024-07-01/readings_202407010000.csv.gz",
        "iot/2024-07-01/readings_202407010005.csv.gz",
        "hotline/2024-07-01/12345工单_20240701.csv",
        "iot/2024-07-01/devices_20240701.csv",
    ]
    assert schedule[0][0] == datetime(2024, 7, 1, 0, 5, 55, tzinfo=BEIJING)
