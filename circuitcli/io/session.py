"""The current circuit on disk: one small versioned JSON file, written atomically under a lock.

Every command given a circuit leaves it here with its input values, so the next
command can be given none (`circuit step` again and again walks uphill). Writers
hold an exclusive lock on `<file>.lock` for their whole read-modify-write, and
replace the file by renaming a fsynced temporary file onto it: a reader sees the
old state or the new one, never half of either, and a writer killed at any point
leaves the previous state. A file that is not a session of a version this circuitcli
reads is an error, never overwritten (`circuit reset` moves it aside).

A circuit file larger than BY_REFERENCE is kept by reference: its absolute path, size,
mtime and a hash of its bytes, instead of a copy of its text that would make every run of
a big circuit slower (a session as large as the circuit, written on each change). If the
file is gone or changed when the session next needs it, that is a one-line error.

Only stdlib modules are imported here, and json, hashlib and fcntl only when needed (the
lock is `fcntl.flock`, with `filelock` as the fallback where there is no fcntl), so
`circuit grad` stays fast.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from .files import _kind, loads_json, read_bytes, read_file, replace_file, sync_folder

filelock = lazy("filelock")  # where there is no fcntl
hashlib = lazy("hashlib")  # only for a circuit file large enough to be kept by reference
json = lazy("json")  # only to write a session, or read one written otherwise
pathlib = lazy("pathlib")  # state_home() and default_path(), for callers that want a Path

__all__ = ["BY_REFERENCE", "FORMAT", "VERSION", "FileRef", "Saved", "Session", "SessionError",
           "default_path", "locate", "state_home"]

FORMAT = "circuitcli session"
VERSION = 2  # 2: a large circuit file may be kept by reference ("file") instead of its text
READS = (1, 2)  # the versions this circuitcli reads (it writes VERSION)
# a circuit file larger than this is kept by reference (path, size, mtime, hash), not copied:
# a session as big as the circuit would make every run of a big circuit slower to save
BY_REFERENCE = 1024 * 1024
# the session holds a circuit's text (a circuit file may have up to 256 MiB), plus a little
SIZE_LIMIT = 257 * 1024 * 1024
LOCK_TIMEOUT = 30.0  # seconds to wait for another circuit command to finish with the session
_RESET_HINT = "circuit reset starts afresh"

# imported on the first lock (Ellipsis: not yet), so a run that only reads stays lean;
# None where there is no fcntl (Windows: filelock does the locking there)
fcntl: Any = ...


def _fcntl() -> Any:
    global fcntl
    if fcntl is ...:
        try:
            import fcntl as module
        except ImportError:
            module = None
        fcntl = module
    return fcntl


class SessionError(CircuitError):
    """The session file cannot be read or written (exit code 2, one line naming the path)."""


class FileRef:
    """A circuit file the session keeps by reference: where it is and what it held then.

    `digest` is the BLAKE2b hash of the bytes read; size and hash decide whether the file
    still holds that circuit (the mtime alone may change with no edit, or stay with one).
    """

    __slots__ = ("digest", "mtime_ns", "path", "reset", "size")

    def __init__(self, path: str, size: int, mtime_ns: int, digest: str) -> None:
        self.path = path
        self.size = size
        self.mtime_ns = mtime_ns
        self.digest = digest
        # how the error texts say to start afresh (the session that read us may say
        # otherwise: reset refuses while the lock file is not a regular file)
        self.reset = "circuit reset"

    @classmethod
    def of(cls, path: str, data: bytes, mtime_ns: int) -> FileRef:
        """The reference to the file at `path` whose bytes (just read) are `data`."""
        return cls(os.path.abspath(path), len(data), mtime_ns, _digest(data))

    def _key(self) -> tuple:
        return self.path, self.size, self.mtime_ns, self.digest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileRef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"FileRef({self.path!r}, size={self.size}, mtime_ns={self.mtime_ns}, "
                f"digest={self.digest[:12]!r}...)")

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns,
                "blake2b": self.digest}

    def read(self, source: str = "") -> str:
        """The file's text, if it still holds the circuit the session saved; else one line
        saying what changed and what to do (SessionError, exit 2)."""
        shown = _shown_file(self.path, source)
        again = (f"run a command with the file again (circuit grad {shown}) or "
                 f"{self.reset}")
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SessionError(f"{shown} is gone (deleted or moved since the session saved "
                               "it, and the session keeps a circuit file this large by "
                               "reference, not its text); give the circuit again or run "
                               f"{self.reset}") from None
        except OSError as err:
            raise SessionError(f"cannot read {shown}, the current circuit's file: "
                               f"{err.strerror or err}; {again}") from None
        if st.st_size != self.size:
            raise SessionError(f"{shown} changed since the session saved it (its size went "
                               f"from {self.size} to {st.st_size} bytes); {again}")
        try:
            data, _ = read_file(self.path, "circuit file")
        except CircuitError as err:
            raise SessionError(f"cannot read the current circuit's file: {err.message}; "
                               f"{again}") from None
        if len(data) != self.size or _digest(data) != self.digest:
            raise SessionError(f"{shown} changed since the session saved it (same size, "
                               f"other content); {again}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:  # same hash, so this cannot happen unless forged
            raise SessionError(f"{shown} is not UTF-8 text; {again}") from None


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _shown_file(path: str, source: str) -> str:
    """The file as the user named it, when that name still reaches it from here."""
    if source and os.path.abspath(source) == path:
        return printable(source)
    return printable(path)


class Saved:
    """What the session remembers: the circuit (its text, or for a large circuit file a
    reference to the file), its current input values, and where it came from.

    `file` is the file the text was read from, if any: a file over BY_REFERENCE bytes is
    stored by reference, and its text is read back (and checked) only when `text` is used.
    """

    __slots__ = ("_text", "by_reference", "extra", "file", "output", "source", "values")

    def __init__(self, text: str | None, values: dict[str, float], source: str = "",
                 output: str | None = None, extra: dict | None = None,
                 file: FileRef | None = None) -> None:
        if text is None and file is None:
            raise ValueError("a saved circuit needs its text or its file")
        self._text = text
        self.values = values
        self.source = source  # the file the text came from, for titles ("" for an expression)
        self.output = output  # the --output it was given, if any
        self.extra = {} if extra is None else extra  # unknown keys of a newer writer
        self.file = file
        self.by_reference = file is not None and (text is None or file.size > BY_REFERENCE)

    @property
    def text(self) -> str:
        """The circuit's text; for a circuit kept by reference, read from its file (an
        error when the file is gone or changed)."""
        if self._text is None:
            self._text = self.file.read(self.source)
        return self._text

    def _stored(self) -> tuple:
        circuit = ("file", self.file) if self.by_reference else ("text", self.text)
        return circuit, self.values, self.source, self.output

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Saved) and self._stored() == other._stored()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        circuit = f"file={self.file!r}" if self.by_reference else f"text={self.text!r}"
        return (f"Saved({circuit}, values={self.values!r}, source={self.source!r}, "
                f"output={self.output!r})")

    def to_json(self) -> dict:
        doc: dict = {**self.extra, "format": FORMAT, "version": VERSION}
        if self.by_reference:
            doc["file"] = self.file.to_json()
        else:
            doc["circuit"] = self.text
        doc.update(source=self.source, output=self.output,
                   inputs={name: _encode(v) for name, v in self.values.items()})
        return doc


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


def _file_ref(doc: object) -> FileRef | str:
    """The "file" member of a version-2 session as a FileRef, or what is wrong with it."""
    if not isinstance(doc, dict):
        return '"file" must be an object'
    path, size, mtime, digest = (doc.get(k) for k in ("path", "size", "mtime_ns", "blake2b"))
    if not isinstance(path, str) or not os.path.isabs(path):
        return '"file"."path" must be an absolute path'
    for name, value in (("size", size), ("mtime_ns", mtime)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f'"file"."{name}" must be a whole number'
    if not isinstance(digest, str) or len(digest) != 64:
        return '"file"."blake2b" must be a hash of 64 hex digits'
    return FileRef(path, size, mtime, digest)


def _unfit(path: str, link_ok: bool, dangling_ok: bool = False) -> str | None:
    """What makes `path` unfit to be the session file (`link_ok`: a symlink to a regular
    file is fine; `dangling_ok`: so is one to no file yet, which a write creates, as `>`
    does) or its lock file (never a link: we made it), in words; None when there is
    nothing there or a regular file.

    Checked with lstat before anything is opened, renamed or created beside it: a session
    path that names a device, a FIFO or a directory (CIRCUIT_SESSION=/dev/null, say) is
    never moved aside, and no `.lock` is made next to it.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return None  # the open that follows names the error
    if stat.S_ISREG(st.st_mode):
        return None
    if not stat.S_ISLNK(st.st_mode):
        return f"{_kind(st.st_mode)}, not a regular file"
    try:
        target = printable(os.readlink(path))
    except OSError:
        target = "?"
    try:
        real = os.stat(path)
    except FileNotFoundError:
        return None if link_ok and dangling_ok else f"a dangling symlink (to {target})"
    except OSError as err:
        return f"a symlink (to {target}) that cannot be followed ({err.strerror or err})"
    if stat.S_ISREG(real.st_mode):
        return None if link_ok else f"a symlink (to {target}), not a regular file"
    return f"a symlink to {_kind(real.st_mode)} ({target}), not a regular file"


