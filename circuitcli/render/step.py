"""Step, search, compare and show results -> rich renderables and JSON documents.

One renderable per idea: a header line, a table, a sparkline, notes. Numbers are
rounded for reading (`digits`); the JSON documents keep every digit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..methods.strategies import Comparison, SearchRun, StepRun
from .fit import Column, Fitted
from .json import finite
from .table import fmt, grad_style

__all__ = ["compare_document", "compare_notes", "compare_view", "progress", "search_document",
           "search_notes", "search_view", "show_document", "show_view", "sparkline",
           "step_document", "step_notes", "step_view"]

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(series: Sequence[float], width: int = 32) -> Text:
    """The series as block characters, lowest ▁ to highest █; long series are sampled."""
    if not series:
        return Text("")
    if len(series) > width:
        picks = [round(i * (len(series) - 1) / (width - 1)) for i in range(width)]
        series = [series[i] for i in picks]
    low, high = min(series), max(series)
    span = high - low
    if not span or span != span:
        return Text(_BLOCKS[3] * len(series), style="cyan")
    top = len(_BLOCKS) - 1
    return Text("".join(_BLOCKS[round((x - low) / span * top)] for x in series), style="cyan")


def _signed(x: float, digits: int) -> str:
    text = fmt(x, digits)
    return text if text.startswith("-") or text in ("0", "nan") else "+" + text


def _change_style(change: float, minimize: bool) -> str:
    """Green when the output moved the way we asked, red when it moved the other way."""
    if change != change or change == 0:
        return "dim"
    return "green" if (change > 0) != minimize else "red"


def _header(title: str, *parts: str) -> Text:
    header = Text()
    header.append(title, style="bold")
    for part in parts:
        header.append("   ")
        header.append(part, style="dim")
    return header


def _columns(*names: str) -> list[Column]:
    return [Column(name, "left" if i == 0 else "right") for i, name in enumerate(names)]


def _output_line(name: str, before: float, after: float, digits: int, minimize: bool) -> Text:
    line = Text()
    line.append(f"{name}: ", style="bold")
    line.append(fmt(before, digits))
    line.append(" → ")
    line.append(fmt(after, digits), style="bold cyan")
    line.append("   (")
    line.append(_signed(after - before, digits), style=_change_style(after - before, minimize))
    line.append(")")
    return line


# -- step -------------------------------------------------------------------------------
def step_view(run: StepRun, title: str, digits: int = 6, note: str = "") -> RenderableType:
    """Header, one row per input (before, gradient, after, change), the output (step_notes
    has the notes)."""
    c = run.circuit
    direction = "down" if run.minimize else "up"
    several = run.asked > 1
    taken = f"{run.taken} step{'s' if run.taken != 1 else ''}"
    kind = "" if run.gradient == "analytic" else f"numerical (h {fmt(run.h, digits)}) "
    header = _header(title, f"{taken} {direction} the {kind}gradient, lr {fmt(run.lr, digits)}")
    names = ["input", "before", "gradient", "after", "change"]
    if several:
        names.append("gradient now")
    rows: list[list[RenderableType]] = []
    for name in c.inputs:
        moves = name in run.moving
        before, after, g = run.before[name], run.after[name], run.grads[name]
        cells: list[RenderableType] = [
            Text("▸ " + name, style="cyan" if moves else "dim"),
            fmt(before, digits),
            Text(fmt(g, digits), style=grad_style(g) if moves else "dim"),
            Text(fmt(after, digits), style="bold" if moves else "dim"),
            Text(_signed(after - before, digits) if moves else "frozen", style="dim"
                 if not moves or after == before else ""),
        ]
        if several:
            g_now = run.final_grads[name]
            cells.append(Text(fmt(g_now, digits), style=grad_style(g_now) if moves else "dim"))
        rows.append(cells)
    parts: list[RenderableType] = [header, Fitted(_columns(*names), rows),
                                   _output_line(c.output_name, run.history[0], run.history[-1],
                                                digits, run.minimize)]
    if several and run.taken:
        line = Text()
        line.append(f"{c.output_name} over {taken}: ", style="dim")
        line.append(fmt(run.history[0], digits) + " ")
        line.append_text(sparkline(run.history))
        line.append(" " + fmt(run.history[-1], digits))
        parts.append(line)
    return Group(*parts)


def step_notes(run: StepRun, note: str = "") -> list[Text]:
    """Kinks, why it stopped early, and `note`: lines for stderr."""
    notes = [Text(f"kink at {kink}", style="yellow") for kink in run.kinks]
    if run.stop and not run.interrupted:
        notes.append(Text(f"stopped early: {run.stop}", style="yellow"))
    if note:
        notes.append(Text(note, style="dim"))
    return notes


def step_document(run: StepRun) -> dict[str, Any]:
    """The `circuit step --json` document."""
    return {
        "inputs": {name: {"before": finite(run.before[name]), "grad": finite(run.grads[name]),
                          "after": finite(run.after[name])} for name in run.circuit.inputs},
        "output": {"before": finite(run.history[0]), "after": finite(run.history[-1])},
        "history": [finite(x) for x in run.history],
    }


# -- search -----------------------------------------------------------------------------
def search_view(run: SearchRun, title: str, digits: int = 6, note: str = "") -> RenderableType:
    """The start and the best try side by side, the output's gain (search_notes has the
    warnings)."""
    seed = f", seed {run.seed}" if run.seed is not None else ""
    header = _header(title, f"random search: {run.tries} tries within ±{fmt(run.tweak, digits)}"
                            f"{seed}")
    rows: list[list[RenderableType]] = []
    for name in run.circuit.inputs:
        moves = name in run.moving
        a, b = run.start[name], run.best[name]
        rows.append([Text("▸ " + name, style="cyan" if moves else "dim"), fmt(a, digits),
                     Text(fmt(b, digits), style="bold" if moves else "dim"),
                     Text(_signed(b - a, digits) if moves else "frozen",
                          style="" if moves else "dim")])
    table = Fitted(_columns("input", "start", "best", "change"), rows)
    return Group(header, table, _output_line(run.circuit.output_name, run.start_output,
                                             run.best_output, digits, run.minimize))


def search_notes(run: SearchRun, note: str = "") -> list[Text]:
    """Warnings about the tries, and `note`: lines for stderr."""
    notes = []
    if not run.improved:
        notes.append(Text("no try beat the start (as in the notebook, the best try is kept): "
                          "a smaller --tweak or more --tries may help", style="yellow"))
    if run.failed:
        notes.append(Text(f"{run.failed} of {run.done} tries left a gate's domain or gave nan",
                          style="yellow"))
    if note:
        notes.append(Text(note, style="dim"))
    return notes


def search_document(run: SearchRun) -> dict[str, Any]:
    """The `circuit search --json` document."""
    return {
        "start": {"inputs": {n: finite(v) for n, v in run.start.items()},
                  "output": finite(run.start_output)},
        "best": {"inputs": {n: finite(v) for n, v in run.best.items()},
                 "output": finite(run.best_output)},
        "gain": finite(run.gain),
        "tweak": run.tweak,
        "tries": run.tries,
        "done": run.done,
    }


# -- compare ----------------------------------------------------------------------------
def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def compare_view(result: Comparison, title: str, digits: int = 6) -> RenderableType:
    """One row per strategy: where the output went, how far the inputs moved for it (the
    gain per unit moved is the fair measure), what it cost, how long it took."""
    goal = "lower" if result.minimize else "higher"
    header = _header(title, f"{result.circuit.output_name} = "
                            f"{fmt(result.start_output, digits)}, made {goal}: gradient steps "
                            f"of lr {fmt(result.lr, digits)}, random tries within "
                            f"±{fmt(result.tweak, digits)}")
    columns = _columns("strategy", "output", "gain", "moved", "gain/moved", "forward",
                       "backward", "time")
    rates = [s.per_unit for s in result.strategies if s.per_unit == s.per_unit]
    best_rate = (min(rates) if result.minimize else max(rates)) if rates else None
    # on a narrow screen "numerical gradient" gives way to "numerical", "forward" to "fwd"
    columns[0].drop = columns[5].drop = columns[6].drop = 1
    columns[5].brief, columns[6].brief = "fwd", "bwd"
    columns[0].short = [Text(s.name.split()[0], style="bold" if s.per_unit == best_rate else "")
                        for s in result.strategies]
    rows: list[list[RenderableType]] = []
    for s in result.strategies:
        rows.append([Text(s.name, style="bold" if s.per_unit == best_rate else ""),
                     fmt(s.output, digits),
                     Text(_signed(s.gain, digits), style=_change_style(s.gain, result.minimize)),
                     fmt(s.moved, digits),
                     # no move (a refused Newton step): no ratio, not "nan"
                     Text(_signed(s.per_unit, digits),
                          style=_change_style(s.per_unit, result.minimize))
                     if s.per_unit == s.per_unit else Text("—", style="dim"),
                     str(s.forward), str(s.backward), _duration(s.seconds)])
    table = Fitted(columns, rows)
    n = len(result.circuit.inputs)
    notes = [
        Text("moved: how far the inputs went (Euclidean length); gain/moved is the fair "
             "measure when the steps differ in length", style="dim"),
        Text(f"random search: one forward pass per try (--tries {result.tries})", style="dim"),
        Text(f"numerical gradient: one forward pass per input, plus one ({n} + 1; "
             f"h = {result.h:g})", style="dim"),
        Text("analytic gradient: one forward and one backward pass, however many inputs",
             style="dim"),
        Text(f"largest numerical - analytic gradient difference: "
             f"{fmt(result.gradient_error, 3)}; times: the fastest of repeated runs",
             style="dim"),
    ]
    notes += [Text(f"{s.name}: {s.note}", style="dim") for s in result.strategies[3:] if s.note]
    return Group(header, table, *notes)


def compare_notes(result: Comparison) -> list[Text]:
    """Random search's warnings: lines for stderr."""
    return [Text(f"{s.name}: {s.note}", style="yellow") for s in result.strategies
            if s.name == "random search" and s.note]


