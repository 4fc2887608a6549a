"""Files the tool writes appear whole or not at all, even if it is killed mid-write."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["write_atomic", "write_file"]


def write_atomic(path: str, data: bytes | str) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over `path`.

    A reader never sees half a file, and an existing file keeps its permissions.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_file(path: str, data: bytes) -> None:
    """The one way the tool writes a file the user named (atomically, for regular files)."""
    write_atomic(path, data)
