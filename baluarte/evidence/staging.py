"""A pack's files written as they are made, and the pack put in place whole or not at all.

A pack of a quarter's nightly runs is hundreds of megabytes. Into a folder, each file is written
(and hashed, for the manifest) as soon as it exists, while the PDF is still being laid out,
into a folder beside the pack's that is renamed into place once the manifest is signed: a
reader never sees half a pack, and nothing is copied twice. A process of the export's own (the
tables' fork) writes its files there too and hands back only their hashes. A zip is one file
written at the end, in name order: its files are kept until then.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from baluarte.errors import InputError

__all__ = ["Made", "Staging", "manifest_text"]

# files made in another process: their bytes, or the SHA-256 of one it wrote into the pack
Made = dict[str, bytes | str]


def manifest_text(digests: dict[str, str]) -> bytes:
    """``sha256sum`` format, sorted by name, LF line ends."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items())).encode()


class Staging:
    """Where a pack's files go as they are made; ``commit`` puts the pack at ``out``."""

    def __init__(self, out: Path) -> None:
        if out.exists() and (out.suffix == ".zip" or any(out.iterdir())):
            raise InputError(f"{out} already exists: a pack is never rewritten", code="usage")
        self.out = out
        self.digests: dict[str, str] = {}  # every file so far → its SHA-256
        self._kept: dict[str, bytes] = {}  # a zip's files, until it is written
        out.parent.mkdir(parents=True, exist_ok=True)
        # a folder pack is made beside its place (same file system: renamed, not copied)
        self.folder: Path | None = None
        if out.suffix != ".zip":
            self.folder = Path(
                tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
            )

    def put(self, name: str, data: bytes) -> None:
        """A file of the pack (a path relative to its root, ``/``-separated)."""
        self.digests[name] = hashlib.sha256(data).hexdigest()
        if self.folder is None:
            self._kept[name] = data
        else:
            write_file(self.folder, name, data)

    def put_all(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            self.put(name, data)

    def take(self, made: Made) -> None:
        """What ``written_elsewhere`` gave in another process: files (bytes) to put, or the
        SHA-256 (text) of files it wrote into this pack's folder itself."""
        for name, value in made.items():
            if isinstance(value, str):
                self.digests[name] = value
            else:
                self.put(name, value)

    def written_elsewhere(self, files: dict[str, bytes]) -> Made:
        """In another process of this export: ``files`` written into the pack's folder, and
        their hashes to hand back (for a zip, the files themselves)."""
        if self.folder is None:
            return dict(files)
        done: Made = {}
        for name, data in files.items():
            write_file(self.folder, name, data)
            done[name] = hashlib.sha256(data).hexdigest()
        return done

    def commit(self) -> None:
        """The pack at ``out``, in one step; unless something else appeared there meanwhile."""
        out = self.out
        if self.folder is None:
            fd, partial = tempfile.mkstemp(
                prefix=f".{out.name}.", suffix=".partial", dir=out.parent
            )
            try:
                with (
                    os.fdopen(fd, "wb") as raw,
                    zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf,
                ):
                    for name in sorted(self._kept):
                        zf.writestr(name, self._kept[name])
                if out.exists():  # appeared while the pack was made
                    raise InputError(
                        f"{out} already exists: a pack is never rewritten", code="usage"
                    )
                os.replace(partial, out)
            finally:
                Path(partial).unlink(missing_ok=True)
            return
        umask = os.umask(0o022)
        os.umask(umask)
        self.folder.chmod(0o777 & ~umask)  # as a folder made by mkdir: mkdtemp's is the owner's
        if out.is_dir():
            out.rmdir()  # an empty folder named on purpose (a full one was refused before)
        self.folder.rename(out)
        self.folder = None

    def discard(self) -> None:
        """Remove what was written of a pack that was given up (nothing, once committed)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self._kept.clear()


def write_file(root: Path, name: str, data: bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
