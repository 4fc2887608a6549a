"""The quiz's progress: levels passed and the streak, kept in the state directory.

One small JSON file ($XDG_STATE_HOME/circuitcli/quiz.json), written through the one atomic
writer (io/files.py), so a crash or two quizzes at once never leave half a file. A file
that is damaged or not ours is not trusted: the quiz starts afresh and says so, and the
file is replaced at the next answer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.syntax import CircuitError
from .files import loads_json, read_bytes, write_atomic
from .session import state_home

__all__ = ["PASS_AFTER", "Progress", "progress_path"]

# right answers in a row that pass a level
PASS_AFTER = 3


def progress_path() -> Path:
    return state_home() / "circuitcli" / "quiz.json"


class Progress:
    """Levels passed, the current streak (at the current level), the best streak, totals."""

    __slots__ = ("answered", "best", "note", "passed", "path", "right", "streak")

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or progress_path()
        self.passed: list[int] = []
        self.streak = 0
        self.best = 0
        self.answered = 0
        self.right = 0
        self.note: str | None = None

    @property
    def level(self) -> int:
        """One past the highest level passed."""
        return max(self.passed, default=0) + 1

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        p = cls(path)
        if not p.path.exists():
            return p
        try:
            doc = loads_json(read_bytes(str(p.path), "quiz progress file", 1 << 20))
            passed = doc["passed"]
            numbers = [doc[k] for k in ("streak", "best", "answered", "right")]
            if not (isinstance(passed, list) and all(
                    isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in passed)
                    and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0
                            for x in numbers)):
                raise ValueError("unexpected contents")
        except (OSError, ValueError, KeyError, TypeError, CircuitError) as err:  # damaged
            p.note = f"note: {p.path}: not a quiz progress file we can read ({err}); " \
                     "starting afresh"
            return p
        p.passed = sorted(set(passed))
        p.streak, p.best, p.answered, p.right = numbers
        return p

    def record(self, level: int, right: bool) -> bool:
        """Count one answer at `level`; True when it passes the level."""
        self.answered += 1
        if not right:
            self.streak = 0
            return False
        self.right += 1
        self.streak += 1
        self.best = max(self.best, self.streak)
        if self.streak >= PASS_AFTER and level not in self.passed:
            self.passed.append(level)
            self.passed.sort()
            self.streak = 0
            return True
        return False

    def save(self) -> None:
        """Written atomically (io/files.py's one writer); the folder made if need be."""
        os.makedirs(self.path.parent, mode=0o700, exist_ok=True)
        doc = {"passed": self.passed, "streak": self.streak, "best": self.best,
               "answered": self.answered, "right": self.right}
        write_atomic(str(self.path), json.dumps(doc, indent=2) + "\n")

    def reset(self) -> bool:
        """Forget the progress; False if there was none."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        return True
