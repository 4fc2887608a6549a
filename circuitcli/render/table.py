"""Result -> a rich table: one row per node, its value, and how hard the output pulls on it."""

from __future__ import annotations

import math

from rich.bar import Bar
from rich.console import Group, RenderableType
from rich.text import Text

from ..core.evaluate import Result
from ..core.lazy import lazy
from .fit import Column, Fitted

heapq = lazy("heapq")  # only for a table too long to show whole

__all__ = ["fmt", "grad_notes", "grad_style", "grad_table", "pick_rows", "pull_bar"]

BAR_WIDTH = 10


def fmt(value: float | None, digits: int | None = 6) -> str:
    """A number rounded for reading to at most `digits` significant digits; None (the
    option's `full`) is the shortest text that reads back as the same float, the notebook's
    -5.950100000000001. The JSON output keeps every digit."""
    if value is None:
        return "—"
    if value != value:
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if digits is None:
        text = repr(float(value))
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def grad_style(g: float | None) -> str:
    """Positive pulls green, negative red, none dim: the sign tells which way to nudge."""
    if g is None or g == 0 or g != g:
        return "dim"
    return "green" if g > 0 else "red"


def pick_rows(result: Result, max_rows: int | None) -> tuple[list[int], int]:
    """Rows to show in evaluation order (at most `max_rows`), and how many were left out.

    A long table keeps the output, then the inputs, then the nodes the output pulls on
    hardest; when the inputs alone are too many, only those pulled on hardest are kept.
    """
    c = result.circuit
    rows = [i for i, a in enumerate(c.args) if a or c.is_input(i) or i == c.output]
    if max_rows is None or len(rows) <= max_rows:
        return rows, 0
    grads = result.grads or [0.0] * len(c)

    def strongest(candidates: list[int], room: int) -> list[int]:
        return heapq.nlargest(max(0, room), candidates, key=lambda i: _magnitude(grads[i]))

    keep = {c.output}
    inputs = [i for i in rows if c.is_input(i) and i != c.output]
    keep.update(strongest(inputs, max_rows - len(keep)))
    rest = [i for i in rows if i not in keep and not c.is_input(i)]
    keep.update(strongest(rest, max_rows - len(keep)))
    shown = sorted(keep)
    return shown, len(rows) - len(shown)


def _magnitude(g: float) -> float:
    return abs(g) if g == g else math.inf


def grad_table(result: Result, title: str, digits: int = 6, max_rows: int | None = 40
               ) -> RenderableType:
    """The header line, the per-node table and how many rows were left out (grad_notes has
    the kinks and warnings, which go to stderr)."""
    c = result.circuit
    labels = c.labels()
    grads = result.grads
    rows, left_out = pick_rows(result, max_rows)
    header = Text()
    header.append(title, style="bold")
    header.append("   ")
    header.append(f"{c.output_name} = ", style="bold")
    header.append(fmt(result.output, digits), style="bold cyan")
    if grads is not None and result.pull != 1.0:
        header.append(f"   (pull from above: {fmt(result.pull, digits)})", style="dim")

    flagged = bool(result.kinks or result.bad)
    finite = [abs(grads[i]) for i in rows if c.live[i] and grads[i] == grads[i]] \
        if grads is not None else []
    biggest = max(finite, default=0.0)
    columns = [Column("node", "left"), Column("gate", "left", "dim", drop=3),
               Column("computes", "left", drop=2, wrap=True), Column("value")]
    if grads is not None:
        columns += [Column("gradient"), Column("pull", "left", drop=1, width=BAR_WIDTH,
                                               record=False)]
    if flagged:
        columns.append(Column("", "left"))
    cells: list[list[RenderableType]] = []
    for i in rows:
        is_input = c.is_input(i)
        name = Text(("▸ " if is_input else "  ") + labels[i],
                    style="bold" if i == c.output else ("cyan" if is_input else ""))
        gate = "input" if is_input else c.gates[i].name
        # Text everywhere: plain strings would go through rich's markup and emoji parsing
        row: list[RenderableType] = [name, Text(gate), Text("" if is_input else c.formula(i)),
                                     Text(fmt(result.values[i], digits))]
        if grads is not None:
            g = grads[i] if c.live[i] or i == c.output else None
            row.append(Text(fmt(g, digits), style=grad_style(g)))
            row.append(pull_bar(g, biggest))
        if flagged:
            flags = ["kink"] * (i in result.kinks) + ["⚠ not finite"] * (i in result.bad)
            row.append(Text(" ".join(flags), style="yellow"))
        cells.append(row)
    table = Fitted(columns, cells)

    if not left_out:
        return Group(header, table)
    return Group(header, table, Text(f"{left_out} rows left out (the output and the largest "
                                     "gradients shown); --all shows every row", style="dim"))


def pull_bar(g: float | None, biggest: float) -> RenderableType:
    """How hard the output pulls on a node, against the strongest pull in the circuit.

    An infinite gradient pulls hardest of all: a full bar, and the finite ones beside it
    get none (measured against infinity they are nothing). No gradient, or nan: no bar.
    """
    if g is None or g != g or biggest != biggest or biggest == 0:
        return Text("")
    # scaled to [0, 1] first: rich multiplies by the width, and 1e308 * 80 is inf
    share = float(math.isinf(g)) if math.isinf(biggest) else min(1.0, abs(g) / biggest)
    return Bar(1.0, 0, share, width=BAR_WIDTH, color="green" if g > 0 else "red" if g < 0
               else "default")


MAX_KINK_NOTES = 8


def grad_notes(result: Result) -> list[Text]:
    """Kinks and warnings: notes for stderr, beside the table on stdout. Kinks are counted
    past the first few (warnings already are), as a big circuit may have thousands."""
    c = result.circuit
    shown = list(result.kinks)[:MAX_KINK_NOTES]
    labels = c.labels_around(shown)
    notes = [Text(f"kink at {labels[i]} = {c.formula(i, labels)}: {result.kinks[i]}",
                  style="yellow") for i in shown]
    if len(result.kinks) > len(shown):
        notes.append(Text(f"... and {len(result.kinks) - len(shown):,} more kinks (--json "
                          "lists them all)", style="yellow"))
    notes += [Text(f"warning: {warning}", style="yellow") for warning in result.warnings]
    return notes

