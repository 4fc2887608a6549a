"""Data files for training: CSV rows in, parameter files in and out.

A CSV file has a header line and numeric columns; errors name the file, the row,
its line and the column. A parameter file is the JSON `circuit train -o` writes
and `circuit predict --params` reads. Writes go through io.files.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.syntax import CircuitError

__all__ = ["Data", "DataError", "load_params", "params_text", "read_csv", "resolve_data_path",
           "save_params"]


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


def resolve_data_path(name: str) -> str:
    """A path as given, or a data file shipped with the samples (moons.csv from anywhere)."""
    if os.path.exists(name) or os.sep in name:
        return name
    from ..io.bundled import sample_dir

    shipped = sample_dir() / name
    return str(shipped) if shipped.is_file() else name


def read_csv(path: str, shown: str | None = None, numeric: Sequence[str] | None = None,
             keep_cells: bool = False) -> Data:
    """Read a CSV file with a header line; the `numeric` columns (default all) must be numbers.

    Errors name the file, the row (and its line in the file) and the column.
    """
    import numpy as np

    shown = shown or path
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        raise DataError(f"{shown}: no such data file") from None
    except IsADirectoryError:
        raise DataError(f"{shown}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{shown}: not a text file (byte {err.start} is not UTF-8)") from None
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    columns: dict[str, list[float]] = {}
    lines: list[int] = []
    kept: list[list[str]] = []
    try:
        for line_no, cells in enumerate(reader, start=1):
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are allowed anywhere
            if header is None:
                header = [c.strip() for c in cells]
                header_line = line_no
                _check_header(header, shown, line_no)
                wanted = set(header if numeric is None else numeric) & set(header)
                columns = {name: [] for name in header if name in wanted}
                continue
            if len(cells) != len(header):
                raise DataError(f"{shown}, row {len(lines) + 1} (line {line_no}): {len(cells)} "
                                f"cells, but the header has {len(header)} columns")
            for k, name in enumerate(header):
                if name in columns:
                    columns[name].append(_number(cells[k], shown, len(lines) + 1, line_no, name))
            lines.append(line_no)
            if keep_cells:
                kept.append(cells)
    except csv.Error as err:
        raise DataError(f"{shown}, line {reader.line_num}: not valid CSV ({err})") from None
    if header is None:
        raise DataError(f"{shown}: the file is empty; it needs a header line naming the columns "
                        "(such as x,y,label) and one row per data point")
    if not lines:
        raise DataError(f"{shown}: no data rows after the header line")
    return Data(path=shown, columns=header,
                values={name: np.array(col, dtype=float) for name, col in columns.items()},
                lines=lines, cells=kept, header_line=header_line)


def _check_header(header: list[str], shown: str, line_no: int) -> None:
    seen: set[str] = set()
    for k, name in enumerate(header, start=1):
        if not name:
            raise DataError(f"{shown}, line {line_no} (the header), column {k}: the column "
                            "has no name")
        if name in seen:
            raise DataError(f"{shown}, line {line_no} (the header), column {k}: {name} "
                            "appears twice")
        seen.add(name)


def _number(cell: str, shown: str, row: int, line_no: int, column: str) -> float:
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        what = "an empty cell" if not text else f"{text!r}"
        raise DataError(f"{shown}, row {row} (line {line_no}), column {column}: {what} is not a "
                        "number") from None
    if not math.isfinite(value):
        raise DataError(f"{shown}, row {row} (line {line_no}), column {column}: {text} is not a "
                        "finite number")
    return value


def params_text(doc: Mapping[str, Any]) -> str:
    """A parameter document as the JSON text of a parameter file."""
    import json

    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def save_params(doc: Mapping[str, Any], path: str) -> None:
    """Write a parameter file (through io.files: atomic for a regular file)."""
    from .files import write_file

    write_file(path, params_text(doc).encode("utf-8"))


def load_params(path: str) -> dict[str, Any]:
    """A --save file (or `circuit train --json` output): {'params': {name: number}, ...}."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise DataError(f"{path}: no such parameter file (circuit train --save writes one)"
                        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        line = f", line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
        raise DataError(f"{path}{line}: not a JSON parameter file ({err})") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a parameter file") from None
    params = doc.get("params") if isinstance(doc, dict) else None
    if not isinstance(params, dict):
        raise DataError(f"{path}: no \"params\" object (circuit train --save writes one)")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value):
            raise DataError(f"{path}: params.{name} is {json.dumps(value)}, not a finite number")
    return doc
