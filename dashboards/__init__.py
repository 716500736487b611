"""Superset dashboards as code and their provisioner (arrives with issue 7)."""
