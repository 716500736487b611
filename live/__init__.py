"""The live path (四早): from a landed sensor batch to a warning, a 吹哨 order and a notice.

The daily build stays the system of record. Beside it, one long-running process
(``cityops live``) watches the landing folders of the fast sources (IoT readings and alarm
events, hourly weather) and, for every batch that lands:

1. ingests the partition the batch belongs to through the same contract and function as the
   daily pipeline (:func:`ingestion.pipeline.ingest_partition`: quarantine, accounting and
   idempotence hold per batch, under the table's ingestion lock);
2. runs the same dbt models (``LIVE_SELECTION``: the hourly readings and alarms, the eight
   dimensions' indicators, levels, hysteresis, escalations and 吹哨 orders) in this process,
   with the project parsed once, on its own copy of the published warehouse
   (``live/cityops_live.duckdb``), over the delivery days after that copy;
3. publishes the vital-sign marts into ``serving/live.duckdb`` (a new file renamed into
   place), which ``cityops warnings`` and the dashboards' live panel read;
4. sends the new warning steps through the notifier, whose de-duplication means the daily
   build later sends none of them again.

When the daily build publishes a new snapshot, the live copy is replaced by it and the days
after it are run again: the live path never writes the working warehouse, so it neither
waits for nor blocks the daily build, and readers never wait for either (docs/decisions.md).

Modules: :mod:`live.store` (files, the copy, the published live store), :mod:`live.engine`
(dbt in this process), :mod:`live.runner` (the cycle and the loop), :mod:`live.replay` (a
day's batches landed again at their cadence, for the demo and the latency bench).
"""
