"""Great Expectations suites for the lake tables and the key marts, defined as code.

- :mod:`quality.expectations.suite`: the :class:`Suite` type and the severity/name metadata
  every expectation carries.
- :mod:`quality.expectations.raw`: one suite per lake table, derived from its source contract
  (schema, nulls, codes, ranges, formats, key) plus the table's own cross-field and
  distribution expectations.
- :mod:`quality.expectations.marts`: suites for the key marts of the topic database.
- :mod:`quality.expectations.runner`: runs a suite over a DataFrame in a file-backed GX
  project under ``$CITYOPS_HOME/quality/gx`` and keeps the Data Docs site current.
"""
