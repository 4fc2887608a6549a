"""Data files for training: CSV rows in, parameter files in and out.

A CSV file has a header line and numeric columns; errors name the file, the row,
its line and the column. A parameter file is the JSON `circuit train -o` writes
and `circuit predict --params` reads. Writes go through io.files.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from ..methods.dataset import Data, DataError
from ..methods.model import LOSSES
from .bundled import shipped
from .files import no_constant, read_text, unique_keys

np = lazy("numpy")
sources = lazy("circuitcli.io.sources")  # "did you mean", for a missing file only

__all__ = ["PARAMS_FORMAT", "PARAMS_VERSION", "Data", "DataError", "load_params", "params_text",
           "read_csv", "resolve_data_path"]


def resolve_data_path(name: str) -> str:
    """A path as given, or a data file shipped with the samples (moons.csv from anywhere)."""
    if os.path.exists(name) or os.sep in name:
        return name
    found = shipped(name)
    if found is not None:
        return str(found)
    close = sources.close_circuit_file(name, ".csv")  # mistyped: did you mean a sample's?
    if close:
        raise CircuitError(f"{printable(name)}: no such CSV file; did you mean "
                           f"{printable(close)}?")
    return name


def read_csv(path: str, shown: str | None = None, numeric: Sequence[str] | None = None,
             keep_cells: bool = False) -> Data:
    """Read a CSV file with a header line; the `numeric` columns (default all) must be numbers.

    Errors name the file, the row (and its line in the file) and the column.
    """
    shown = shown or path
    text = _read_text(path, shown, "CSV file")
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark, as spreadsheets write
    # the csv module over the text itself: a quoted cell keeps its newline, and only
    # \n, \r and \r\n end a line (not a form feed or U+2028, as str.splitlines() has it)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    columns: dict[str, list[float]] = {}
    lines: list[int] = []
    kept: list[list[str]] = []
    try:
        next_start = 1
        for cells in reader:
            # the line this record starts on (a quoted newline makes a record span lines)
            line_no, next_start = next_start, reader.line_num + 1
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
    """A cell as NAME=VALUE takes a value: a finite number in ASCII digits (spaces around ok)."""
    text = cell.strip(" \t")
    value = parse_number(text)
    if value is None:
        what = "an empty cell" if not text else f"{text!r}"
        why = "a finite number" if _is_float(text) else "a number"
        raise DataError(f"{shown}, row {row} (line {line_no}), column {column}: {what} is not "
                        f"{why} (such as 2, -0.5 or 1e-3)")
    return value


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path: str, shown: str, what: str) -> str:
    """A data or parameter file's text: a regular file only, within io.files' size limit."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{shown}: no such {what}") from None
    except OSError as err:
        raise DataError(f"{shown}: cannot read it ({err.strerror})") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{shown}: is a directory, not a {what}")
    if not stat.S_ISREG(mode):
        raise DataError(f"{shown}: not a regular file (a FIFO or a device); give a {what}")
    try:
        return read_text(path, what)
    except CircuitError as err:
        raise DataError(err.message.replace(path, shown, 1)) from None
    except OSError as err:
        raise DataError(f"{shown}: cannot read it ({err.strerror})") from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# what each optional field of a parameter file may hold, as train -o writes it
_FIELDS: dict[str, tuple[str, Any]] = {
    "circuit": ("a string", lambda v: isinstance(v, str)),
    "features": ("a list of names", lambda v: isinstance(v, list)
                 and all(isinstance(x, str) for x in v)),
    "label": ("a column name", lambda v: isinstance(v, str) and v != ""),
    "loss_function": (" or ".join(LOSSES), lambda v: v in LOSSES),
    "classify": ("true or false", lambda v: isinstance(v, bool)),
    "loss": ("a number or null", lambda v: v is None or _is_number(v)),
    "accuracy": ("a number from 0 to 1 or null",
                 lambda v: v is None or (_is_number(v) and 0 <= v <= 1)),
    "seed": ("a whole number or null", lambda v: v is None or type(v) is int),
}


def _check_fields(doc: Mapping[str, Any], path: str) -> None:
    """A field predict reads (or train wrote) holding what it never holds is refused, not
    guessed at: `"classify": "no"` would otherwise count as true."""
    for name, (what, ok) in _FIELDS.items():
        if name in doc and not ok(doc[name]):
            shown = json.dumps(doc[name])
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise DataError(f"{path}: \"{name}\" is {shown}; it must be {what}")


def params_text(doc: Mapping[str, Any]) -> str:
    """A parameter document as the JSON text of a parameter file (the command writes it
    with commands.output.write_output, through io.files)."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


PARAMS_FORMAT = "circuitcli params"
PARAMS_VERSION = 1


def load_params(path: str) -> dict[str, Any]:
    """A parameter file (`circuit train -o`, or its --json): {'params': {name: number}, ...}.

    Checked for its format and version fields; JSON that Python's decoder cannot take
    (a 5,001-digit number, 100,000 nested brackets) is one line of error.
    """
    text = _read_text(path, path, "parameter file")
    try:  # NaN, Infinity and a key given twice are refused, as by files.loads_json
        doc = json.loads(text, parse_constant=no_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}, line {err.lineno}: not a JSON parameter file ({err.msg})"
                        ) from None
    except (ValueError, RecursionError) as err:
        why = "nested too deeply" if isinstance(err, RecursionError) else str(err).split(";")[0]
        raise DataError(f"{path}: not a JSON parameter file ({why})") from None
    if not isinstance(doc, dict):
        raise DataError(f"{path}: not a parameter file (circuit train -o writes one)")
    form, version = doc.get("format"), doc.get("version")
    if form != PARAMS_FORMAT:
        shown = json.dumps(form)[:40] if form is not None else "missing"
        raise DataError(f"{path}: not a parameter file: its \"format\" is {shown}, not "
                        f"\"{PARAMS_FORMAT}\" (circuit train -o writes one)")
    if type(version) is not int or version != PARAMS_VERSION:  # 1.0 and true are not 1
        shown = json.dumps(version)[:40] if version is not None else "missing"
        raise DataError(f"{path}: parameter file version {shown}; this circuitcli reads "
                        f"version {PARAMS_VERSION}")
    _check_fields(doc, path)
    params = doc.get("params")
    if not isinstance(params, dict):
        raise DataError(f"{path}: no \"params\" object (circuit train -o writes one)")
    for name, value in params.items():
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = None
        if number is None or not math.isfinite(number):
            shown = json.dumps(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise DataError(f"{path}: params.{name} is {shown}, not a finite number")
        params[name] = number
    return doc
