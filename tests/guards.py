"""What the hostile-file tests share: a guard against a run that blocks, device nodes, Graphviz
(a failure, not a skip, under CI=1), and a run without root's privileges."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

__all__ = ["NEEDS_DOT", "NOBODY", "ROOT_ONLY", "Blocked", "deadline", "device", "unprivileged"]

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0, reason="os.mknod of a character device needs root (CI runs as root)")
# CI installs Graphviz: there a missing `dot` is a failure, not a skip
NEEDS_DOT = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"),
                               reason="Graphviz's dot is not installed")
NOBODY = 65534  # the uid and gid of `nobody` on Linux


def unprivileged(work: Callable[[], Any], timeout: int = 60) -> Any:
    """`work()`'s result, run in a forked child that has dropped root's privileges to
    nobody's (without root: run here, as we are). Root writes into a read-only directory
    anyway, and CI runs as root: without this, a test of a permission error never runs
    where it matters. The result comes back pickled through a pipe; an exception in the
    child is raised here."""
    if os.geteuid() != 0:
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                outcome: tuple[str, Any] = ("ok", work())
            except BaseException as err:  # sent to the parent, raised there
                outcome = ("error", f"{type(err).__name__}: {err}")
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(outcome, pipe)
        except BaseException:  # the child must end here, whatever happened
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with deadline(timeout), os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and data, "the unprivileged child failed"
    kind, value = pickle.loads(data)  # our own child's bytes
    if kind == "error":
        raise AssertionError(f"in the unprivileged child: {value}")
    return value


class Blocked(BaseException):
    """A run that blocked. Not an OSError (TimeoutError is one, and the cli turns those into
    a one-line error, exit 2, which would pass for a refusal): nothing catches it."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise Blocked in the block after `seconds` (SIGALRM interrupts a blocking open)."""

    def blocked(signum, frame):
        raise Blocked(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def device(path, minor: int) -> str:
    """A character device with Linux's memory-device major 1: 3 null, 5 zero, 7 full."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return str(path)
