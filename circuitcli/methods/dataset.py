"""The rows a model learns from: each column as a numpy array, and where each row was read.

io.data reads a CSV file into a `Data`; methods.model splits it into features and labels.
It lives here, below io, so that the methods never import the layer that reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.syntax import CircuitError

__all__ = ["Data", "DataError"]


class DataError(CircuitError):
    """A problem in a data or parameter file: one line naming the file, row and column."""


@dataclass
class Data:
    """A CSV file's numeric columns; `lines[r]` is the file line of row r (the header is 1)."""

    path: str
    columns: list[str]
    values: dict[str, Any]  # column name -> numpy array of floats
    lines: list[int]
    cells: list[list[str]] = field(default_factory=list)  # the rows as read (kept on request)
    header_line: int = 1

    @property
    def rows(self) -> int:
        return len(self.lines)
