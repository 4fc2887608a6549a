"""The one place the tool touches files the user named: what is not ours is never replaced.

Writing: a regular file (or a new one) is written atomically, through a temporary file in
the same folder that is renamed over it, so it appears whole or not at all. Anything else
(a character device such as /dev/null, a FIFO, a pipe or terminal reached as /dev/stdout or
/dev/fd/N) is written to directly, as a shell redirect would, and stays what it was. A
symlink stays a symlink: its target is written atomically. A FIFO with no reader is an
error at once rather than a hang (it is opened with O_NONBLOCK).

Reading: only regular files, checked before the open and again on the open descriptor
(opened with O_NONBLOCK, so a FIFO swapped in between cannot block us), and only up to a
size limit that fits what the file holds. Every problem is one CircuitError line naming the
file as the user gave it.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from typing import IO

from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError

# POSIX: a writer holds its temporary file, so a dead one's can be told apart (only when a
# file is written, so not at start-up)
fcntl = lazy("fcntl")
_LOCKS = os.name == "posix"
json = lazy("json")  # parameter files and sessions; a run of grad reads neither
tempfile = lazy("tempfile")  # only when a file is written

__all__ = ["JSON_LIMIT", "TEXT_LIMIT", "decode_text", "loads_json", "no_constant", "read_bytes",
           "read_file", "read_json", "read_lines", "read_stream", "read_text", "replace_file",
           "sync_folder", "unique_keys", "write_atomic", "write_file"]

TEXT_LIMIT = 256 * 1024 * 1024  # a circuit file: far above any circuit a person writes
JSON_LIMIT = 64 * 1024 * 1024  # a parameter file
_PROC_LINKS = ("/proc/", "/dev/fd/")  # descriptors of a process: /dev/stdout, >(cmd)


def _error(message: str):
    return CircuitError(message)


def _shown(path: str | os.PathLike) -> str:
    return printable(os.fsdecode(path))


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# ---- writing ---------------------------------------------------------------------------


def write_file(path: str, data: bytes | str) -> None:
    """The one way the tool writes a file the user named (see the module docstring)."""
    write_atomic(path, data)


def write_atomic(path: str, data: bytes | str) -> None:
    """Write `data` to `path`: atomically for a regular or new file, directly otherwise.

    A symlink is followed and its target replaced atomically; the link stays. A reader
    never sees half a regular file, and an existing file keeps its permissions. A failed
    write is one CircuitError naming `path`, never our temporary file.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if "\0" in path:  # only a REPL line or a file can carry one (argv cannot)
        raise _error(f"cannot write {_shown(path)}: a file name cannot hold a NUL character")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None  # a new file (or a dangling link: its target is created, like `>` does)
    except OSError as err:
        raise _error(f"cannot write {_shown(path)}: {err.strerror or err}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _error(f"cannot write {_shown(path)}: it is a directory")
    try:
        if st is None or (stat.S_ISREG(st.st_mode) and not _through_descriptor(path)):
            replace_file(os.path.realpath(path), data,
                         None if st is None else st.st_mode & 0o7777)
        else:
            _write_in_place(path, data, st)
    except OSError as err:
        raise _error(f"cannot write {_shown(path)}: {err.strerror or err}") from None


def _through_descriptor(path: str) -> bool:
    """True if `path` reaches an open descriptor (/dev/stdout, /dev/fd/3, /proc/self/fd/1).

    Such a file is already open in some process (our own stdout redirected to a file, say):
    renaming over it would leave that process writing to a file nobody can see.
    """
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on symlink hops
        if current.startswith(_PROC_LINKS):
            return True
        if not os.path.islink(current):
            return False
        target = os.readlink(current)
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return False


def replace_file(real: str, data: bytes, mode: int | None = None) -> None:
    """The one atomic write, for -o files and the session alike: a temporary file in the
    same folder (`.NAME.XXXXXXXX.tmp`), fsync, rename over `real`, fsync the folder.

    `mode`: the new file's permissions (default: what the umask allows a new file). Raises
    OSError; the temporary file never outlives a failure or an interrupt, and what a killed
    writer left (kill -9 lets no code run) is removed by the next write to `real`.
    """
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    folder = os.path.dirname(real) or "."
    _remove_leftovers(folder, os.path.basename(real))
    for attempt in range(3):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.",
                                   suffix=".tmp")
        try:
            _hold(fd)  # while it is held, another writer's clean-up leaves the file alone
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            os.fchmod(fd, mode)
            os.replace(tmp, real)
        except FileNotFoundError:
            if attempt == 2 or os.path.lexists(tmp):
                raise
            continue  # taken for a dead writer's before it was held: write it again
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            os.close(fd)
        break
    sync_folder(folder)


