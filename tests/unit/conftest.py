"""The unit tier: plain functions on values held in memory.

No unit test writes or reads a temporary file, opens a database file, starts a process or a
server. DuckDB appears only in memory, as the SQL engine the code under test runs on; reading
the repository's own committed sources (the dbt project, the dashboard spec, the indicator
registry) is allowed. A test that needs a folder belongs in tests/integration: the fixtures
that hand one out are refused here at collection.
"""

from pathlib import Path

import pytest

FOLDER_FIXTURES = {"tmp_path", "tmp_path_factory", "tmpdir", "tmpdir_factory"}
UNIT = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Refuse a unit test that asks for a temporary folder."""
    wrong = [
        item.nodeid
        for item in items
        if Path(item.path).is_relative_to(UNIT)
        and FOLDER_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    if wrong:
        raise pytest.UsageError(
            "unit tests may not use a temporary folder (tests/unit/conftest.py); move them "
            f"to tests/integration: {wrong}"
        )
