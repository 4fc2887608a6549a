"""Where a circuit's text comes from: an expression, a file, standard input or a shipped sample.

The command layer's loader asks here; so does the REPL's command line. A large circuit file
comes with the reference the session keeps instead of its text (io.session.BY_REFERENCE).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError

if TYPE_CHECKING:
    from .session import FileRef

# an expression needs none of these; a file, a sample or a large file does
bundled = lazy("circuitcli.io.bundled")
difflib = lazy("difflib")  # "did you mean" for a circuit file name
files = lazy("circuitcli.io.files")
sessions = lazy("circuitcli.io.session")

__all__ = ["close_circuit_file", "read_source", "split_args", "title"]

_ASSIGNMENT = re.compile(r"([^\W\d]\w*)=(.*)", re.DOTALL)


def split_args(args: tuple[str, ...]) -> tuple[str | None, dict[str, float]]:
    """The circuit argument and the NAME=VALUE assignments, in any order.

    A value must be a finite number: `x=inf`, `x=nan` and `x=1e400` all get the same error.
    """
    circuit_arg: str | None = None
    values: dict[str, float] = {}
    for arg in args:
        m = _ASSIGNMENT.fullmatch(arg)
        number = parse_number(m.group(2)) if m else None
        if m and number is not None:
            if m.group(1) in values:
                raise CircuitError(f"{m.group(1)} is given twice ({m.group(1)}="
                                   f"{values[m.group(1)]:g} and {arg}): give it once")
            values[m.group(1)] = number
        elif m and (_looks_numeric(m.group(2))
                    or (circuit_arg is not None and "=" not in m.group(2))):
            name = m.group(1)
            raise CircuitError(f"{arg}: the value of {name} must be a finite number (such as "
                               f"{name}=-2 or {name}=1.5e-3)", arg, len(name) + 1, len(arg))
        elif circuit_arg is None:
            circuit_arg = arg
        else:
            raise CircuitError(f"unexpected argument {arg!r}: the circuit is already given "
                               f"({circuit_arg!r}); give input values as NAME=VALUE")
    return circuit_arg, values


def _looks_numeric(text: str) -> bool:
    """What Python's float() takes (inf, nan, 1e400, 1_000) but a circuit value may not be."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_source(arg: str, given: Mapping[str, float] | None = None, reference: bool = False
                 ) -> tuple[str, str, FileRef | None]:
    """(text, source name, file reference) from an expression, a file path, a sample's name
    or '-' (stdin).

    A bare name that is not a file is an expression, except that a name given no value
    which is also a circuit file's or a sample's name without `.circuit` is taken for a
    mistyped file name ("did you mean neuron.circuit?"): the expression `neuron` alone
    would have no value anyway. Give it a value (`neuron=1`) to mean the expression.
    With `reference` (the circuit may be remembered), a circuit file large enough to be
    kept by reference in the session comes with that reference (path, size, mtime, hash).
    """
    if arg == "-":
        return files.read_stream(sys.stdin), "<stdin>", None
    if os.path.isdir(arg) and (not arg.isidentifier() or arg not in (given or {})):
        raise CircuitError(f"{printable(arg)}: is a directory, not a circuit file")
    if os.path.exists(arg) and not os.path.isdir(arg):
        data, st = files.read_file(arg, "circuit file")
        text = files.decode_text(data, arg)
        large = reference and len(data) > sessions.BY_REFERENCE
        return text, arg, sessions.FileRef.of(arg, data, st.st_mtime_ns) if large else None
    if arg.endswith(".circuit") and os.sep not in arg:
        shipped = bundled.shipped(arg)
        if shipped is not None:
            return files.read_text(str(shipped), "circuit file"), arg, None
    if arg.endswith((".circuit", ".txt")):
        close = close_circuit_file(arg)
        hint = f"; did you mean {printable(close)}?" if close else ""
        raise CircuitError(f"no such file: {printable(arg)}{hint} (circuit samples lists the "
                           "shipped ones)")
    if arg.isidentifier() and arg not in (given or {}):
        file = _circuit_file_named(arg) or (len(arg) > 3 and close_circuit_file(f"{arg}.circuit"))
        if file:
            raise CircuitError(f"{arg}: did you mean {file}? (a name alone is read as the "
                               f"expression {arg} only with a value, {arg}=...)")
    return arg, "", None


def close_circuit_file(arg: str, suffix: str = ".circuit") -> str | None:
    """A circuit file (or a file ending in `suffix`: .csv, .backward) in the same folder,
    or a sample, whose name is close to `arg`'s."""
    folder, name = os.path.split(arg)
    try:
        here = [e for e in os.listdir(folder or ".") if e.endswith(suffix)]
    except OSError:
        here = []
    shipped = [] if folder else [p.name for p in bundled.sample_dir().glob(f"*{suffix}")]
    stems = {os.path.splitext(n)[0]: n for n in [*shipped, *here]}  # the suffix would match
    close = difflib.get_close_matches(os.path.splitext(name)[0], list(stems), n=1, cutoff=0.6)
    return os.path.join(folder, stems[close[0]]) if close else None


def _circuit_file_named(stem: str) -> str | None:
    """`stem.circuit` if it is a file here or a bundled sample, else None."""
    name = f"{stem}.circuit"
    if os.path.isfile(name) or bundled.shipped(name) is not None:
        return name
    return None


def title(source: str, text: str, width: int = 60) -> str:
    """A circuit's title: its file name, or its text on one line; safe to print."""
    if source:
        return printable(source)
    parts = (line.split("#")[0].strip() for line in text.splitlines())
    flat = "; ".join(part for part in parts if part)
    return printable(flat if len(flat) <= width else flat[: width - 1] + "…")
