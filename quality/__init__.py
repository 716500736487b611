"""Data-quality checks as plain functions (Great Expectations suites arrive with issue 5)."""
