"""`check --sweep-h`: each method's error against h, as a log-log plot and as JSON.

The plot is a character canvas with honest axes: both are log10, ticked at whole decades,
the y range is the data's own (rounded out to decades); an error of exactly 0 (the
estimate hit the reference) cannot sit on a log axis and is drawn on the row below it,
marked "0"; errors above the top are drawn on the top row as "^". Each method has its own
panel (curves that share a rounding arm would hide each other), all on the same axes, with
its default step as a dotted line. A narrow screen gets one column a decade instead of two,
and the legend follows the tables' width policy (render/fit.py): no number is cut.
"""

from __future__ import annotations

import math
from typing import Any

from rich.columns import Columns
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from ..methods.steps import HIGH, LOW, PER_DECADE, Curve, InputSweep, StepSweep
from .fit import Column, Fitted
from .json import finite
from .table import fmt

__all__ = ["MARKS", "sweep_document", "sweep_plot"]

# one letter and colour per method
MARKS = {"central": ("c", "cyan"), "forward": ("f", "magenta"), "complex": ("i", "green"),
         "richardson": ("r", "yellow")}
WIDTH = (HIGH - LOW) * 2 + 1  # two columns a decade; one on a narrow screen
NARROW = HIGH - LOW + 1
# one row a decade up to this many decades, then one row per two
HEIGHT = 24
_LABEL = 8  # " 1e-12 ┤", "default "


def _at(h: float, width: int = WIDTH) -> int:
    return round((math.log10(h) - LOW) * (width - 1) / (HIGH - LOW))


def _panel_width(width: int) -> int:
    """The characters a panel takes: labels, the grid, and the "  h" after the axis."""
    return _LABEL + width + 3


def _tick(d: int) -> str:
    return "1" if d == 0 else f"1e{d}"


def _range(row: InputSweep) -> tuple[int, int, int]:
    """(bottom, top, decades a row): the data's own range, out to whole decades, shared by
    every method's panel so that their heights compare."""
    errs = [e for c in row.curves for e in c.errors if 0 < e < math.inf]
    top = math.ceil(math.log10(max(errs))) if errs else 0
    bottom = math.floor(math.log10(min(errs))) if errs else -16
    top = max(top, bottom + 1)
    per_row = 1 if top - bottom < HEIGHT else 2
    if per_row == 2 and (top - bottom) % 2:
        bottom -= 1
    return bottom, top, per_row


