"""Data files the checks read (vendored, each with its upstream licence beside it)."""
