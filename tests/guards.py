"""What the hostile-file tests share: a guard against a run that blocks, and device nodes."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["ROOT_ONLY", "Blocked", "deadline", "device"]

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0, reason="os.mknod of a character device needs root (CI runs as root)")


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
