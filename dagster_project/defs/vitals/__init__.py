"""Vital signs: the warning notifications downstream of the vitals marts."""
