"""One width policy for every table: a number is the answer and is never cut.

A table is declared as columns and rows; it is laid out only when rich tells it how wide
the screen is. If it does not fit, the decorative columns are given up first, in the
order each column's `drop` says (the pull bar, then "computes", then long names, which
may offer shorter cells instead of going). If even the numbers alone do not fit, each
row becomes one record that wraps by words: `name: value 1, gradient -0.104994`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "Fitted", "hanging"]


class Column:
    """How one column reads, and when it is given up.

    `drop`: None for a column that stays (a number, the row's name); otherwise the stage at
    which it goes (1 first). `short`: cells to use instead of going away at that stage
    (a strategy's short name). `wrap`: text that may wrap by words (never a number).
    `record`: whether the column has a place in the one-record-per-row form. `brief`: a
    shorter header, taken at the `drop` stage. `least`: the narrowest a wrapping column may
    be (below it, the column goes or the table becomes records).
    """

    __slots__ = ("brief", "drop", "header", "justify", "least", "record", "short", "style",
                 "width", "wrap")

    def __init__(self, header: str, justify: str = "right", style: str = "",
                 drop: int | None = None, short: Sequence[RenderableType] | None = None,
                 wrap: bool = False, width: int | None = None, record: bool = True,
                 brief: str | None = None, least: int = 0) -> None:
        self.header = header
        self.brief = brief
        self.least = least
        self.justify = justify
        self.style = style
        self.drop = drop
        self.short = short
        self.wrap = wrap
        self.width = width
        self.record = record


class Fitted:
    """A table that fits the width it is printed at (see the module's docstring)."""

    def __init__(self, columns: Sequence[Column], rows: Iterable[Sequence[RenderableType]]
                 ) -> None:
        self.columns = list(columns)
        self.rows = [list(row) for row in rows]

    def _stages(self) -> Iterable[list[tuple[Column, list[RenderableType]]]]:
        """The tables to try, widest first: each stage gives up one more drop level."""
        levels = sorted({c.drop for c in self.columns if c.drop is not None})
        for shown in [0, *levels]:
            picked = []
            for k, column in enumerate(self.columns):
                cells = [row[k] for row in self.rows]
                if column.drop is not None and column.drop <= shown:
                    if column.short is None and column.brief is None:
                        continue
                    if column.short is not None:
                        cells = list(column.short)
                    if column.brief is not None:
                        column = _renamed(column, column.brief)
                picked.append((column, cells))
            yield picked

    @staticmethod
    def _table(picked: list[tuple[Column, list[RenderableType]]]) -> Table:
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for column, _ in picked:
            table.add_column(Text(column.header), justify=column.justify,  # type: ignore[arg-type]
                             style=column.style, no_wrap=not column.wrap, width=column.width,
                             overflow="fold")
        for k in range(len(picked[0][1]) if picked else 0):
            table.add_row(*(cells[k] for _, cells in picked))
        return table

    def _records(self, width: int) -> Text:
        """One record per row, `name: header value, header value`, broken between the
        pieces (a header stays with its value), later lines indented."""
        picked = list(self._stages())[-1]
        lines: list[Text] = []
        for k in range(len(self.rows)):
            pieces: list[list[Text]] = []
            for column, cells in picked:
                cell = cells[k]
                if not column.record or not isinstance(cell, (str, Text)):
                    continue
                text = Text(cell) if isinstance(cell, str) else cell.copy()
                if not text.plain.strip():
                    continue
                if column.style:
                    text.stylize(column.style)
                if not pieces:
                    pieces.append([text + Text(":")])
                    continue
                if column.wrap:  # prose: its words, with no header
                    words = [w for w in text.split(" ") if w.plain]
                    pieces.append(words)
                    continue
                piece = Text(column.header + " ", style="dim") if column.header else Text()
                pieces.append([piece + text])
            for n in range(1, len(pieces) - 1):
                pieces[n][-1].append(",")
            line = Text()
            for piece in (word for words in pieces for word in words):
                if not len(line):
                    line = piece
                elif len(line.plain.rsplit("\n", 1)[-1]) + 1 + len(piece) <= width:
                    line += Text(" ") + piece
                else:
                    line += Text("\n    ") + piece
            lines.append(line)
        return Text("\n").join(lines)

    @staticmethod
    def _needs(console: Console, options: ConsoleOptions,
               picked: list[tuple[Column, list[RenderableType]]]) -> tuple[int, int]:
        """The narrowest and the natural width of a stage's table. (rich's own measure of
        a table counts a no-wrap column by its longest word, which would let it cut.)"""
        wide = options.update_width(10**6)
        least = most = 3 * (len(picked) - 1)  # " │ " between columns
        for column, cells in picked:
            if column.width is not None:
                least += column.width
                most += column.width
                continue
            sizes = [Measurement.get(console, wide, cell) for cell in cells]
            sizes.append(Measurement.get(console, wide, Text(column.header)))
            natural = max(m.maximum for m in sizes)
            least += max(column.least, *(m.minimum for m in sizes)) if column.wrap else natural
            most += natural
        return least, most

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for picked in self._stages():
            if self._needs(console, options, picked)[0] <= width:
                yield self._table(picked)
                return
        yield self._records(width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = self._needs(console, options, next(iter(self._stages())))[1]
        return Measurement(min(widest, options.max_width), widest)


def _renamed(column: Column, header: str) -> Column:
    return Column(header, column.justify, column.style, None, None, column.wrap, column.width,
                  column.record, None, column.least)


class _Hanging:
    """One line of prose whose wrapped part keeps its indent, plus two columns."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = []
        for line in self.text.split("\n", allow_blank=True):
            indent = len(line.plain) - len(line.plain.lstrip(" "))
            room = max(options.max_width - indent - 2, 8)
            for k, part in enumerate(line[indent:].wrap(console, room) or [Text("")]):
                part.rstrip()
                lines.append(Text(" " * (indent + (2 if k else 0))) + part)
        yield Text("\n").join(lines)


def hanging(renderable: RenderableType) -> RenderableType:
    """Prose for a terminal (explain, the learner's reports): each Text line, through its
    Groups, wraps between words and goes on two columns further in than it began, so a
    wrapped line's end does not read as a new line. Tables are left as they are."""
    if isinstance(renderable, Text):
        return _Hanging(renderable)
    if isinstance(renderable, Group):
        return Group(*(hanging(part) for part in renderable.renderables))
    return renderable
