"""A training Run -> what the user sees: the summary, the parameter table, the loss curve
and, for two features, the data points over the decision regions. Plus the progress bar
and the --json document. Nothing here trains or differentiates."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ..core.lazy import lazy
from ..io.data import PARAMS_FORMAT, PARAMS_VERSION
from ..methods.train import Point, Run
from .fit import Column, Fitted
from .json import finite
from .table import fmt, grad_style

rich_progress = lazy("rich.progress")  # a bar only on a terminal

__all__ = ["boundary_plot", "loss_plot", "params_document", "progress_bar", "train_document",
           "train_report"]


def params_document(run: Run) -> dict[str, Any]:
    """What train -o writes and predict reads: the learned values and how they were learned."""
    m = run.model
    return {
        "format": PARAMS_FORMAT,
        "version": PARAMS_VERSION,
        "circuit": m.circuit.source or m.circuit.text,
        "features": m.features,
        "label": m.label,
        "loss_function": m.loss,
        "classify": m.classify,
        "params": {name: finite(v) for name, v in run.params.items()},
        "loss": finite(run.loss),
        "accuracy": run.accuracy,
        "seed": m.seed,
    }


def train_document(run: Run) -> dict[str, Any]:
    """The --json document: params, loss, accuracy, history, and how the run was set up."""
    m = run.model
    return {
        "format": PARAMS_FORMAT,  # so that predict --params reads this document too
        "version": PARAMS_VERSION,
        "params": {name: finite(v) for name, v in run.params.items()},
        "loss": finite(run.loss),
        "accuracy": run.accuracy,
        "history": [{"step": p.step, "loss": finite(p.loss), "accuracy": p.accuracy}
                    for p in run.history],
        "grads": {name: finite(g) for name, g in run.grads.items()},
        "data_loss": finite(run.data_loss),
        "start": {name: finite(v) for name, v in m.start.items()},
        "features": m.features,
        "label": m.label,
        "loss_function": m.loss,
        "reg": m.reg,
        "reg_on": m.reg_on,
        "steps": run.steps,
        "rows": m.data.rows,
        "seed": m.seed,
        "interrupted": run.interrupted,
    }


@contextmanager
def progress_bar(console) -> Iterator[Callable[[int, int, float, float | None], None]]:
    """A transient rich progress bar; yields the callback train() reports to."""
    bars = rich_progress
    with bars.Progress(bars.TextColumn("training"), bars.BarColumn(), bars.MofNCompleteColumn(),
                       bars.TextColumn("{task.fields[status]}"), bars.TimeElapsedColumn(),
                       console=console, transient=True) as progress:
        task = progress.add_task("train", total=None, status="")

        def update(step: int, total: int, loss: float, accuracy: float | None) -> None:
            status = f"loss {fmt(loss, 4)}" + (
                f"  accuracy {accuracy:.0%}" if accuracy is not None else "")
            progress.update(task, completed=step, total=total, status=status)

        yield update


def train_report(run: Run, title: str, data_name: str, digits: int = 6,
                 max_rows: int | None = 20, plots: bool = True, grid=None,
                 width: int = 80) -> RenderableType:
    """Header, summary, parameter table, notes and (optionally) the two plots."""
    m = run.model
    s = run.schedule
    head = Text()
    head.append(title, style="bold")
    head.append(f"   trained on {data_name}: {m.data.rows} rows, features "
                f"{', '.join(m.features)}, labels in column {m.label}")
    what = Text(style="dim")
    if s.iters is not None:
        plan = f"{run.steps} steps of one random row"
    else:
        size = s.batch_size(m.data.rows)
        plan = (f"{run.steps} full-batch steps" if size >= m.data.rows
                else f"{run.steps} steps of {size} rows")
    rate = f"lr {s.lr:g}" + (f" → {s.lr_end:g}" if s.lr_end is not None else "")
    if not (m.reg and m.reg_on):
        regs = "no regularization"
    elif len(m.reg_on) == len(m.params) and len(m.params) > 1:
        regs = f"reg {m.reg:g} on all {len(m.params)} parameters"
    else:
        regs = f"reg {m.reg:g} on {_few(m.reg_on)}"
    what.append(f"{m.loss} loss, {regs}\n{plan}, {rate}, seed {m.seed}, {run.seconds:.2f} s")

    summary = Text()
    summary.append("loss ", style="bold")
    summary.append(fmt(run.loss, digits), style="bold cyan")
    if m.reg and m.reg_on:
        summary.append(f"  (data {fmt(run.data_loss, digits)} + penalty "
                       f"{fmt(run.penalty, digits)})", style="dim")
    if run.accuracy is not None:
        summary.append("   accuracy ", style="bold")
        summary.append(f"{run.accuracy:.1%}", style="bold green" if run.accuracy == 1 else "bold")
        summary.append(f" ({run.correct} of {m.data.rows} rows)")
    began = Text(style="dim")
    first = run.history[0] if run.history else None
    if first is not None and first.step == 0 and len(run.history) > 1:
        began.append(f"before training: loss {fmt(first.loss, digits)}")
        if first.accuracy is not None:
            began.append(f", accuracy {first.accuracy:.1%}")

    parts: list[RenderableType] = [head, what, summary, began, Text(),
                                   param_table(run, digits, max_rows)]
    notes = [Text("gradient: d loss / d parameter over all rows, at the learned values",
                  style="dim")]
    if len(m.params) > (max_rows or len(m.params)):
        notes.append(Text(f"{len(m.params) - max_rows} more parameters (the largest gradients "
                          "are shown); --all shows every one, --json gives them all",
                          style="dim"))
    if m.randomized:
        notes.append(Text(f"{len(m.randomized)} parameters started at random in [-0.5, 0.5] "
                          f"(seed {m.seed})", style="dim"))
    if m.unused:
        notes.append(Text(f"columns not used by the circuit: {', '.join(m.unused)}",
                          style="yellow"))
    parts.extend(notes)
    if plots and len(run.history) > 1:
        parts += [Text(), Text("loss over the run", style="bold"),
                  loss_plot(run.history, width=max(20, min(72, width - 12)))]
    if plots and grid is not None:
        parts += [Text(), Text(f"the rows over the decision regions ({m.features[0]} across, "
                               f"{m.features[1]} up)", style="bold"),
                  boundary_plot(run, grid)]
    return Group(*parts)


def _few(names: Sequence[str], most: int = 6) -> str:
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])}, ... ({len(names)} parameters)"


def param_table(run: Run, digits: int | None = 6, max_rows: int | None = 20) -> Fitted:
    """One row per parameter: where it started, what it learned, the gradient there."""
    m = run.model
    names = list(m.params)
    if max_rows is not None and len(names) > max_rows:
        keep = set(heapq.nlargest(max_rows, names, key=lambda n: _size(run.grads[n])))
        names = [n for n in names if n in keep]
    reg_on = set(m.reg_on) if m.reg else set()
    columns = [Column("parameter", "left", "cyan"), Column("start", style="dim"),
               Column("learned"), Column("gradient"), Column("reg", "center", "dim")]
    rows: list[list[RenderableType]] = []
    for name in names:
        g = run.grads[name]
        rows.append([name, fmt(m.start[name], digits), fmt(run.params[name], digits),
                     Text(fmt(g, digits), style=grad_style(g)), "L2" if name in reg_on else ""])
    return Fitted(columns, rows)


def _size(g: float) -> float:
    return abs(g) if g == g else math.inf


# ---- the loss curve: braille dots, 2 across and 4 down per character ---------------------------

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] bits


def loss_plot(history: Sequence[Point], width: int = 60, height: int = 10) -> RenderableType:
    """Loss against step as a braille line, with the y range on the left and steps below."""
    points = [(p.step, p.loss) for p in history if math.isfinite(p.loss)]
    if len(points) < 2:
        return Text("(not enough points to plot)", style="dim")
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        hi, lo = hi + 0.5, lo - 0.5
    first, last = points[0][0], points[-1][0]
    cols, rows = width * 2, height * 4
    cells = [[0] * width for _ in range(height)]

    def dot(x: int, y: int) -> None:
        cells[y // 4][x // 2] |= _DOTS[y % 4][x % 2]

    def ypix(v: float) -> int:
        return min(rows - 1, max(0, round((hi - v) / (hi - lo) * (rows - 1))))

    # the value at each dot column: the points falling in it, linearly between them
    prev = None
    k = 0
    for x in range(cols):
        at = first + (last - first) * x / (cols - 1)
        while k + 1 < len(points) - 1 and points[k + 1][0] <= at:
            k += 1
        (s0, v0), (s1, v1) = points[k], points[min(k + 1, len(points) - 1)]
        v = v0 if s1 == s0 else v0 + (v1 - v0) * (at - s0) / (s1 - s0)
        y = ypix(v)
        if prev is not None:
            for yy in range(min(prev, y), max(prev, y) + 1):
                dot(x if abs(yy - y) <= abs(yy - prev) else x - 1, yy)
        dot(x, y)
        prev = y
    labels = [fmt(hi, 4), fmt((hi + lo) / 2, 4), fmt(lo, 4)]
    pad = max(len(s) for s in labels)
    out = Text()
    for r in range(height):
        label = labels[0] if r == 0 else labels[2] if r == height - 1 else (
            labels[1] if r == height // 2 else "")
        out.append(f"{label:>{pad}} ┤" if label else " " * pad + " │", style="dim")
        out.append("".join(chr(0x2800 + c) for c in cells[r]), style="cyan")
        out.append("\n")
    out.append(" " * pad + " └" + "─" * width + "\n", style="dim")
    left, right = f"step {first}", f"{last}"
    out.append(" " * (pad + 2) + left + " " * max(1, width - len(left) - len(right)) + right,
               style="dim")
    return out


# ---- the decision regions ---------------------------------------------------------------


def boundary_plot(run: Run, grid) -> RenderableType:
    """Each character is a patch of the plane: '·' where the score is > 0 (predicted +1),
    blank where it is not; the rows are drawn over it, misclassified ones highlighted."""
    scores, (x0, x1), (y0, y1) = grid
    height, width = scores.shape
    m = run.model
    fx, fy = m.features[:2]
    xs, ys = m.data.values[fx], m.data.values[fy]
    labels = m.data.values[m.label]
    positive = scores > 0
    marks: dict[tuple[int, int], list[tuple[float, bool]]] = {}
    for x, y, label, s in zip(xs, ys, labels, run.scores):
        c = min(width - 1, max(0, int((x - x0) / (x1 - x0) * width)))
        r = min(height - 1, max(0, int((y1 - y) / (y1 - y0) * height)))
        marks.setdefault((r, c), []).append((float(label), (s > 0) == (label > 0)))
    out = Text()
    for r in range(height):
        out.append("│", style="dim")
        for c in range(width):
            here = marks.get((r, c))
            region = "on blue" if positive[r, c] else "on red"
            edge = _edge(positive, r, c)
            if here:
                label, right = here[0][0], all(ok for _, ok in here)
                char = "+" if label > 0 else "o"
                style = ("bold white " if right else "bold yellow reverse ") + region
                out.append(char, style=style)
            else:
                char = "·" if positive[r, c] else " "
                out.append("╎" if edge else char, style=("dim " if not edge else "") + region)
        out.append("\n")
    out.append("└" + "─" * width + "\n", style="dim")
    out.append(f"{m.features[0]} {fmt(x0, 3)} … {fmt(x1, 3)}, {m.features[1]} {fmt(y0, 3)} … "
               f"{fmt(y1, 3)}\n", style="dim")
    wrong = sum(1 for v in marks.values() for _, ok in v if not ok)
    out.append("+ label +1   o label -1   · score > 0 (predicted +1)   ╎ boundary", style="dim")
    if wrong:
        out.append(f"   {wrong} misclassified rows highlighted", style="yellow")
    return out


def _edge(positive, r: int, c: int) -> bool:
    """A +1 cell next to a -1 cell (left, right, above or below): the decision boundary."""
    if not positive[r, c]:
        return False
    h, w = positive.shape
    return any(0 <= rr < h and 0 <= cc < w and not positive[rr, cc]
               for rr, cc in ((r, c - 1), (r, c + 1), (r - 1, c), (r + 1, c)))