def _hold(fd: int) -> None:
    """Lock a temporary file for as long as its writer lives (the kernel drops the lock
    when the process dies, however it dies)."""
    if _LOCKS:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _remove_leftovers(folder: str, name: str) -> None:
    """Remove the temporary files of writers of `name` that died before their rename: ours
    only (`.NAME.` + mkstemp's 8 characters + `.tmp`, a regular file), and only those no
    living writer holds."""
    pattern = re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.tmp")
    try:
        with os.scandir(folder) as entries:
            stale = [e.path for e in entries if pattern.fullmatch(e.name)
                     and e.is_file(follow_symlinks=False)]
    except OSError:
        return
    if not stale or not _LOCKS:
        return
    for path in stale:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
                         | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a living writer holds it
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        finally:
            os.close(fd)


def sync_folder(folder: str) -> None:
    """Make a rename in `folder` durable (POSIX; elsewhere the rename is all there is)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_in_place(path: str, data: bytes, st: os.stat_result) -> None:
    """A device, FIFO or descriptor: open it (never create, never rename) and write.

    O_NONBLOCK makes opening a FIFO that nobody reads fail at once (ENXIO) instead of
    waiting forever; once open, the descriptor is made blocking again so a slow reader
    (`-o >(slow)`) is waited for, as usual for a pipe. A regular file reached through a
    descriptor link is appended to, so what the process already wrote there stays.
    """
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if stat.S_ISREG(st.st_mode):
        flags |= os.O_APPEND
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if stat.S_ISFIFO(st.st_mode) and err.errno == 6:  # ENXIO: no reader
            raise _error(f"cannot write {_shown(path)}: it is a FIFO and no process is "
                         "reading from it") from None
        raise
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


# ---- reading ---------------------------------------------------------------------------


def read_bytes(path: str | os.PathLike, what: str = "file", limit: int = TEXT_LIMIT) -> bytes:
    """The bytes of a regular file the user named, at most `limit` of them.

    A FIFO, a directory, a device or a link to one is refused before it is opened, and
    again on the open descriptor, so it can neither hang us nor fill memory.
    """
    return read_file(path, what, limit)[0]


def read_file(path: str | os.PathLike, what: str = "file", limit: int = TEXT_LIMIT
              ) -> tuple[bytes, os.stat_result]:
    """read_bytes, with the file's status taken on the open descriptor before reading (its
    mtime, for the session's reference to a large circuit file)."""
    shown = _shown(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _error(f"{shown}: no such file") from None
    except OSError as err:
        raise _error(f"cannot read the {what} {shown}: {err.strerror or err}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _error(f"{shown} is {_kind(st.st_mode)}, not a regular file; a {what} must "
                     "be one")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _error(f"cannot read the {what} {shown}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for something else since the stat
            raise _error(f"{shown} is {_kind(st.st_mode)}, not a regular file; a {what} "
                         "must be one")
        if st.st_size > limit:
            raise _error(f"{shown} is {st.st_size} bytes, larger than the {limit} bytes a "
                         f"{what} may have")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise _error(f"cannot read the {what} {shown}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if size > limit:  # it grew while we read it
        raise _error(f"{shown} is larger than the {limit} bytes a {what} may have")
    return b"".join(chunks), st


def read_stream(stream: IO, what: str = "circuit", limit: int | None = None) -> str:
    """All of a stream (standard input, `-`), held to the limit a file has (TEXT_LIMIT):
    an endless pipe is one line of error, not memory filled. Bytes that are not UTF-8
    pass through as the parser's "unexpected character", as from a terminal."""
    limit = TEXT_LIMIT if limit is None else limit
    source = getattr(stream, "buffer", stream)
    chunks: list[bytes | str] = []
    size = 0
    while size <= limit:
        chunk = source.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise _error(f"standard input holds more than the {limit} bytes a {what} may have")
    return "".join(_text(c) for c in chunks) if chunks and isinstance(chunks[0], str) \
        else _text(b"".join(chunks))  # type: ignore[arg-type]


def read_lines(stream: IO, what: str = "line", limit: int | None = None) -> Iterator[str]:
    """A stream's lines (the piped REPL's script), each held to TEXT_LIMIT: a line that
    never ends is one line of error, not memory filled."""
    limit = TEXT_LIMIT if limit is None else limit
    source = getattr(stream, "buffer", stream)
    n = 0
    while True:
        line = source.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit:
            raise _error(f"standard input, line {n}: longer than the {limit} bytes a {what} "
                         "may have")
        yield _text(line)


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "surrogateescape")


def read_text(path: str, what: str = "circuit file", limit: int = TEXT_LIMIT) -> str:
    """The text of a regular file the user named, as UTF-8; every problem is one line."""
    return decode_text(read_bytes(path, what, limit), path, what)


def decode_text(data: bytes, path: str, what: str = "circuit file") -> str:
    """`data`, read from `path`, as UTF-8 text; not UTF-8 is one line saying where."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _error(f"{_shown(path)}: not UTF-8 text (byte {err.start}), so not a "
                     f"{what}") from None


def loads_json(text: str | bytes) -> object:
    """json.loads, with every number a double can hold and nothing else.

    Raises ValueError with a short reason for what Python's decoder cannot take or would
    take wrongly: a number beyond the double range (which would become inf, or raise
    OverflowError later), more digits than int() converts, nesting deeper than the
    recursion limit, a bare NaN or Infinity, a key given twice in one object.
    """
    def parse_int(digits: str) -> int:
        count = len(digits.lstrip("-"))
        # more than 309 digits is past 1.8e308 (checked first: int() refuses 4,301 digits)
        if count <= 309:
            value = int(digits)
            with contextlib.suppress(OverflowError):
                float(value)
                return value
        raise ValueError(f"the number {digits[:12]}... ({count} digits) is too large for a "
                         "double")

    def parse_float(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            shown = text if len(text) <= 24 else text[:20] + "..."
            raise ValueError(f"the number {shown} is too large for a double")
        return value

    try:
        return json.loads(text, parse_int=parse_int, parse_float=parse_float,
                          parse_constant=no_constant, object_pairs_hook=unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"line {err.lineno}, column {err.colno}: {err.msg}") from None
    except OverflowError as err:
        raise ValueError(str(err)) from None


def no_constant(name: str) -> float:
    """json's parse_constant: NaN and Infinity are JavaScript's, not JSON's."""
    raise ValueError(f"{name} is not a JSON number")


def unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """json's object_pairs_hook: a key twice in one object is refused (Python's reader keeps
    the last, others the first: which one was meant cannot be known)."""
    doc: dict[str, object] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"the key {json.dumps(key)[:40]} appears twice in one object")
        doc[key] = value
    return doc


def read_json(path: str, what: str = "JSON file", limit: int = JSON_LIMIT) -> object:
    """A JSON document from a regular file the user named; every problem is one line."""
    text = read_text(path, what, limit)
    try:
        return loads_json(text)
    except ValueError as err:
        raise _error(f"{_shown(path)}: not a valid {what} ({err})") from None
