"""The current circuit on disk: one small versioned JSON file, written atomically under a lock.

Every command given a circuit leaves it here with its input values, so the next
command can be given none (`circuit step` again and again walks uphill). Writers
hold an exclusive lock on `<file>.lock` for their whole read-modify-write, and
replace the file by renaming a fsynced temporary file onto it: a reader sees the
old state or the new one, never half of either, and a writer killed at any point
leaves the previous state. A file that is not a session this version wrote is an
error, never overwritten (`circuit reset` moves it aside).

Only stdlib modules are imported here (the lock is `fcntl.flock`, with `filelock`
as the fallback where there is no fcntl), so `circuit grad` stays fast.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from ..core.syntax import CircuitError

__all__ = ["FORMAT", "VERSION", "Saved", "Session", "SessionError", "default_path", "locate",
           "state_home"]

FORMAT = "circuitcli session"
VERSION = 1
# the session holds a circuit's text (a circuit file may have up to 256 MiB), plus a little
SIZE_LIMIT = 257 * 1024 * 1024
LOCK_TIMEOUT = 30.0  # seconds to wait for another circuit command to finish with the session
_RESET_HINT = "circuit reset starts afresh"

try:
    import fcntl
except ImportError:  # Windows: filelock does the locking there
    fcntl = None  # type: ignore[assignment]


class SessionError(CircuitError):
    """The session file cannot be read or written (exit code 2, one line naming the path)."""


@dataclass
class Saved:
    """What the session remembers: the circuit's text and its current input values."""

    text: str
    values: dict[str, float]
    source: str = ""  # the file the text came from, for titles ("" for an expression)
    output: str | None = None  # the --output it was given, if any
    extra: dict = field(default_factory=dict, compare=False)  # unknown keys of a newer writer

    def to_json(self) -> dict:
        return {**self.extra, "format": FORMAT, "version": VERSION, "circuit": self.text,
                "source": self.source, "output": self.output,
                "inputs": {name: _encode(v) for name, v in self.values.items()}}


_KINDS = {list: "a JSON list", str: "a JSON string", int: "a JSON number",
          float: "a JSON number", bool: "a JSON boolean", type(None): "JSON null"}


def _encode(value: float) -> float | str:
    """JSON has no inf or nan: those are stored as the strings 'inf', '-inf', 'nan'."""
    return value if math.isfinite(value) else repr(value)


