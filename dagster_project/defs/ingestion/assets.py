"""One daily-partitioned asset per source table: landing files → ``lake/raw/<table>/dt=…``.

The work is :func:`ingestion.pipeline.ingest_partition`; this module only wires it to Dagster
and turns the accounting record into materialization metadata.
"""

import datetime as dt

import dagster as dg

from dagster_project.defs.ingestion.partitions import DAILY
from dagster_project.defs.ingestion.resources import CityopsHome
from ingestion.contract import Contract
from ingestion.pipeline import MissingDelivery, SmallerResend, ingest_partition
from ingestion.sources import CONTRACTS

GROUP = "ingestion"


def raw_asset_key(contract: Contract) -> dg.AssetKey:
    """Asset keys are ``[schema, table]``, the same as the warehouse object."""
    return dg.AssetKey(["raw", contract.table])


def build_raw_asset(contract: Contract) -> dg.AssetsDefinition:
    """The ingestion asset of one contract."""

    @dg.asset(
        key=raw_asset_key(contract),
        partitions_def=DAILY,
        group_name=GROUP,
        kinds={"parquet", "duckdb"},
        code_version=contract.fingerprint(),
        description=f"{contract.title}: {contract.description or contract.table}",
        metadata={
            "source": contract.source,
            "format": contract.format,
            "encoding": contract.encoding,
            "key": ", ".join(contract.key),
        },
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
    )
    def _raw_asset(context: dg.AssetExecutionContext, cityops: CityopsHome) -> dg.MaterializeResult:
        paths = cityops.paths()
        day = dt.date.fromisoformat(context.partition_key)
        try:
            log = ingest_partition(
                contract,
                day,
                paths,
                force=cityops.force,
                accept_smaller_resend=cityops.accept_smaller_resend,
                run_id=context.run_id,
            )
        except MissingDelivery as missing:
            # Retrying cannot make a file appear; the freshness checks own late deliveries.
            raise dg.Failure(description=str(missing), allow_retries=False) from missing
        except SmallerResend as smaller:
            # Blocking until an operator confirms: a retry would refuse the same files again.
            raise dg.Failure(description=str(smaller), allow_retries=False) from smaller
        context.log.info(
            f"{contract.table} {day}: {log['status']}, read {log['rows_read']}, "
            f"written {log['rows_written']}, quarantined {log['rows_quarantined']}, "
            f"duplicates {log['duplicates_dropped']}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": log["rows_written"],
                "rows_read": log["rows_read"],
                "rows_quarantined": log["rows_quarantined"],
                "quarantined_by_reason": dg.MetadataValue.json(log["quarantined_by_reason"]),
                "duplicates_dropped": log["duplicates_dropped"],
                "late_rows": log["late_rows"],
                "status": log["status"],
                "files": len(log["files"]),
                "files_without_records": dg.MetadataValue.json(
                    [entry["path"] for entry in log["files"] if entry.get("outcome") != "read"]
                ),
                "withdrawn_keys": log.get("withdrawn_keys", 0),
                "path": dg.MetadataValue.path(str(paths.raw_partition(contract.table, day))),
                "warnings": dg.MetadataValue.json(log["warnings"]),
            }
        )

    return _raw_asset


RAW_ASSETS = [build_raw_asset(contract) for contract in CONTRACTS]

INGEST_JOB = dg.define_asset_job(
    "ingest_sources",
    selection=dg.AssetSelection.groups(GROUP),
    partitions_def=DAILY,
    description="Ingest every source's landing files for one day into the Parquet lake.",
)

defs = dg.Definitions(assets=RAW_ASSETS, jobs=[INGEST_JOB], resources={"cityops": CityopsHome()})