def compare_document(result: Comparison) -> dict[str, Any]:
    """The `circuit compare --json` document."""
    return {
        "start": {"inputs": {n: finite(v) for n, v in result.start.items()},
                  "output": finite(result.start_output)},
        "lr": result.lr,
        "tweak": result.tweak,
        "strategies": [
            {"name": s.name, "inputs": {n: finite(v) for n, v in s.inputs.items()},
             "output": finite(s.output), "gain": finite(s.gain), "moved": finite(s.moved),
             "gain_per_unit_moved": finite(s.per_unit), "forward": s.forward,
             "backward": s.backward, "seconds": s.seconds}
            for s in result.strategies
        ],
        "gradient_error": finite(result.gradient_error),
    }


# -- show -------------------------------------------------------------------------------
def show_view(text: str, title: str, values: dict[str, float], output_name: str,
              output: float | None, digits: int = 6, changed: dict[str, float] | None = None,
              where: str = "", problem: str = "", defaults: dict[str, float] | None = None
              ) -> RenderableType:
    """The circuit's text, its input values (with the old ones when `set` changed them) and
    the output at those values.

    A file's `name = number` lines are left out of its text: the table holds the values
    used, with the file's default beside any value that overrides it.
    """
    header = _header(title, where)
    # an expression is its own title; a file's statements are worth showing
    body: list[RenderableType] = []
    if text.strip() != title:
        lines = [line for line in text.rstrip("\n").splitlines()
                 if not _declares_value(line, values)]
        more = len(lines) - SHOWN_LINES
        lines = lines[:SHOWN_LINES]  # a generated file of a million statements: its start
        body = [Text("\n").join(Text(line, style="dim" if line.lstrip().startswith("#") else "")
                                for line in lines), Text("")]
        if more > 0:
            body.insert(1, Text(f"... and {more:,} more lines (--json gives the whole text)",
                                style="dim"))
    columns = _columns("input", "value")
    if changed:
        columns.append(Column("was", style="dim"))
    overridden = {name: d for name, d in (defaults or {}).items()
                  if name in values and values[name] != d}
    if overridden:
        columns.append(Column("file says", style="dim"))
    rows: list[list[RenderableType]] = []
    for name, value in values.items():
        cells: list[RenderableType] = [Text("▸ " + name, style="cyan"), fmt(value, digits)]
        if changed:
            cells.append(fmt(changed[name], digits) if name in changed else "")
        if overridden:
            cells.append(fmt(overridden[name], digits) if name in overridden else "")
        rows.append(cells)
    table = Fitted(columns, rows)
    line = Text()
    line.append(f"{output_name} = ", style="bold")
    if output is None:
        line.append(problem or "cannot be computed", style="yellow")
    else:
        line.append(fmt(output, digits), style="bold cyan")
    return Group(header, *body, table, line)


# `show` lists a circuit's first lines only: rich lays out every line it prints, and a
# 300,000-line listing took minutes (the file, or --json, has the whole text)
SHOWN_LINES = 200
_DECLARATION = re.compile(r"\s*([^\W\d]\w*)\s*=\s*([^#\s]+)\s*(#.*)?")


def _declares_value(line: str, values: dict[str, float]) -> bool:
    """`a = 1` for an input a: the table shows the value used instead."""
    from ..core.grammar import parse_number

    m = _DECLARATION.fullmatch(line)
    return bool(m and m.group(1) in values and parse_number(m.group(2)) is not None)


def show_document(text: str, values: dict[str, float], output_name: str,
                  output: float | None) -> dict[str, Any]:
    """The `circuit show --json` document."""
    return {"circuit": text, "inputs": {n: finite(v) for n, v in values.items()},
            "output": {"name": output_name, "value": finite(output)}}


# -- progress ---------------------------------------------------------------------------
@contextmanager
def progress(console: Console, total: int, what: str, show: bool
             ) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on a terminal (cleared when done); elsewhere nothing at all."""
    if not show or not console.is_terminal or total < 2:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=console, transient=True)
    with bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)
