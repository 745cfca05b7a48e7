"""Writing files that hold what others must not read (saved plans, configuration backups)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_private"]


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, all or nothing, readable by us only.

    A temporary file beside it (mkstemp: 0600 from the start, so never readable by others even
    briefly), synced, then renamed over the name: a write that fails (disk full, quota, an
    interrupt) leaves the old file or none, never a partial one. Raises OSError.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
