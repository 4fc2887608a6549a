"""Files the tool writes appear whole or not at all, even if it is killed mid-write."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["read_json", "read_text", "write_atomic", "write_file"]


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


def read_text(path: str, what: str = "circuit file", limit: int = 256 * 1024 * 1024) -> str:
    """The text of a file the user named, as UTF-8; every problem is one CircuitError line.

    (Hardened in issue 12: regular files only, a size limit, the byte offset of bad UTF-8.)
    """
    from ..core.syntax import CircuitError

    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except IsADirectoryError:
        raise CircuitError(f"{path}: is a directory, not a {what}") from None
    if len(data) > limit:
        raise CircuitError(f"{path}: larger than {limit} bytes; too big for a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CircuitError(f"{path}: not UTF-8 text (byte {err.start})") from None


def read_json(path: str, what: str = "JSON file", limit: int = 64 * 1024 * 1024) -> object:
    """A JSON document from a file the user named; every problem is one CircuitError line."""
    import json

    from ..core.syntax import CircuitError

    text = read_text(path, what, limit)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise CircuitError(f"{path}: not a valid {what} ({err})") from None