def _state_home() -> str:
    state = os.environ.get("XDG_STATE_HOME", "")
    return state if state and os.path.isabs(state) else os.path.join(
        os.path.expanduser("~"), ".local", "state")


def state_home():
    """$XDG_STATE_HOME, else ~/.local/state (a relative XDG_STATE_HOME is ignored, per XDG);
    a pathlib.Path."""
    return pathlib.Path(_state_home())


def default_path():
    """$XDG_STATE_HOME/circuitcli/session.json, else ~/.local/state/circuitcli/session.json."""
    return pathlib.Path(_default_file())


def _default_file() -> str:
    return os.path.join(_state_home(), "circuitcli", "session.json")


def _ours_to_create(folder: str) -> bool:
    """Only the state directory and folders inside it are created on demand (XDG asks for
    that); anywhere else a missing directory is more likely a typo, so it is an error."""
    home = os.path.abspath(_state_home())
    folder = os.path.abspath(folder)
    return folder == home or folder.startswith(home.rstrip(os.sep) + os.sep)


def locate(path: str | None = None, disabled: bool = False) -> Session | None:
    """The session a command uses: --session PATH, else $CIRCUIT_SESSION, else the default.

    None means no session at all (--no-session, or CIRCUIT_SESSION=off).
    """
    if disabled:
        return None
    if path is not None:
        if not path.strip():
            raise SessionError("--session needs a file path (or use --no-session)")
        return Session(os.path.expanduser(path), explicit=True)
    env = os.environ.get("CIRCUIT_SESSION", "")
    if env.strip().lower() == "off":
        return None
    if env.strip():
        return Session(os.path.expanduser(env), explicit=True)
    return Session(_default_file(), explicit=False)


