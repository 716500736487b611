"""Fault injection: every delivery fault kind applied to a copy of one small built home.

The clean home is the session's ``built_home`` (tests/conftest.py: 3 days, no planted faults,
one ``cityops run``). A copy gets every fault kind of ``inject.py`` at once (each on its own
file), then ``cityops run`` again: the shrunk re-sends block it; ``cityops run
--accept-smaller-resend`` then goes through. Afterwards, for the faulted home:

- every delivered file is read, quarantined or rejected with a reason, and its own
  accounting balances (read = written + quarantined + duplicates);
- each fault kind has the outcome ``docs/operations.md`` promises;
- the serving snapshot equals a from-scratch build of the same lake;
- nothing readable outside ``restricted`` holds a phone or ID number after normalisation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import paths
from quality.pii import scan_database
from serving import publish
from tests.cli_runner import cityops
from tests.faults.inject import Fault, inject_all, manifest_files
from tests.integration.dbt_runner import run_dbt
from tests.warehouses import differences as compare

# The module fixture runs `cityops run` twice on the faulted copy (the second rebuilds the
# warehouse) and one dbt build from scratch: ≈ 3 min on a quiet 2-core machine (more than
# twice that when loaded), beside the per-test default of pyproject.toml.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

ACCEPT = "--accept-smaller-resend"


@dataclass(frozen=True)
class Homes:
    """The three homes of the suite and the two runs on the faulted one."""

    base: Path  # the clean home after its first `cityops run`
    faulted: Path  # a copy with every fault applied, after the blocked and the accepted run
    rebuilt: Path  # a from-scratch dbt build of the faulted home's lake, published
    faults: dict[str, Fault]
    blocked: subprocess.CompletedProcess
    accepted: subprocess.CompletedProcess


def _said(run):
    return run.stdout[-3000:] + run.stderr[-3000:]


@pytest.fixture(scope="module")
def homes(built_home, tmp_path_factory):
    """Fault a copy of the clean built home, run it twice, and build its lake from scratch."""
    root = tmp_path_factory.mktemp("faults")
    base = built_home.home
    faulted = built_home.copy(root / "faulted")
    faults = inject_all(faulted / "landing")
    blocked = cityops("run", home=faulted)
    accepted = cityops("run", ACCEPT, home=faulted)
    assert accepted.returncode == 0, _said(accepted)

    rebuilt = root / "rebuilt"
    (rebuilt / "lake").mkdir(parents=True)
    for folder in ("raw", "quarantine", "_ingestion_log"):
        shutil.copytree(faulted / "lake" / folder, rebuilt / "lake" / folder)
    # With the faulted home's pseudonymisation key, or every keyed hash would differ.
    key = (faulted / ".secrets" / "pii_key").read_text(encoding="utf-8").strip()
    built = run_dbt(rebuilt, root / "rebuilt_target", "build", key=key)
    assert built.returncode == 0, built.stdout[-6000:]
    publish(paths(rebuilt), run_id="rebuilt")
    return Homes(base, faulted, rebuilt, faults, blocked, accepted)


def _snapshot(home):
    return home / "serving" / "current.duckdb"


def _rows(database, sql, parameters=()):
    with duckdb.connect(str(database), read_only=database != ":memory:") as connection:
        return connection.execute(sql, list(parameters)).fetchall()


def test_a_shrunk_resend_blocks_the_run_and_keeps_the_last_good_state(homes):
    assert homes.blocked.returncode != 0
    said = _said(homes.blocked)
    # Both shrunk re-sends are named, with the way to confirm them.
    assert "grid_cases" in said and "2024-07-02" in said
    assert "enterprises" in said and "2024-07-03" in said
    assert ACCEPT in said
    # The partition as it was before the blocked run is what the accepted run replaced; the
    # base home's lake still has the day's rows, and its serving snapshot its cases.
    raw = homes.base / "lake" / "raw" / "grid_cases" / "dt=2024-07-02" / "part-0.parquet"
    assert _rows(":memory:", "select count(*) from read_parquet(?)", [str(raw)])[0][0] > 0


def _accounting(home):
    """Per delivered file (landing path): its accounting entries, one per table reading it."""
    entries = {}
    for log in sorted((home / "lake" / "_ingestion_log").glob("*/dt=*.json")):
        document = json.loads(log.read_text(encoding="utf-8"))
        for entry in document["files"]:
            entries.setdefault(entry["path"], []).append({**entry, "table": document["table"]})
    return entries


def test_every_delivered_file_is_accounted_for_and_balances(homes):
    entries = _accounting(homes.faulted)
    problems = _landing_problems(homes.faulted)
    for name in manifest_files(homes.faulted / "landing"):
        problem = _problem_of(problems, name)
        if problem is not None:
            assert problem["kind"] and problem["detail"], name
            continue
        assert entries.get(name), f"{name} is in no accounting"
        for entry in entries[name]:
            accounted = (
                entry["rows_written"] + entry["rows_quarantined"] + entry["duplicates_dropped"]
            )
            assert entry["rows_read"] == accounted, (name, entry)


def _landing_problems(home):
    """What the landing scan recorded as not read: landing path → its problem."""
    path = home / "lake" / "_ingestion_log" / "landing_problems.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    return {item["path"].rstrip("/"): item for item in document["problems"]}


def _problem_of(problems, name):
    """The recorded problem of a landing file, or of a folder that holds it."""
    parts = name.split("/")
    for end in range(len(parts), 0, -1):
        if "/".join(parts[:end]) in problems:
            return problems["/".join(parts[:end])]
    return None


def test_the_withdrawn_order_is_gone_from_every_table(homes):
    order = homes.faults["withdrawn_record"].expect["order_id"]
    found = {}
    with duckdb.connect(str(_snapshot(homes.faulted)), read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('staging')"
        ).fetchall()
        for schema, table, column in columns:
            count = connection.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}" = ?', [order]
            ).fetchone()[0]
            if count:
                found[f"{schema}.{table}.{column}"] = count
    assert found == {}


def test_the_serving_snapshot_equals_a_build_from_scratch_of_the_same_lake(homes):
    tables, differences = compare(
        _snapshot(homes.faulted), _snapshot(homes.rebuilt), skip=NOT_FROM_THE_LAKE
    )
    assert len(tables) > len(NOT_FROM_THE_LAKE)
    assert differences == {}


# Tables that legitimately differ between an incremental home and a from-scratch build: the
# check results a Dagster run collected (the scratch build ran no Dagster job), the freshness
# marts that join their wall-clock verdicts (tests/integration/test_crash.py compares their
# lake columns), and the snapshot's own description (its run id and time).
NOT_FROM_THE_LAKE = frozenset(
    {
        "quality.fct_check_results",
        "quality.fct_check_results_daily",
        "quality.fct_source_freshness",
        "quality.fct_data_as_of",
        "_serving.snapshot",
    }
)


def test_nothing_served_holds_a_phone_or_id_number_after_normalisation(homes):
    # Every readable column outside `restricted` (and the never-served staging views).
    assert scan_database(_snapshot(homes.faulted)) == []
    # The planted forms reached the snapshot, scrubbed: the scan above was not vacuous.
    orders = homes.faults["personal_data_in_free_text"].expect["order_ids"]
    texts = _rows(
        _snapshot(homes.faulted),
        "select content_scrubbed, return_reason from events.fct_hotline_orders "
        "where order_id in (select unnest(?))",
        [orders],
    )
    joined = " ".join(str(value) for row in texts for value in row)
    assert "[手机号]" in joined and "[身份证号]" in joined and "[车牌号]" in joined


def _entry(homes, kind, table=None):
    """The accounting entry of the one file a fault touched (for ``table`` if several read it)."""
    (name,) = homes.faults[kind].files
    entries = [e for e in _accounting(homes.faulted)[name] if table in (None, e["table"])]
    (entry,) = entries
    return entry


def _partition(homes, table, day):
    log = homes.faulted / "lake" / "_ingestion_log" / table / f"dt={day}.json"
    return json.loads(log.read_text(encoding="utf-8"))


def _records(homes, kind):
    return homes.faults[kind].expect["records"]


# What each fault kind's file must show in the books (docs/operations.md says the same).
def _read_whole(homes, kind):
    entry = _entry(homes, kind)
    assert entry["rows_read"] == _records(homes, kind)
    assert entry["rows_quarantined"] == 0
    return entry


def _gzip_that_is_plain_csv(homes):
    entry = _read_whole(homes, "gzip_that_is_plain_csv")
    assert any("gzip" in warning for warning in entry["warnings"])


def _gzip_cut_after_20_bytes(homes):
    entry = _entry(homes, "gzip_cut_after_20_bytes")
    assert entry["outcome"] != "read"
    assert entry["rows_quarantined"] + len(entry["warnings"]) > 0


def _shrunk(table, day):
    def check(homes):
        log = _partition(homes, table, day)
        assert log["rows_written"] == 0 < log["previous_rows_written"]
        assert log["smaller_resend_accepted"] is True
        assert all(entry["outcome"] == "empty" for entry in log["files"])

    return check


def _withdrawn_record(homes):
    assert _partition(homes, "hotline_orders", "2024-07-02")["withdrawn_keys"] >= 1


def _one_bad_byte(homes):
    entry = _entry(homes, "one_bad_byte")
    assert entry["quarantined_by_reason"] == {"encoding_mismatch": 1}
    assert entry["rows_written"] > 0


def _misnamed_day_folders(homes):
    problems = _landing_problems(homes.faulted)
    for name in homes.faults["misnamed_day_folders"].files:
        assert _problem_of(problems, name)["kind"] == "not_a_day_folder"


def _xlsx_with_renamed_sheet(homes):
    entry = _entry(homes, "xlsx_with_renamed_sheet", table="enterprises")
    assert entry["rows_read"] == _records(homes, "xlsx_with_renamed_sheet")


def _all_rows_accounted(kind):
    def check(homes):
        assert _entry(homes, kind)["rows_read"] == _records(homes, kind)

    return check


def _quarantined_as(kind, reason, count=None):
    def check(homes):
        entry = _entry(homes, kind)
        expected = count if count is not None else _records(homes, kind)
        assert entry["quarantined_by_reason"] == {reason: expected}

    return check


def _truncated_gzip(homes):
    entry = _entry(homes, "truncated_gzip")
    assert entry["quarantined_by_reason"].get("truncated_file", 0) == 1
    assert entry["rows_written"] > 0


def _extra_column(homes):
    entry = _read_whole(homes, "extra_column")
    assert any("备注" in warning for warning in entry["warnings"])


def _clean(kind):
    def check(homes):
        entry = _entry(homes, kind)
        assert entry["rows_read"] > 0 and entry["rows_quarantined"] == 0

    return check


def _formula_and_sql_text(homes):
    texts = homes.faults["formula_and_sql_text"].expect["texts"]
    served = dict(
        _rows(
            _snapshot(homes.faulted),
            "select case_id, case_description_scrubbed from events.fct_grid_cases "
            "where case_id in (select unnest(?))",
            [list(texts)],
        )
    )
    assert served == texts


OUTCOMES = {
    "withdrawn_record": _withdrawn_record,
    "gzip_that_is_plain_csv": _gzip_that_is_plain_csv,
    "gzip_cut_after_20_bytes": _gzip_cut_after_20_bytes,
    "empty_resend": _shrunk("grid_cases", "2024-07-02"),
    "header_only_resend": _shrunk("enterprises", "2024-07-03"),
    "one_bad_byte": _one_bad_byte,
    "misnamed_day_folders": _misnamed_day_folders,
    "xlsx_with_renamed_sheet": _xlsx_with_renamed_sheet,
    "cr_only_line_endings": lambda homes: _read_whole(homes, "cr_only_line_endings"),
    "duplicated_header_column": _all_rows_accounted("duplicated_header_column"),
    "wrong_encoding": _quarantined_as("wrong_encoding", "encoding_mismatch"),
    "truncated_gzip": _truncated_gzip,
    "missing_column": _quarantined_as("missing_column", "schema_mismatch"),
    "extra_column": _extra_column,
    "byte_order_mark": _clean("byte_order_mark"),
    "crlf_line_endings": _clean("crlf_line_endings"),
    "broken_json_line": _quarantined_as("broken_json_line", "malformed_record", 1),
    "future_dates": _quarantined_as("future_dates", "out_of_range", 1),
    "formula_and_sql_text": _formula_and_sql_text,
    # Checked by its own test below the books: nothing served holds what it planted.
    "personal_data_in_free_text": lambda homes: None,
}


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
def test_each_fault_kind_has_its_documented_outcome(homes, kind):
    OUTCOMES[kind](homes)


def test_every_injected_kind_has_an_expected_outcome():
    from tests.faults.inject import INJECTORS

    assert {inject.__name__ for inject in INJECTORS} == set(OUTCOMES)
