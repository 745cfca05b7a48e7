"""BackupFacts of a FortiGate: the configuration backup the collector took during this run.

No endpoint is read for it: when ``backup.config_saved`` is planned the collector posts
``monitor system/config/backup`` itself and hands over the file's hash, size and place
(``FortiSnapshot.config_backup``) or why it could not (``config_backup_problem``).
"""

from __future__ import annotations

from checks.facts.backup import BackupFacts, ConfigBackupTaken
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["parse"]


def parse(snapshot: FortiSnapshot) -> BackupFacts:
    taken = snapshot.config_backup
    if taken is None:
        problems = (snapshot.config_backup_problem,) if snapshot.config_backup_problem else ()
        return BackupFacts(
            tool=None,
            detail="FortiGate configuration backup",
            problems=problems,
            config_backup_refused=snapshot.config_backup_refused,
        )
    return BackupFacts(
        tool=None,
        detail="FortiGate configuration backup",
        config_backup=ConfigBackupTaken(
            sha256=taken.sha256,
            size=taken.size,
            taken_at=taken.taken_at,
            path=taken.path,
            scope=taken.scope,
            header=taken.header,
        ),
    )
