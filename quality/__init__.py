"""Data-quality checks as plain functions, and the store of their results."""
