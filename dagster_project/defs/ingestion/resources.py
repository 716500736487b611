"""The resource that tells assets where ``$CITYOPS_HOME`` is, read at run time, not at import."""

import dagster as dg

from ingestion.settings import Paths, paths


class CityopsHome(dg.ConfigurableResource):
    """``$CITYOPS_HOME`` (default ``./data``); an explicit ``home`` wins over the environment.

    ``force`` re-ingests partitions whose landing files are unchanged.
    """

    home: str | None = None
    force: bool = False

    def paths(self) -> Paths:
        """The resolved folders under the home."""
        return paths(self.home)
