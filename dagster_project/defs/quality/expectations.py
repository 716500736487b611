"""Great Expectations suites and delivery-fault checks as Dagster asset checks.

- ``gx_suite`` on every lake table (``raw/<table>``): the table's suite
  (``quality.expectations.raw``) over each partition day of the run.
- ``delivery_faults`` on every lake table: the day's quarantine, duplicate and late counts
  against their tolerances (``quality.faults``).
- ``gx_suite`` on the key marts (``quality.expectations.marts``), read from the working
  warehouse after dbt built it.
- ``quality/data_docs``: renders the GX Data Docs site once per run, after the marts.

All checks are ``blocking``: Dagster runs them before anything downstream of their asset, and
an ERROR result stops it (dbt on a bad partition, the serving snapshot on a bad mart). A WARN
result is recorded and shown but stops nothing. The severity of a suite's result is the
worst severity among its failed expectations.
"""

import dagster as dg
import duckdb

from dagster_project.defs.ingestion.assets import raw_asset_key
from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.defs.quality.checks import run_days
from ingestion.contract import Contract
from ingestion.sources import CONTRACTS
from quality.expectations.data import read_partition, read_table
from quality.expectations.marts import MART_SUITES
from quality.expectations.raw import RAW_SUITES
from quality.expectations.runner import Outcome, build_data_docs, gx_root, validate
from quality.expectations.suite import ERROR, Suite
from quality.faults import ERROR as FAULT_ERROR
from quality.faults import check_faults
from serving import working_path


def _severity(error: bool) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN


def _outcome_metadata(outcomes: list[Outcome]) -> dict[str, object]:
    return {
        "batches": [outcome.batch for outcome in outcomes],
        "rows": [outcome.rows for outcome in outcomes],
        "expectations": outcomes[0].evaluated if outcomes else 0,
        "failed_checks": dg.MetadataValue.json(
            {o.batch: [f.describe() for f in o.findings] for o in outcomes if o.findings}
        ),
        "data_docs": [outcome.docs_page for outcome in outcomes if outcome.docs_page],
    }


def _suite_result(outcomes: list[Outcome], missing: list[str]) -> dg.AssetCheckResult:
    failed = [outcome for outcome in outcomes if not outcome.passed]
    error = any(outcome.severity == ERROR for outcome in failed)
    summary = "; ".join(
        f"{outcome.batch}: {', '.join(outcome.failed_checks())}" for outcome in failed
    )
    if missing:
        summary = f"{summary}; no partition for {', '.join(missing)}".lstrip("; ")
    return dg.AssetCheckResult(
        passed=not failed,
        severity=_severity(error),
        description=summary or f"{len(outcomes)} batch(es) passed every expectation",
        metadata={**_outcome_metadata(outcomes), "missing_partitions": missing},
    )


def build_raw_suite_check(contract: Contract, suite: Suite) -> dg.AssetChecksDefinition:
    """The GX suite of one lake table, over each partition day of the run."""

    @dg.asset_check(
        asset=raw_asset_key(contract),
        name="gx_suite",
        blocking=True,
        description=(
            f"Great Expectations suite {suite.name}: {len(suite.expectations)} expectations "
            "(schema, nulls, codes, ranges, formats, key; distributions at WARN)."
        ),
    )
    def _gx_suite(
        context: dg.AssetCheckExecutionContext, cityops: CityopsHome
    ) -> dg.AssetCheckResult:
        paths = cityops.paths()
        outcomes, missing = [], []
        for day in run_days(context):
            frame = read_partition(paths, contract.table, day, suite.columns)
            if frame is None:  # the volume check fails missing partitions with ERROR
                missing.append(day.isoformat())
                continue
            outcomes.append(validate(suite, frame, batch=day.isoformat(), root=gx_root(paths.home)))
        return _suite_result(outcomes, missing)

    return _gx_suite


def build_fault_check(contract: Contract) -> dg.AssetChecksDefinition:
    """Quarantine, duplicate and late counts of one lake table against their tolerances."""

    @dg.asset_check(
        asset=raw_asset_key(contract),
        name="delivery_faults",
        blocking=True,
        description=(
            "Faults ingestion caught, per kind: any file-level fault (encoding, schema, "
            "truncation) WARN; record faults above 1 % of rows read WARN, above 10 % ERROR; "
            "duplicates and late records above 1 % WARN."
        ),
    )
    def _delivery_faults(
        context: dg.AssetCheckExecutionContext, cityops: CityopsHome
    ) -> dg.AssetCheckResult:
        results = [check_faults(cityops.paths(), contract.table, day) for day in run_days(context)]
        failed = [result for result in results if not result.passed]
        return dg.AssetCheckResult(
            passed=not failed,
            severity=_severity(any(r.severity == FAULT_ERROR for r in failed)),
            description="; ".join(f"{r.day}: {r.reason}" for r in failed) or "within tolerance",
            metadata={
                "cityops/engine": "faults",
                "days": [result.day.isoformat() for result in results],
                "rows_read": [result.rows_read for result in results],
                "faults": dg.MetadataValue.json(
                    {r.day.isoformat(): {k: n for k, n in r.counts.items() if n} for r in results}
                ),
                "over_tolerance": dg.MetadataValue.json(
                    {r.day.isoformat(): r.over for r in failed}
                ),
            },
        )

    return _delivery_faults


def build_mart_suite_check(schema: str, table: str, suite: Suite) -> dg.AssetChecksDefinition:
    """The GX suite of one mart, on the working warehouse before it is published."""

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name="gx_suite",
        blocking=True,
        description=(
            f"Great Expectations suite {suite.name} ({len(suite.expectations)} expectations)."
        ),
    )
    def _gx_suite(cityops: CityopsHome) -> dg.AssetCheckResult:
        paths = cityops.paths()
        try:
            frame = read_table(working_path(paths), schema, table, suite.columns)
        except duckdb.CatalogException as missing:
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.ERROR, description=str(missing)
            )
        outcome = validate(suite, frame, batch="warehouse", root=gx_root(paths.home))
        return _suite_result([outcome], [])

    return _gx_suite


RAW_SUITE_CHECKS = [build_raw_suite_check(c, RAW_SUITES[c.table]) for c in CONTRACTS]
FAULT_CHECKS = [build_fault_check(contract) for contract in CONTRACTS]
MART_SUITE_CHECKS = [build_mart_suite_check(s, t, suite) for (s, t), suite in MART_SUITES.items()]


@dg.asset(
    key=dg.AssetKey(["quality", "data_docs"]),
    deps=[dg.AssetKey(list(key)) for key in MART_SUITES],
    group_name="quality",
    kinds={"html"},
    description=(
        "GX Data Docs: a static site of every suite and its recent validation results, under "
        "$CITYOPS_HOME/quality/gx/…/data_docs/local_site/index.html."
    ),
)
def data_docs(cityops: CityopsHome) -> dg.MaterializeResult:
    """Render the validation results of this run (and the index) into the static site."""
    index = build_data_docs(cityops.paths().home)
    return dg.MaterializeResult(
        metadata={"index": dg.MetadataValue.path(str(index)) if index else "no results yet"}
    )


defs = dg.Definitions(
    assets=[data_docs],
    asset_checks=[*RAW_SUITE_CHECKS, *FAULT_CHECKS, *MART_SUITE_CHECKS],
)