def _panel(curve: Curve, steps: list[float], span: tuple[int, int, int],
           user_h: float | None, width: int = WIDTH) -> Text:
    """One method's errors on log-log axes, its default step as a dotted line."""
    bottom, top, per_row = span
    rows = (top - bottom) // per_row + 1
    mark, colour = MARKS[curve.method]
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(rows + 1)]

    def y_of(e: float) -> int:
        return (rows - 1) - round((math.log10(e) - bottom) / per_row)

    default = _at(curve.default_h, width) if 0 < curve.default_h < math.inf else None
    for r in range(rows + 1):
        if default is not None and 0 <= default < width:
            grid[r][default] = ("┊", colour)
        if user_h is not None:
            grid[r][min(max(_at(user_h, width), 0), width - 1)] = ("┆", "bold")
    for h, e in zip(steps, curve.errors):
        x = _at(h, width)
        if e == 0:
            grid[rows][x] = ("0", colour)  # equal to the reference: the row under the axis
        elif e == math.inf or e != e:
            continue  # no estimate at this step (it left the domain, or overflowed)
        elif math.log10(e) > top:
            grid[0][x] = ("^", colour)
        else:
            grid[y_of(e)][x] = (mark, f"bold {colour}")
    text = Text()
    text.append(f"{'':>{_LABEL}}{mark} {curve.method}, order {curve.order}\n",
                style=f"bold {colour}")
    ticks = {y_of(10.0**d): d for d in range(bottom, top + 1, per_row)}
    for r in range(rows):
        label = _tick(ticks[r]) if r in ticks else ""
        text.append(f"{label:>{_LABEL - 2}} {'┤' if r in ticks else '│'}", style="dim")
        for ch, style in grid[r]:
            text.append(ch, style=style)
        text.append("\n")
    text.append(f"{'0':>{_LABEL - 2}} │", style="dim")
    for ch, style in grid[rows]:
        text.append(ch, style=style)
    text.append("\n")
    axis = ["─"] * width
    for d in range(LOW, HIGH + 1, 2):
        axis[_at(10.0**d, width)] = "┬"
    text.append(" " * (_LABEL - 1) + "└" + "".join(axis) + "\n", style="dim")
    labels = [" "] * (width + 4)
    for d in range(LOW, HIGH + 1, 5 if width == WIDTH else 10):
        t = _tick(d)
        at = max(0, _at(10.0**d, width) - len(t) // 2)
        labels[at:at + len(t)] = list(t)
    text.append(" " * _LABEL + "".join(labels).rstrip() + "  h", style="dim")
    return text


def _arm(curve: Curve) -> str:
    """Which error dominates at the default step, from the curve's own shape."""
    if curve.default_error == 0 or not curve.best_error < math.inf:
        return "—"
    if not (0 < curve.default_h < math.inf and 0 < curve.best_h < math.inf):
        return "—"  # a step that underflowed to 0 (complex step at x = 5e-324) sits nowhere
    if abs(math.log10(curve.default_h / curve.best_h)) <= 1.0:
        return "at the bottom"
    return "rounding arm" if curve.default_h < curve.best_h else "truncation arm"


def _slopes(curve: Curve) -> str:
    left = "—" if curve.left_slope is None else f"{curve.left_slope:+.1f}"
    right = "—" if curve.right_slope is None else f"{curve.right_slope:+.1f}"
    return f"{left} / {right}"


def _legend(row: InputSweep) -> Fitted:
    """Each method's best step, its default step and their errors: numbers that are never
    cut (the words "default sits" wrap, then go, before a number would)."""
    columns = [Column("method", "left"), Column("order"), Column("best h"), Column("error"),
               Column("default h"), Column("error"),
               Column("default sits", "left", drop=1, wrap=True, least=8),
               Column("slopes")]
    rows = []
    for c in row.curves:
        mark, colour = MARKS[c.method]
        rows.append([Text.assemble((mark, colour), " ", c.method), str(c.order),
                     f"{c.best_h:.1e}", _err(c.best_error), f"{c.default_h:.1e}",
                     _err(c.default_error), _arm(c), _slopes(c)])
    return Fitted(columns, rows)


class _Panels:
    """The methods' panels side by side as the width allows; below the width of one
    two-columns-a-decade panel, one column a decade."""

    def __init__(self, row: InputSweep, steps: list[float], user_h: float | None) -> None:
        self.row, self.steps, self.user_h = row, steps, user_h

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = WIDTH if options.max_width >= _panel_width(WIDTH) else NARROW
        span = _range(self.row)
        yield Columns([_panel(c, self.steps, span, self.user_h, width)
                       for c in self.row.curves], padding=(1, 3))


def _err(e: float) -> str:
    return "0" if e == 0 else "inf" if e == math.inf else f"{e:.1e}"


def sweep_plot(sweep: StepSweep, title: str, digits: int = 6) -> RenderableType:
    """One plot and legend per input, then how to read them."""
    parts: list[RenderableType] = []
    if not sweep.inputs:
        return Text("nothing to sweep: the output depends on no input", style="bold")
    for row in sweep.inputs:
        head = Text()
        head.append(f"{title}   d {sweep.circuit.output_name} / d {row.name}", style="bold")
        head.append(" = ")
        head.append(fmt(row.analytic, digits), style="bold cyan")
        what = "relative error" if row.relative else "absolute error (the reference is 0)"
        head.append(f"   {what} against {row.reference_from}", style="dim")
        if row.reference_from == "analytic":
            head.append(" (no independent reference here: the plot shows agreement with "
                        "grad, not truth)", style="yellow")
        parts += [head, _Panels(row, sweep.steps, sweep.h), _legend(row), Text("")]
    parts.append(Text(
        "Right of each V's bottom truncation dominates (the error falls as h^order: slope "
        "+order); left of it rounding does (eps·M/h: slope -1). Complex-step has no "
        "subtraction, so no rounding arm. ┊ is the method's default step"
        + (", ┆ your --h" if sweep.h is not None else "")
        + "; 0 marks an estimate equal to the reference, ^ an error above the top.",
        style="dim"))
    return Group(*parts)


def sweep_document(sweep: StepSweep) -> dict[str, Any]:
    """The `check --sweep-h --json` document: the grid and every error, inf and nan as null."""
    return {
        "steps": sweep.steps,
        "per_decade": PER_DECADE,
        "output": {"name": sweep.circuit.output_name, "value": finite(sweep.result.output)},
        "h": sweep.h,
        "inputs": [
            {
                "name": row.name,
                "analytic": finite(row.analytic),
                "reference": finite(row.reference),
                "reference_from": row.reference_from,
                "error": "relative" if row.relative else "absolute",
                "methods": {
                    c.method: {
                        "order": c.order,
                        "errors": [finite(e) for e in c.errors],
                        "truncation_estimate": [finite(e) for e in c.truncation],
                        "rounding_estimate": [finite(e) for e in c.rounding],
                        "default_h": finite(c.default_h),
                        "default_error": finite(c.default_error),
                        "best_h": c.best_h,
                        "best_error": finite(c.best_error),
                        "default_sits": _arm(c),
                        "left_slope": c.left_slope,
                        "right_slope": c.right_slope,
                    }
                    for c in row.curves
                },
            }
            for row in sweep.inputs
        ],
        "warnings": list(sweep.result.warnings),
    }
