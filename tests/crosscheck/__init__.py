"""The cross-check: Baluarte, OpenSCAP and Lynis against ground truth on real lab hosts.

Host states (states.py) × compared checks (rows.py). For each cell the ground truth is
established by making the host do the thing (truth.py); the three tools' verdicts come from
running them (baluarte_run.py, oscap.py, lynis.py); matrix.py runs it all, report.py renders
docs/crosscheck.md's generated parts. ``python -m tests.crosscheck.report --write`` rewrites them.
"""
