"""Circuit (and Result) -> a terminal tree: the output at the root, each node's inputs below it.

A circuit is a DAG, not a tree: a node used twice is drawn once, where it is
first met, and every later use is a one-line reference back to it. The walk
uses an explicit stack, and a branch deeper than `depth` levels continues as a
tree of its own further down, so a 100,000-deep chain prints (in linear time)
instead of recursing or indenting off the screen. Lines are yielded as rich
Segments: a Text per line is ten times slower on big circuits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from ..core.circuit import Circuit
from ..core.evaluate import Result
from ..core.gates import format_number
from .table import fmt, grad_style

__all__ = ["DEFAULT_DEPTH", "CircuitTree", "computes"]

DEFAULT_DEPTH = 12

_GUIDE = Style(dim=True)
_DIM = Style(dim=True)
_BOLD = Style(bold=True)
_INPUT = Style(color="cyan")
_OUTPUT = Style(bold=True)
_VALUE = Style(color="cyan")
_KINK = Style(color="yellow")
_STYLES = {name: Style.parse(name) for name in ("green", "red", "dim")}
_NL = Segment.line()

Row = list[Segment]


class CircuitTree:
    """A rich renderable: header, the tree (in sections if deep), then notes."""

    def __init__(self, circuit: Circuit, result: Result | None = None, title: str = "",
                 digits: int = 6, depth: int = DEFAULT_DEPTH, missing: tuple[str, ...] = ()
                 ) -> None:
        self.circuit = circuit
        self.result = result
        self.title = title
        self.digits = digits
        self.depth = max(1, depth)
        self.missing = missing
        self.labels = circuit.labels()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self._header()
        yield _NL
        if console.color_system is None:  # no styles to keep: big plain chunks are faster
            chunk: list[str] = []
            for row in self.rows():
                chunk.extend(segment.text for segment in row)
                chunk.append("\n")
                if len(chunk) > 20_000:
                    yield Segment("".join(chunk))
                    chunk = []
            yield Segment("".join(chunk))
        else:
            for row in self.rows():
                yield from row
                yield _NL
        yield from self._notes()

    # -- the tree ------------------------------------------------------------------------
    def rows(self) -> Iterator[Row]:
        """Every line of the tree, sections included, in print order."""
        c = self.circuit
        args = c.args
        drawn = bytearray(len(c))  # the node's own line has been printed
        sections: deque[int] = deque([c.output])
        first = True
        while sections:
            root = sections.popleft()
            yield self._line(root, continued=not first)
            first = False
            drawn[root] = 1
            # frames: (the parent's arguments, index of the next one, guide prefix, level)
            stack: list[list] = [[args[root], 0, "", 1]]
            while stack:
                frame = stack[-1]
                kids, k, prefix, level = frame
                if k == len(kids):
                    stack.pop()
                    continue
                frame[1] = k + 1
                child = kids[k]
                last = k == len(kids) - 1
                branch = prefix + ("└── " if last else "├── ")
                if c.is_const(child) and not args[child]:
                    yield [Segment(branch, _GUIDE), *self._const(child)]
                    continue
                if drawn[child]:
                    yield [Segment(branch, _GUIDE), *self._reference(child)]
                    continue
                drawn[child] = 1
                deeper = bool(args[child]) and level >= self.depth
                row = [Segment(branch, _GUIDE), *self._node(child)]
                if deeper:
                    row.append(Segment("   ↓ continued below", _DIM))
                    sections.append(child)
                yield row
                if args[child] and not deeper:
                    stack.append([args[child], 0, prefix + ("    " if last else "│   "),
                                  level + 1])

    def _line(self, i: int, continued: bool) -> Row:
        row = self._node(i)
        if continued:
            row.append(Segment("   (continued)", _DIM))
        return row

    def _node(self, i: int) -> Row:
        """`q = 3   grad -4   ← x + y   add`: name, value, gradient, then what it computes."""
        c = self.circuit
        labels = self.labels
        result = self.result
        if not c.live[i] and not c.args[i]:
            return self._const(i)
        is_input = c.is_input(i)
        style = _OUTPUT if i == c.output else _INPUT if is_input else _BOLD
        row = [Segment(labels[i], style)]
        if result is not None:
            row.append(Segment(" = "))
            row.append(Segment(fmt(result.values[i], self.digits), _VALUE))
            if result.grads is not None and c.live[i]:
                g = result.grads[i]
                row.append(Segment("   grad ", _DIM))
                row.append(Segment(fmt(g, self.digits), _STYLES[grad_style(g)]))
        if is_input:
            row.append(Segment("   input", _DIM))
        else:
            formula, gate = computes(c, i, labels)
            row.append(Segment("   ← ", _DIM))
            row.append(Segment(formula))
            if gate:
                row.append(Segment(f"   {gate}", _DIM))
        if result is not None:
            if i in result.kinks:
                row.append(Segment("   kink", _KINK))
            if i in result.bad:
                row.append(Segment("   ⚠ not finite", _KINK))
        return row

    def _const(self, i: int) -> Row:
        return [Segment(format_number(self.circuit.base[i])), Segment("   constant", _DIM)]

    def _reference(self, i: int) -> Row:
        name = self.circuit.labels()[i]
        style = _INPUT if self.circuit.is_input(i) else _BOLD
        return [Segment(name, style), Segment(" ↑ (drawn above)", _DIM)]

    # -- around the tree -----------------------------------------------------------------
    def _header(self) -> Iterator[Segment]:
        c = self.circuit
        if self.title:
            yield Segment(self.title, _BOLD)
            yield Segment("   ")
        if self.result is not None:
            yield Segment(f"{c.output_name} = ", _BOLD)
            yield Segment(fmt(self.result.output, self.digits), Style(bold=True, color="cyan"))
            if self.result.grads is not None and self.result.pull != 1.0:
                yield Segment(f"   (pull from above: {fmt(self.result.pull, self.digits)})",
                              _DIM)
        elif self.missing:
            given = " ".join(f"{n}=..." for n in self.missing[:6])
            more = f" and {len(self.missing) - 6} more" if len(self.missing) > 6 else ""
            yield Segment(f"(give {given}{more} to see values and gradients)", _DIM)

    def _notes(self) -> Iterator[Segment]:
        c = self.circuit
        labels = c.labels()
        notes: list[tuple[str, Style]] = []
        if self.result is not None:
            for i, note in self.result.kinks.items():
                notes.append((f"kink at {labels[i]} = {c.formula(i)}: {note}", _KINK))
            for warning in self.result.warnings:
                notes.append((f"warning: {warning}", _KINK))
        unused = c.unused()
        if unused:
            shown = ", ".join(labels[i] for i in unused[:10])
            more = f" and {len(unused) - 10} more" if len(unused) > 10 else ""
            notes.append((f"not drawn, the output does not use them: {shown}{more}", _DIM))
        for text, style in notes:
            yield Segment(text, style)
            yield _NL


def computes(c: Circuit, i: int, labels: list[str] | None = None) -> tuple[str, str]:
    """(formula, gate name), the name left empty where the formula already says it: sigmoid(q)."""
    gate = c.gates[i]
    if labels is None:
        labels = c.labels()
    formula = gate.describe([labels[a] for a in c.args[i]])
    name = gate.name
    return formula, "" if formula.startswith(f"{name}(") else name
