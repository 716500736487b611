"""dbt-duckdb plugin: dbt ends when the cityops process that started it dies.

dagster-dbt runs dbt as a child process. A ``kill -9`` of its parent (``cityops run``, a run
worker) does not end it: measured on a 2-day home, the orphaned dbt finished its step 16 s
later, holding the working warehouse's DuckDB write lock the whole time, and a district
year's step holds it for minutes; a run started meanwhile fails on that lock, and the orphan
goes on writing the warehouse the next run builds.

``run_dbt`` (``dagster_project/defs/transformation/resources.py``) passes its own pid as
``CITYOPS_DBT_PARENT_PID``. Before dbt opens the warehouse, this plugin starts a thread that
looks every half second whether that process is still dbt's parent, and kills dbt (SIGKILL,
as its parent was) when it is not: the parent died and dbt was handed to another. DuckDB's
write-ahead log keeps every committed model; the next run rebuilds the rest. dbt started by
hand has no such variable, and nothing changes.

Crash tests only: ``CITYOPS_TEST_PAUSE_AT=dbt=<marker file>`` makes dbt write its pid to the
marker and wait, holding the warehouse, when its first connection opens
(``ingestion/processes.py`` describes the pause points).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

PARENT_VARIABLE = "CITYOPS_DBT_PARENT_PID"
PAUSE_VARIABLE = "CITYOPS_TEST_PAUSE_AT"
CHECK_SECONDS = 0.5


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


class Plugin(BasePlugin):
    """Ends dbt when its cityops parent is gone; holds the crash tests' ``dbt`` pause point."""

    def initialize(self, plugin_config):  # noqa: D102 (documented on the class)
        parent = os.environ.get(PARENT_VARIABLE, "")
        if parent.isdigit():
            threading.Thread(
                target=_watch, args=(int(parent),), name="cityops-parent-watch", daemon=True
            ).start()

    def configure_connection(self, conn):  # noqa: D102
        name, _, marker = os.environ.get(PAUSE_VARIABLE, "").partition("=")
        if name != "dbt" or not marker:
            return
        staged = Path(f"{marker}.tmp")
        staged.write_text(f"{os.getpid()}\n", encoding="ascii")
        os.replace(staged, marker)
        while True:
            time.sleep(3600)
