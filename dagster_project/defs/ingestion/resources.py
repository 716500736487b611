"""The resource that tells assets where ``$CITYOPS_HOME`` is, read at run time, not at import."""

import dagster as dg

from ingestion.settings import Paths, paths


class CityopsHome(dg.ConfigurableResource):
    """``$CITYOPS_HOME`` (default ``./data``); an explicit ``home`` wins over the environment.

    ``force`` re-ingests partitions whose landing files are unchanged.
    ``accept_smaller_resend`` confirms re-sends that shrink a partition to fewer than half
    its rows (or none), which ingestion otherwise refuses.
    """

    home: str | None = None
    force: bool = False
    accept_smaller_resend: bool = False

    def paths(self) -> Paths:
        """The resolved folders under the home."""
        return paths(self.home)