class Session:
    """One session file, in an existing directory or in the state directory (created on
    first write, as the XDG spec asks). `explicit`: from --session or CIRCUIT_SESSION."""

    def __init__(self, path: str | os.PathLike, explicit: bool = True) -> None:
        self.path = os.fspath(path)
        if "\0" in self.path:  # os.stat would raise ValueError, not OSError, on it
            raise SessionError(f"cannot use the session file {printable(self.path)}: a file "
                               "name cannot hold a NUL byte")
        self.explicit = explicit
        self.lock_path = self.path + ".lock"
        self._depth = 0
        self._fd: int | None = None
        self._filelock = None
        # called once when the lock has been busy for a second (to tell the user why we wait)
        self.on_wait: Callable[[str], None] | None = None

    def __repr__(self) -> str:
        return f"Session({self.path!r})"

    def owns(self, path: str) -> bool:
        """Whether writing `path` would write the session file or its lock (the same file,
        or the same name once links are followed): `-o` and the REPL's :save refuse it,
        as they refuse every input they read."""
        if "\0" in path:  # no file has this name: the writer refuses it in its own words
            return False
        for ours in (self.path, self.lock_path):
            try:
                if os.path.samefile(path, ours):
                    return True
            except (OSError, ValueError):
                pass
            if os.path.realpath(path) == os.path.realpath(ours):
                return True
        return False

    # -- what is there -------------------------------------------------------------------
    def _shown(self, path: str | None = None) -> str:
        return printable(self.path if path is None else path)

    def _unfit(self, resetting: bool = False) -> tuple[str, str] | None:
        """("session", why) or ("lock", why) when the session file or its lock is not a
        regular file (see _unfit), else None. A dangling link is where a write creates the
        session; reset, which only removes, leaves it alone."""
        problem = _unfit(self.path, link_ok=True, dangling_ok=not resetting)
        if problem is not None:
            return "session", problem
        problem = _unfit(self.lock_path, link_ok=False)
        return None if problem is None else ("lock", problem)

    def _unfit_error(self, resetting: bool = False) -> SessionError | None:
        """One line when the session file or its lock is not a regular file: every command
        stops there, and none recommends `circuit reset`, which refuses too."""
        unfit = self._unfit(resetting)
        if unfit is None:
            return None
        which, problem = unfit
        if which == "session":
            what = f"the session file {self._shown()}"
            way_out = "point --session or CIRCUIT_SESSION at a file of your own"
        else:
            what = f"the session's lock file {self._shown(self.lock_path)}"
            way_out = "remove it yourself, or point --session or CIRCUIT_SESSION elsewhere"
        if resetting:
            return SessionError(f"circuit reset leaves {what} alone: it is {problem}, so "
                                f"not a file circuitcli made; {way_out}")
        return SessionError(f"cannot use {what}: it is {problem}; circuitcli leaves it "
                            f"alone: {way_out} (or use --no-session)")

    def reset_hint(self) -> str:
        """`circuit reset starts afresh`, for an error text, unless reset would refuse (a
        lock file that is not a regular file): then what to do first."""
        problem = _unfit(self.lock_path, link_ok=False)
        if problem is None:
            return _RESET_HINT
        return (f"its lock file {self._shown(self.lock_path)} is {problem}: remove it "
                "yourself, then circuit reset starts afresh")

    # -- reading -------------------------------------------------------------------------
    def load(self) -> Saved | None:
        """The saved circuit, or None when there is no session file yet.

        Only a regular file is read (a FIFO or a link to /dev/zero would hang us or fill
        memory), and only up to SIZE_LIMIT bytes.
        """
        problem = _unfit(self.path, link_ok=True, dangling_ok=True)
        if problem is not None:
            raise self._unfit_error() or SessionError(problem)
        try:
            os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError:
            pass  # read_bytes says why, naming the file
        try:
            raw = read_bytes(self.path, "session file", SIZE_LIMIT)
        except CircuitError as err:
            if self._unfit_error() is not None:  # swapped since the check
                raise self._unfit_error() from None
            raise SessionError(f"cannot use the session: {err.message}; "
                               f"{self.reset_hint()}") from None
        return self._parse(raw)

    def _parse(self, raw: bytes) -> Saved:
        where = f"the session file {self._shown()}"
        hint = self.reset_hint()
        if not raw.strip():
            raise SessionError(f"{where} is empty, so it is not a circuitcli session; "
                               f"{hint}")
        try:
            doc = loads_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SessionError(f"{where} is not text, so it is not a circuitcli session; "
                               f"{hint}") from None
        except ValueError as err:
            raise SessionError(f"{where} is not valid JSON ({err}); {hint}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            what = _KINDS.get(type(doc), 'JSON without "format": "circuitcli session"')
            raise SessionError(f"{where} is not a circuitcli session (it holds {what}); "
                               f"{hint}")
        version = doc.get("version")
        if version not in READS or isinstance(version, bool):
            raise SessionError(f"{where} has version {json.dumps(version)}, but this circuitcli "
                               f"reads version {VERSION} and older; {hint}")
        text, source, output, inputs = (doc.get(k) for k in ("circuit", "source", "output",
                                                              "inputs"))
        problem = None
        file = None
        if version >= 2 and "file" in doc:  # a large circuit file, kept by reference
            file = _file_ref(doc["file"])
            if isinstance(file, str):
                problem = file
            elif text is not None:
                problem = 'give "circuit" or "file", not both'
        elif not isinstance(text, str):
            problem = '"circuit" must be a string'
        if problem is not None:
            pass
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
            raise SessionError(f"{where} is damaged ({problem}); {hint}")
        if isinstance(file, FileRef) and hint != _RESET_HINT:
            file.reset = hint.removesuffix(" starts afresh")
        known = {"format", "version", "circuit", "file", "source", "output", "inputs"}
        extra = {k: v for k, v in doc.items() if k not in known}
        return Saved(text, values, source, output, extra, file)

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
        folder = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(folder):
            return
        if os.path.exists(folder):
            raise SessionError(f"cannot use the session file {self._shown()}: "
                               f"{self._shown(folder)} is not a directory")
        if not _ours_to_create(folder):
            raise SessionError(f"cannot use the session file {self._shown()}: the directory "
                               f"{self._shown(folder)} does not exist")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError as err:
            raise SessionError(f"cannot create the state directory {self._shown(folder)}: "
                               f"{err.strerror or err}") from None

    def _write_error(self, err: OSError) -> SessionError:
        folder = os.path.dirname(os.path.abspath(self.path))
        why = err.strerror or str(err)
        if not os.access(folder, os.W_OK) or err.errno in (13, 30):  # EACCES, EROFS
            return SessionError(f"cannot write the session file {self._shown()}: the directory "
                                f"{self._shown(folder)} is read-only ({why})")
        return SessionError(f"cannot write the session file {self._shown()}: {why}")

    def _acquire(self) -> None:
        self._check_directory()
        unfit = self._unfit_error()
        if unfit is not None:
            raise unfit
        fcntl = _fcntl()
        if fcntl is None:
            self._acquire_filelock()
            return
        # O_NOFOLLOW: a symlink put there since the check is refused, not followed (nor its
        # target created); O_NONBLOCK, O_NOCTTY: a FIFO or terminal swapped in cannot block
        # us or become our terminal, and the fstat below refuses it
        flags = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK
                 | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            fd = os.open(self.lock_path, flags, 0o600)
        except OSError as err:
            unfit = self._unfit_error()
            if unfit is not None:
                raise unfit from None
            raise self._write_error(err) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise self._unfit_error() or SessionError(
                f"cannot lock the session file {self._shown()}: its lock file "
                f"{self._shown(self.lock_path)} is not a regular file")
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
                raise SessionError(f"cannot lock the session file {self._shown(self.lock_path)}: "
                                   f"{err.strerror or err}") from None
        self._fd = fd

    def _acquire_filelock(self) -> None:
        lock = filelock.FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise self._busy() from None
        except OSError as err:
            raise self._write_error(err) from None
        self._filelock = lock

    def _busy(self) -> SessionError:
        return SessionError(f"the session {self._shown()} is busy: another circuit command has "
                            f"held its lock ({self._shown(self.lock_path)}) for over "
                            f"{LOCK_TIMEOUT:g} s")

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
        """Save unless the file already holds exactly this (or `always`); True if it wrote.

        The common case, a command run again on the current circuit, changes nothing: it
        is seen without the lock (a rename makes every read whole, old or new), and then
        neither locks nor writes.
        """
        if not always and self._holds(saved):
            return False
        with self.locked():
            present = self.load()  # raises if the file there is not a session we may replace
            if present == saved and not always:
                return False
            # ensure_ascii: a file name that is not UTF-8 (held as lone surrogates, as
            # os.fsdecode gives it) is stored as \udcff escapes and read back unchanged
            self._write(json.dumps(saved.to_json(), indent=1, ensure_ascii=True,
                                   allow_nan=False).encode("ascii") + b"\n")
            return True

    def _holds(self, saved: Saved) -> bool:
        """Whether the file holds exactly `saved` (read without the lock). Its bytes are
        compared with what update() would write first, which needs no json import; a file
        written otherwise (an older version, say) is parsed and compared."""
        expected = _document(saved)
        if expected is not None:
            try:
                if read_bytes(self.path, "session file", SIZE_LIMIT) == expected:
                    return True
            except CircuitError:
                pass  # load() says what is wrong with it, or that there is none
        return self.load() == saved

    def reset(self) -> str:
        """Forget the current circuit; a file that is not a session is moved aside, not deleted.

        Returns what happened, for the user.
        """
        unfit = self._unfit_error(resetting=True)  # before the lock: none made beside a device
        if unfit is not None:
            raise unfit
        with self.locked():
            unfit = self._unfit_error(resetting=True)  # again, now no other command runs
            if unfit is not None:
                raise unfit
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

    def _aside_name(self) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate = f"{self.path}.broken-{stamp}"
        n = 1
        while os.path.lexists(candidate):
            n += 1
            candidate = f"{self.path}.broken-{stamp}-{n}"
        return candidate

    def _temp_prefix(self) -> str:
        return f".{os.path.basename(self.path)}."

    def _write(self, data: bytes) -> None:
        """Replace the session through io.files' one atomic writer (owner-only, 0600)."""
        self._remove_leftovers()
        try:
            replace_file(self._target(), data, 0o600)
        except OSError as err:
            raise self._write_error(err) from None

    def _target(self) -> str:
        """The file a write replaces: a symlinked session stays a link, its target changes."""
        return os.path.realpath(self.path) if os.path.islink(self.path) else self.path

    def _remove_leftovers(self) -> None:
        """Temporary files of writers killed before their rename (we hold the lock, so no
        live writer owns one)."""
        prefix = self._temp_prefix()
        try:
            with os.scandir(os.path.dirname(os.path.abspath(self._target()))) as entries:
                stale = [e.path for e in entries
                         if e.name.startswith(prefix) and e.name.endswith(".tmp")]
        except OSError:
            return
        for name in stale:
            _unlink_quietly(name)

    def _sync_directory(self) -> None:
        """Make a removal or a move aside durable."""
        sync_folder(os.path.dirname(os.path.abspath(self.path)))


def _document(saved: Saved) -> bytes | None:
    """The bytes update() writes for `saved`, `json.dumps(saved.to_json(), indent=1,
    ensure_ascii=True)` and a newline, made without importing json (strings are quoted by
    the very function json uses, from its C accelerator): comparing bytes tells that the
    session is unchanged, the common case, at no start-up cost. None where this shortcut
    does not apply (no accelerator, keys of a newer writer, a value that is not a float):
    the file is then parsed and compared instead."""
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:
        return None
    if saved.extra:
        return None
    lines = ["{", f' "format": {quote(FORMAT)},', f' "version": {VERSION},']
    if saved.by_reference:
        ref = saved.file
        if type(ref.size) is not int or type(ref.mtime_ns) is not int:
            return None
        lines += [' "file": {', f'  "path": {quote(ref.path)},', f'  "size": {ref.size},',
                  f'  "mtime_ns": {ref.mtime_ns},', f'  "blake2b": {quote(ref.digest)}', " },"]
    else:
        lines.append(f' "circuit": {quote(saved.text)},')
    output = "null" if saved.output is None else quote(saved.output)
    lines += [f' "source": {quote(saved.source)},', f' "output": {output},']
    items = []
    for name, value in saved.values.items():
        if type(value) is not float:
            return None
        number = repr(value)
        items.append(f"  {quote(name)}: {number if math.isfinite(value) else quote(number)}")
    lines.append(' "inputs": {\n' + ",\n".join(items) + "\n }" if items else ' "inputs": {}')
    lines.append("}\n")
    return "\n".join(lines).encode("ascii")


def _unlink_quietly(path: os.PathLike | str) -> None:
    with suppress(OSError):
        os.unlink(path)


def values_from(saved: Saved, inputs: Mapping[str, int]) -> dict[str, float]:
    """The saved values of the circuit's inputs (names it no longer has are dropped)."""
    return {name: v for name, v in saved.values.items() if name in inputs}
