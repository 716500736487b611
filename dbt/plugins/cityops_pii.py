"""dbt-duckdb plugin: the pseudonymisation key and the free-text scrubber on every connection.

Models call the ``pii_hash`` macro, which reads the DuckDB session variable
``cityops_pii_key``. This plugin sets that variable on every cursor dbt opens, with a bound
parameter, from the ``CITYOPS_PII_KEY`` environment variable. The key therefore never appears
in compiled SQL, ``target/``, ``logs/dbt.log`` or ``run_results.json``, and it is read when a
connection opens, not when a module is imported.

The variable exists only in dbt's own sessions: a view that used it would fail for any other
reader, so every model that hashes is materialized as a table or an incremental table.

It also registers the SQL functions of :mod:`quality.pii` (``pii_scrub``, ``pii_kinds``,
``pii_scan``) on each connection: the scrubber every served free text passes through and the
finder the ``no_clear_pii`` test scans with, one Python implementation for both. The same
rule holds for them: tables only, never views.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

KEY_VARIABLE = "CITYOPS_PII_KEY"
# A guard against placeholders ("test", "changeme"), not a strength check: generate 32 random
# bytes (64 hex characters) as the README says.
MINIMUM_KEY_LENGTH = 16


class Plugin(BasePlugin):
    """Sets ``cityops_pii_key`` on every cursor; refuses to run without a proper key."""

    def configure_connection(self, conn):  # noqa: D102 (documented on the module)
        # Imported here, not at module level: dbt imports plugins while it parses.
        from quality import pii

        pii.register(conn)

    def update_connection_config(self, creds, config):  # noqa: D102
        # DuckDB creates the database file but not its folder ($CITYOPS_HOME/warehouse/).
        if creds.path and creds.path != ":memory:" and "://" not in creds.path:
            Path(creds.path).parent.mkdir(parents=True, exist_ok=True)

    def configure_cursor(self, cursor):  # noqa: D102 (documented on the class)
        key = os.environ.get(KEY_VARIABLE, "")
        if len(key) < MINIMUM_KEY_LENGTH:
            raise RuntimeError(
                f"{KEY_VARIABLE} must be set to a secret of at least {MINIMUM_KEY_LENGTH} "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`); "
                "`cityops` generates one under $CITYOPS_HOME when it is unset."
            )
        cursor.execute("set variable cityops_pii_key = ?", [key])
