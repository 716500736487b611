"""``bench.ours.parse_record``: how a dbt invocation loaded the project, from its JSON log."""

import json

from bench.ours import parse_record


def _log(path, *events):
    """A dbt JSON log: one line per (name, second, message)."""
    lines = [
        json.dumps({"info": {"name": name, "ts": f"2024-07-05T10:00:{second:06.3f}Z", "msg": msg}})
        for name, second, msg in events
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_partial_parse_is_recognised_and_timed(tmp_path):
    log = _log(
        tmp_path / "dbt.log",
        ("MainReportVersion", 1.0, "Running with dbt=1.11"),
        ("PartialParsingEnabled", 1.7, "partial parsing enabled"),
        ("FoundStats", 2.5, "Found 69 models"),  # 2.5 - 1.0 = 1.5 s
        ("UnableToPartialParse", 9.0, "after the stats line: not this invocation's parse"),
    )
    assert parse_record(log) == {"partial": True, "reason": None, "seconds": 1.5}


def test_a_whole_project_parse_keeps_dbts_reason(tmp_path):
    reason = "Unable to do partial parsing because config vars ... have changed"
    log = _log(
        tmp_path / "dbt.log",
        ("MainReportVersion", 0.0, "Running with dbt=1.11"),
        ("UnableToPartialParse", 0.8, reason),
        ("FoundStats", 6.6, "Found 69 models"),
    )
    assert parse_record(log) == {"partial": False, "reason": reason, "seconds": 6.6}


def test_a_missing_or_unfinished_log_says_unknown(tmp_path):
    assert parse_record(tmp_path / "none.log") == {"partial": None, "reason": None, "seconds": None}
    log = _log(tmp_path / "dbt.log", ("MainReportVersion", 0.0, "Running with dbt=1.11"))
    assert parse_record(log)["partial"] is None
