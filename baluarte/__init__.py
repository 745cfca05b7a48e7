"""Baluarte: compliance-as-code for managed IT providers."""

__version__ = "0.1.0"
