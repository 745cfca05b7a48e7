"""Compiled report templates kept between runs, in the user's cache folder.

Compiling the evidence report's templates is a quarter of a second of every export, before the
PDF can start; Jinja keeps the compiled code per template and recompiles one whose source
changed (its checksum is in the cache's key). The cache is best effort: a folder that cannot be
made, or that another user could write to, means no cache, and a write that fails is skipped;
the templates are then compiled as before.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from jinja2 import BytecodeCache, FileSystemBytecodeCache
from jinja2.bccache import Bucket

__all__ = ["template_cache"]


def template_cache() -> BytecodeCache | None:
    """The cache in ``$XDG_CACHE_HOME/baluarte/templates`` (default ``~/.cache``), or None
    where there is no folder of this user's own to keep it in."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "baluarte" / "templates"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return None
    # code loaded from here runs: only from a folder this user alone can write to
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        return None
    return _BestEffort(str(folder))


class _BestEffort(FileSystemBytecodeCache):
    """A cache whose failures cost the compile they would have saved, never the report."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):  # unreadable, cut short, not code
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)