def _decode(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("inf", "-inf", "nan"):
        return float(value)  # type: ignore[arg-type]
    return None


def state_home() -> Path:
    """$XDG_STATE_HOME, else ~/.local/state (a relative XDG_STATE_HOME is ignored, per XDG)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    return Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"


def default_path() -> Path:
    """$XDG_STATE_HOME/circuitcli/session.json, else ~/.local/state/circuitcli/session.json."""
    return state_home() / "circuitcli" / "session.json"


def _ours_to_create(folder: Path) -> bool:
    """Only the state directory and folders inside it are created on demand (XDG asks for
    that); anywhere else a missing directory is more likely a typo, so it is an error."""
    home = Path(os.path.abspath(state_home()))
    folder = Path(os.path.abspath(folder))
    return folder == home or home in folder.parents


def locate(path: str | None = None, disabled: bool = False) -> Session | None:
    """The session a command uses: --session PATH, else $CIRCUIT_SESSION, else the default.

    None means no session at all (--no-session, or CIRCUIT_SESSION=off).
    """
    if disabled:
        return None
    if path is not None:
        if not path.strip():
            raise SessionError("--session needs a file path (or use --no-session)")
        return Session(Path(path).expanduser(), explicit=True)
    env = os.environ.get("CIRCUIT_SESSION", "")
    if env.strip().lower() == "off":
        return None
    if env.strip():
        return Session(Path(env).expanduser(), explicit=True)
    return Session(default_path(), explicit=False)


class Session:
    """One session file, in an existing directory or in the state directory (created on
    first write, as the XDG spec asks). `explicit`: from --session or CIRCUIT_SESSION."""

    def __init__(self, path: Path, explicit: bool = True) -> None:
        self.path = Path(path)
        self.explicit = explicit
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._depth = 0
        self._fd: int | None = None
        self._filelock = None
        # called once when the lock has been busy for a second (to tell the user why we wait)
        self.on_wait: Callable[[str], None] | None = None

    def __repr__(self) -> str:
        return f"Session({str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------
    def load(self) -> Saved | None:
        """The saved circuit, or None when there is no session file yet.

        Only a regular file is read (a FIFO or a link to /dev/zero would hang us or fill
        memory), and only up to SIZE_LIMIT bytes.
        """
        from .files import read_bytes

        try:
            os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError:
            pass  # read_bytes says why, naming the file
        try:
            raw = read_bytes(self.path, "session file", SIZE_LIMIT)
        except CircuitError as err:
            raise SessionError(f"cannot use the session: {err.message}; {_RESET_HINT}") from None
        return self._parse(raw)

    def _parse(self, raw: bytes) -> Saved:
        where = f"the session file {self.path}"
        if not raw.strip():
            raise SessionError(f"{where} is empty, so it is not a circuitcli session; "
                               f"{_RESET_HINT}")
        from .files import loads_json

        try:
            doc = loads_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SessionError(f"{where} is not text, so it is not a circuitcli session; "
                               f"{_RESET_HINT}") from None
        except ValueError as err:
            raise SessionError(f"{where} is not valid JSON ({err}); {_RESET_HINT}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            what = _KINDS.get(type(doc), 'JSON without "format": "circuitcli session"')
            raise SessionError(f"{where} is not a circuitcli session (it holds {what}); "
                               f"{_RESET_HINT}")
        version = doc.get("version")
        if version != VERSION:
            raise SessionError(f"{where} has version {json.dumps(version)}, but this circuitcli "
                               f"reads version {VERSION}; {_RESET_HINT}")
        text, source, output, inputs = (doc.get(k) for k in ("circuit", "source", "output",
                                                              "inputs"))
        problem = None
        if not isinstance(text, str):
            problem = '"circuit" must be a string'
        elif not isinstance(source, str):
            problem = '"source" must be a string'
        elif output is not None and not isinstance(output, str):
            problem = '"output" must be a string or null'
        elif not isinstance(inputs, dict):
            problem = '"inputs" must be an object'
        values: dict[str, float] = {}
        if problem is None:
            for name, raw_value in inputs.items():
                value = _decode(raw_value)
                if value is None:
                    problem = f'"inputs"."{name}" must be a number'
                    break
                values[name] = value
        if problem is not None:
            raise SessionError(f"{where} is damaged ({problem}); {_RESET_HINT}")
        known = {"format", "version", "circuit", "source", "output", "inputs"}
        extra = {k: v for k, v in doc.items() if k not in known}
        return Saved(text, values, source, output, extra)

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[Session]:
        """Hold the session's lock (re-entrant within this process) for a read-modify-write."""
        if self._depth == 0:
            self._acquire()
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._release()

    def _check_directory(self) -> None:
        folder = self.path.parent
        if folder.is_dir():
            return
        if folder.exists():
            raise SessionError(f"cannot use the session file {self.path}: {folder} is not a "
                               "directory")
        if not _ours_to_create(folder):
            raise SessionError(f"cannot use the session file {self.path}: the directory "
                               f"{folder} does not exist")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as err:
            raise SessionError(f"cannot create the state directory {folder}: "
                               f"{err.strerror or err}") from None

    def _write_error(self, err: OSError) -> SessionError:
        folder = self.path.parent
        why = err.strerror or str(err)
        if not os.access(folder, os.W_OK) or err.errno in (13, 30):  # EACCES, EROFS
            return SessionError(f"cannot write the session file {self.path}: the directory "
                                f"{folder} is read-only ({why})")
        return SessionError(f"cannot write the session file {self.path}: {why}")

    def _acquire(self) -> None:
        self._check_directory()
        if fcntl is None:
            self._acquire_filelock()
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise self._write_error(err) from None
        started = time.monotonic()
        pause = 0.002
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited > LOCK_TIMEOUT:
                    os.close(fd)
                    raise self._busy() from None
                if waited > 1.0 and not told and self.on_wait is not None:
                    told = True
                    self.on_wait(f"waiting for another circuit command to finish with the "
                                 f"session {self.path} ...")
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            except OSError as err:  # e.g. a file system without locks
                os.close(fd)
                raise SessionError(f"cannot lock the session file {self.lock_path}: "
                                   f"{err.strerror or err}") from None
        self._fd = fd

    def _acquire_filelock(self) -> None:
        import filelock

        lock = filelock.FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise self._busy() from None
        except OSError as err:
            raise self._write_error(err) from None
        self._filelock = lock

    def _busy(self) -> SessionError:
        return SessionError(f"the session {self.path} is busy: another circuit command has held "
                            f"its lock ({self.lock_path}) for over {LOCK_TIMEOUT:g} s")

    def _release(self) -> None:
        if self._fd is not None:
            # closing the descriptor releases the flock; the lock file stays, as it must:
            # removing it would let two writers lock two different files
            os.close(self._fd)
            self._fd = None
        if self._filelock is not None:
            self._filelock.release()
            self._filelock = None

    def save(self, saved: Saved) -> None:
        """Replace the session with `saved`, refusing to overwrite a file that is not one."""
        self.update(saved, always=True)

    def update(self, saved: Saved, always: bool = False) -> bool:
        """Save unless the file already holds exactly this (or `always`); True if it wrote."""
        with self.locked():
            present = self.load()  # raises if the file there is not a session we may replace
            if present == saved and not always:
                return False
            # ensure_ascii: a file name that is not UTF-8 (held as lone surrogates, as
            # os.fsdecode gives it) is stored as \udcff escapes and read back unchanged
            self._write(json.dumps(saved.to_json(), indent=1, ensure_ascii=True,
                                   allow_nan=False).encode("ascii") + b"\n")
            return True

    def reset(self) -> str:
        """Forget the current circuit; a file that is not a session is moved aside, not deleted.

        Returns what happened, for the user.
        """
        with self.locked():
            try:
                saved = self.load()
            except SessionError:
                aside = self._aside_name()
                try:
                    os.replace(self.path, aside)
                except OSError as err:
                    raise self._write_error(err) from None
                self._sync_directory()
                return f"moved the unreadable session file aside to {aside}"
            if saved is None:
                return f"there was no current circuit ({self.path} does not exist)"
            try:
                os.unlink(self.path)
            except OSError as err:
                raise self._write_error(err) from None
            self._sync_directory()
            return f"forgot the current circuit ({self.path} removed)"

    def _aside_name(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        n = 1
        while candidate.exists():
            n += 1
            candidate = self.path.with_name(f"{self.path.name}.broken-{stamp}-{n}")
        return candidate

    def _temp_prefix(self) -> str:
        return f".{self.path.name}."

    def _write(self, data: bytes) -> None:
        """Temporary file in the same directory, fsync, rename over the session, fsync the dir."""
        real = self._target()
        folder = real.parent
        self._remove_leftovers()
        tmp = folder / f"{self._temp_prefix()}{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as err:
            raise self._write_error(err) from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, real)
        except OSError as err:
            _unlink_quietly(tmp)
            raise self._write_error(err) from None
        except BaseException:
            _unlink_quietly(tmp)
            raise
        self._sync_directory(folder)

    def _target(self) -> Path:
        """The file a write replaces: a symlinked session stays a link, its target changes."""
        return Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path

    def _remove_leftovers(self) -> None:
        """Temporary files of writers killed before their rename (we hold the lock, so no
        live writer owns one)."""
        prefix = self._temp_prefix()
        try:
            with os.scandir(self._target().parent) as entries:
                stale = [e.path for e in entries
                         if e.name.startswith(prefix) and e.name.endswith(".tmp")]
        except OSError:
            return
        for name in stale:
            _unlink_quietly(name)

    def _sync_directory(self, folder: Path | None = None) -> None:
        """Make the rename itself durable (POSIX only; elsewhere the rename is enough)."""
        if fcntl is None:
            return
        try:
            fd = os.open(folder or self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _unlink_quietly(path: os.PathLike | str) -> None:
    with suppress(OSError):
        os.unlink(path)


def values_from(saved: Saved, inputs: Mapping[str, int]) -> dict[str, float]:
    """The saved values of the circuit's inputs (names it no longer has are dropped)."""
    return {name: v for name, v in saved.values.items() if name in inputs}
