"""The resource that tells assets where ``$CITYOPS_HOME`` is, read at run time, not at import."""

from pathlib import Path

import dagster as dg

from ingestion import lake
from ingestion.processes import remove_dead_entries
from ingestion.settings import Paths, paths
from serving import clean_staged, working_path


class CityopsHome(dg.ConfigurableResource):
    """``$CITYOPS_HOME`` (default ``./data``); an explicit ``home`` wins over the environment.

    ``force`` re-ingests partitions whose landing files are unchanged.
    ``accept_smaller_resend`` confirms re-sends that shrink a partition to fewer than half
    its rows (or none), which ingestion otherwise refuses. When a run starts,
    what crashed runs left behind is removed first (:func:`clean_crash_leftovers`).
    """

    home: str | None = None
    force: bool = False
    accept_smaller_resend: bool = False

    def paths(self) -> Paths:
        """The resolved folders under the home."""
        return paths(self.home)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Remove the staged files of crashed runs, and say so in the run's log."""
        removed = clean_crash_leftovers(self.paths())
        if removed:
            context.log.warning(
                f"Removed {len(removed)} staged file(s) of crashed runs: "
                + ", ".join(str(path) for path in removed[:10])
            )


def clean_crash_leftovers(home: Paths) -> list[Path]:
    """Staged files whose writer died: lake staging, dbt's spill folder, serving ``_tmp``."""
    return (
        lake.clean_staging(home.staging)
        # DuckDB spills beside the database it writes (`<file>.tmp/duckdb_temp_<pid>_…`)
        # and does not remove a dead process's files when the database opens again.
        + remove_dead_entries(working_path(home).with_name(working_path(home).name + ".tmp"))
        + clean_staged(home)
    )
