"""Superset dashboards as code and their provisioner."""
