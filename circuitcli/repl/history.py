"""A line history kept in a file across sessions (the REPL's and the quiz's), used only while
the file is a regular file: opened without blocking, read size-capped, so that a FIFO, a
device or a link to one there is a note, never a hang or an endless read (issue 24).
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Callable, Iterable

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from ..core.safe_text import printable
from ..core.syntax import CircuitError
from ..io.files import read_bytes

__all__ = ["HISTORY_LIMIT", "RegularFileHistory", "file_history"]

# the history file is read whole at start-up: past this it is not read (a note says so)
HISTORY_LIMIT = 4 * 1024 * 1024


def file_history(path: str, what: str, note: Callable[[str], None],
                 limit: int = HISTORY_LIMIT) -> History:
    """History across sessions, from a regular file only: a FIFO there would block the
    start-up, a link to /dev/zero would be an endless line. Anything else, or a file over
    HISTORY_LIMIT, gets a note and a history for this session only. (The quiz's too.)"""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        if not os.path.exists(path):
            os.close(_open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT))
        history = RegularFileHistory(path)
        history.what, history.limit = what, limit
        history.preload()
    except OSError as err:
        note(f"note: no history across sessions ({printable(path)}: "
             f"{err.strerror or err})")
        return InMemoryHistory()
    except CircuitError as err:
        note(f"note: no history across sessions ({printable(err.message)})")
        return InMemoryHistory()
    return history


def _open_regular(path: str, flags: int) -> int:
    """A descriptor on `path` if it is a regular file: opened without blocking (a FIFO
    cannot hang us), then checked on the descriptor itself."""
    fd = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise OSError(0, "not a regular file")
    return fd


class RegularFileHistory(FileHistory):
    """prompt_toolkit's FileHistory (same format), reading and appending only while the
    file is a regular file, and reading at most `limit` bytes."""

    _strings: list[str] | None = None
    what = "REPL history file"
    limit = HISTORY_LIMIT

    def preload(self) -> None:
        """Read now, so that a file we refuse is a note at start-up, not an error in
        prompt_toolkit's loader thread."""
        data = read_bytes(self.filename, self.what, self.limit)
        strings: list[str] = []
        lines: list[str] = []
        for raw in data.decode("utf-8", "replace").splitlines(keepends=True):
            if raw.startswith("+"):
                lines.append(raw[1:])
            elif lines:
                strings.append("".join(lines)[:-1])
                lines = []
        if lines:
            strings.append("".join(lines)[:-1])
        self._strings = strings

    def load_history_strings(self) -> Iterable[str]:
        return reversed(self._strings or [])

    def store_string(self, string: str) -> None:
        text = f"\n# {datetime.datetime.now()}\n" + "".join(
            f"+{line}\n" for line in string.split("\n"))
        try:
            fd = _open_regular(os.fsdecode(self.filename), os.O_WRONLY | os.O_APPEND)
        except OSError:
            return  # swapped for something else since start-up: kept in memory only
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        except OSError:
            pass
        finally:
            os.close(fd)
