"""Circuits that learn from data: CSV rows in, losses, schedules and a training loop out.

The notebook's SVM, finished: a circuit's output is a score; the inputs that
are CSV columns are features, every other input is a parameter. Each step runs
the tape once forward and once backward over a whole batch (numpy arrays
through the same gates, `evaluate.forward/backward` with the numpy backend), and
a parameter's gradient is the sum over the rows of its array gradient. The
objective is

    J = mean over the batch of loss(score, label) + reg/2 * (sum of p**2 over the reg-on params)

and each step moves every parameter down its gradient: p <- p - lr * dJ/dp. With
one row per step and reg 1 on a and b this is the notebook's update exactly:
the hinge pull on the score is +1 (label +1, score < 1) or -1 (label -1,
score > -1), the regularization pulls -a and -b, and `a += step_size * pull`.

Every random number comes from Python's `random.Random(seed)`, in this order:
the starting value of each parameter without one, in the circuit's input
order, `rng.uniform(-0.5, 0.5)`; then, with `iters`, one `rng.randrange(rows)`
per iteration; with minibatches, one `rng.shuffle(order)` of the row order at
the start of every epoch (a full batch is never shuffled). Same seed, same
run, bit for bit. Nothing here prints.
"""

from __future__ import annotations

import csv
import math
import os
import random
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.circuit import Circuit, suggest
from ..core.syntax import CircuitError

__all__ = [
    "LOSSES",
    "Data",
    "DataError",
    "Directive",
    "Model",
    "Run",
    "Schedule",
    "decision_grid",
    "directive",
    "load_params",
    "prepare",
    "read_csv",
    "resolve_data_path",
    "save_params",
    "scores",
    "train",
]

LOSSES = ("hinge", "logistic", "square")
# losses whose labels are classes, +1 or -1
CLASSIFIERS = ("hinge", "logistic")
# a full batch by default up to this many rows; minibatches of DEFAULT_BATCH above it
FULL_BATCH_ROWS = 1024
DEFAULT_BATCH = 64
DEFAULT_EPOCHS = 100
# the history keeps at most about this many points, evenly spaced over the run
HISTORY_POINTS = 200


class DataError(CircuitError):
    """A problem in a data or parameter file: one line naming the file, row and column."""


# ---- data ---------------------------------------------------------------------------------


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


# ---- the model: circuit + data + which input is what --------------------------------------


@dataclass
class Directive:
    """Training settings written in a circuit file: `# train: --loss hinge --reg 1 --reg-on a,b`."""

    loss: str | None = None
    reg: float | None = None
    reg_on: list[str] | None = None
    label: str | None = None
    lr: float | None = None
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*train:(.*)$", re.MULTILINE)
_DIRECTIVE_KEYS = ("--loss", "--reg", "--reg-on", "--label", "--lr")


def directive(circuit: Circuit) -> Directive:
    """The `# train:` comment lines of a circuit file (options only; later lines win)."""
    found = Directive()
    for m in _DIRECTIVE.finditer(circuit.text):
        _read_directive(found, circuit, m.group(1), m.start(1))
    return found


def _read_directive(found: Directive, circuit: Circuit, body: str, base: int) -> None:
    """One `# train:` line's options into `found`; errors point at the offending word."""
    text = circuit.text
    try:
        words = shlex.split(body)
    except ValueError as err:
        raise CircuitError(f"# train: {err}", text, base, base + len(body),
                           circuit.source) from None
    it = iter(words)
    cursor = 0

    def locate(word: str) -> int:
        nonlocal cursor
        at = body.find(word, cursor)
        if at < 0:  # a quoted word: point at where the search stands
            at = cursor
        cursor = at + len(word)
        return base + at

    for word in it:
        start = locate(word)
        key, eq, value = word.partition("=")
        if key not in _DIRECTIVE_KEYS:
            raise CircuitError(
                f"# train: unknown option {key}; a circuit file may set "
                + ", ".join(_DIRECTIVE_KEYS), text, start, start + len(key), circuit.source)
        if not eq:
            value = next(it, None)
            if value is None:
                raise CircuitError(f"# train: {key} needs a value", text, start,
                                   start + len(key), circuit.source)
        vstart = start + len(key) + 1 if eq else locate(value)
        span = (vstart, vstart + len(value))
        found.spans[key] = span
        if key == "--loss":
            if value not in LOSSES:
                raise CircuitError(f"# train: --loss {value}: choose one of "
                                   + ", ".join(LOSSES), text, *span, circuit.source)
            found.loss = value
        elif key in ("--reg", "--lr"):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            least = 0.0 if key == "--reg" else math.ulp(0.0)
            if not math.isfinite(number) or number < least:
                need = ">= 0" if key == "--reg" else "> 0"
                raise CircuitError(f"# train: {key} needs a number {need}, not {value}",
                                   text, *span, circuit.source)
            if key == "--reg":
                found.reg = number
            else:
                found.lr = number
        elif key == "--reg-on":
            found.reg_on = [n.strip() for n in value.split(",") if n.strip()]
        else:
            found.label = value


@dataclass
class Model:
    """What training needs: the circuit, the data split into features and labels, the parameters."""

    circuit: Circuit
    data: Data
    features: list[str]
    params: list[str]
    label: str
    loss: str
    reg: float
    reg_on: list[str]
    start: dict[str, float]  # every parameter's starting value
    randomized: list[str]  # the parameters whose start was drawn at random
    unused: list[str]  # columns that are neither features nor the label
    seed: int
    classify: bool  # labels are classes +1/-1: hinge, logistic, or square loss on +-1 labels


def prepare(circuit: Circuit, data: Data, given: Mapping[str, float], *,
            known: Mapping[str, float] | None = None, label: str | None = None,
            loss: str | None = None, reg: float | None = None,
            reg_on: Sequence[str] | None = None, seed: int = 0) -> Model:
    """Split the circuit's inputs into features (CSV columns) and parameters, check the labels,
    and pick every parameter's starting value: given (NAME=VALUE), else known (the current
    circuit's), else the circuit file's, else random."""
    import numpy as np

    found = directive(circuit)
    label = label or found.label or "label"
    loss = loss or found.loss or "hinge"
    reg = reg if reg is not None else (found.reg if found.reg is not None else 0.0)
    columns = data.columns
    if label not in columns:
        raise DataError(f"{data.path}, line {data.header_line} (the header): no label column "
                        f"{label}{suggest(label, columns) or ''}; columns: {', '.join(columns)}"
                        " (--label names another)")
    if label in circuit.inputs:
        raise DataError(f"{data.path}: {label} is the label column; the circuit cannot also use "
                        "it as an input (--label names another column)")
    features = [name for name in circuit.inputs if name in columns]
    if not features:
        raise DataError(
            f"{data.path}: none of the circuit's inputs is a column of the file; inputs: "
            f"{', '.join(circuit.inputs)}; columns: {', '.join(columns)}")
    for name in given:
        if name in features:
            k = columns.index(name) + 1
            raise DataError(f"{data.path}, line {data.header_line} (the header), column {k}: "
                            f"{name} is a data column, so a feature of every row; it cannot "
                            f"also be given a value ({name}={given[name]:g})")
    params = [name for name in circuit.inputs if name not in columns]
    for name in given:
        if name not in circuit.inputs:
            circuit.values_for({name: given[name]})  # raises the circuit's own message
    if not params:
        raise CircuitError("the circuit has no parameters to learn: every input is a column of "
                           f"{data.path}")
    y = data.values[label]
    if loss in CLASSIFIERS:
        bad = np.flatnonzero((y != 1.0) & (y != -1.0))
        if bad.size:
            r = int(bad[0])
            raise DataError(f"{data.path}, row {r + 1} (line {data.lines[r]}), column {label}: "
                            f"{y[r]:g} is not a class label; --loss {loss} needs +1 or -1")
    chosen = list(reg_on) if reg_on is not None else (
        found.reg_on if found.reg_on is not None else list(params))
    for name in chosen:
        if name not in params:
            why = "a data column (a feature)" if name in features else "not a parameter"
            span = found.spans.get("--reg-on") if reg_on is None else None
            raise CircuitError(
                f"--reg-on: {name} is {why}"
                + (suggest(name, params) if name not in features else "")
                + f"; parameters: {_listing(params)}",
                circuit.text if span else None, *(span or (None, None)),
                source=circuit.source)
    rng = random.Random(seed)
    start: dict[str, float] = {}
    randomized = []
    for name in params:
        if name in given:
            start[name] = float(given[name])
        elif known and name in known:
            start[name] = float(known[name])
        elif name in circuit.defaults:
            start[name] = float(circuit.defaults[name])
        else:
            start[name] = rng.uniform(-0.5, 0.5)
            randomized.append(name)
    unused = [c for c in columns if c not in features and c != label]
    classify = loss in CLASSIFIERS or bool(np.all(np.abs(y) == 1.0))
    return Model(circuit, data, features, params, label, loss, reg,
                 [p for p in params if p in set(chosen)], start, randomized, unused, seed,
                 classify)


def _listing(names: Sequence[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


# ---- losses ---------------------------------------------------------------------------------


def loss_and_slope(loss: str, s, y):
    """Per-row loss and its derivative with respect to the score (numpy arrays).

    hinge: max(0, 1 - y*s), slope -y where y*s < 1 (the notebook's pull, negated);
    logistic: log(1 + exp(-y*s)), slope -y * sigmoid(-y*s); square: (s - y)**2 / 2, slope s - y.
    """
    import numpy as np

    if loss == "hinge":
        margin = y * s
        return np.maximum(0.0, 1.0 - margin), np.where(margin < 1.0, -y, 0.0)
    if loss == "logistic":
        z = -y * s
        return np.logaddexp(0.0, z), -y * _sigmoid(z)
    if loss == "square":
        d = s - y
        return 0.5 * d * d, d
    raise ValueError(f"unknown loss {loss}")


def _sigmoid(z):
    import numpy as np

    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ---- schedules and the loop -----------------------------------------------------------------


@dataclass
class Schedule:
    """How many steps, on which rows, at which learning rate."""

    lr: float = 0.01
    lr_end: float | None = None  # linear decay from lr to lr_end over the run (None: constant)
    iters: int | None = None  # one random row per step, the notebook's loop
    epochs: int | None = None
    batch: int | None = None  # rows per step; None: the full data up to FULL_BATCH_ROWS

    def batch_size(self, rows: int) -> int:
        if self.iters is not None:
            return 1
        if self.batch is None:
            return rows if rows <= FULL_BATCH_ROWS else DEFAULT_BATCH
        return min(self.batch, rows)

    def steps(self, rows: int) -> int:
        if self.iters is not None:
            return self.iters
        per_epoch = -(-rows // self.batch_size(rows))
        return (self.epochs if self.epochs is not None else DEFAULT_EPOCHS) * per_epoch

    def rate(self, step: int, total: int) -> float:
        """Step `step` (from 0) of `total` uses lr + (lr_end - lr) * step / total: micrograd's."""
        if self.lr_end is None:
            return self.lr
        return self.lr + (self.lr_end - self.lr) * step / total


@dataclass
class Point:
    """Loss (objective) and accuracy over all rows after `step` updates."""

    step: int
    loss: float
    accuracy: float | None


@dataclass
class Run:
    """What a training run learned, and how it went."""

    model: Model
    schedule: Schedule
    params: dict[str, float]
    grads: dict[str, float]  # dJ/dp over all rows at the learned values
    loss: float  # the objective J over all rows
    data_loss: float  # its mean-loss part, without the penalty
    accuracy: float | None  # fraction of rows whose sign(score) is the label (classifiers)
    correct: int | None
    history: list[Point]
    steps: int
    seconds: float
    scores: Any = None  # every row's score at the learned values (a numpy array)


Progress = Callable[[int, int, float, "float | None"], None]


def train(model: Model, schedule: Schedule, progress: Progress | None = None) -> Run:
    """Run the schedule: one vectorized forward and backward per step, then p -= lr * dJ/dp."""
    import numpy as np

    from ..core.backend import numpy_backend

    B = numpy_backend()
    data = model.data
    n = data.rows
    X = {name: data.values[name] for name in model.features}
    y = data.values[model.label]
    rng = _rng_after_init(model)
    params = dict(model.start)
    reg = model.reg
    reg_on = model.reg_on
    total = schedule.steps(n)
    size = schedule.batch_size(n)
    full = schedule.iters is None and size >= n
    if full:
        every = max(1, total // HISTORY_POINTS)  # each full-batch step measures all rows anyway
    else:
        # a history point costs a forward over every row: spend at most about what training does
        budget = min(HISTORY_POINTS, max(10, total * size // n))
        every = max(1, total // budget)
    history: list[Point] = []
    order = list(range(n))
    began = time.perf_counter()
    step = 0
    per_epoch = -(-n // size)
    while step < total:
        if schedule.iters is not None:
            batches: list[Any] = [np.array([rng.randrange(n)])]
        elif full:
            batches = [None]
        else:
            rng.shuffle(order)
            idx = np.array(order)
            batches = [idx[k * size:(k + 1) * size] for k in range(per_epoch)]
        for rows in batches:
            if step >= total:
                break
            inputs = X if rows is None else {name: col[rows] for name, col in X.items()}
            labels = y if rows is None else y[rows]
            record = step % every == 0
            loss, correct, grads, _ = _pass(model, B, params, inputs, labels, rows, step)
            if record:
                if full:
                    point = Point(step, loss, correct / n if correct is not None else None)
                else:
                    point = _evaluate_point(model, B, params, X, y, step)
                history.append(point)
                if progress is not None:
                    progress(step, total, point.loss, point.accuracy)
            lr = schedule.rate(step, total)
            for name, g in grads.items():
                params[name] -= lr * g
            step += 1
    loss, correct, grads, final = _pass(model, B, params, X, y, None, step)
    seconds = time.perf_counter() - began
    data_loss = loss - _penalty(reg, reg_on, params)
    accuracy = correct / n if correct is not None else None
    history.append(Point(step, loss, accuracy))
    if progress is not None:
        progress(step, total, loss, accuracy)
    return Run(model, schedule, params, grads, loss, data_loss, accuracy, correct, history,
               total, seconds, final)


def _rng_after_init(model: Model) -> random.Random:
    """The generator as prepare() left it: the random starting values drawn."""
    rng = random.Random(model.seed)
    for _ in model.randomized:
        rng.uniform(-0.5, 0.5)
    return rng


def _penalty(reg: float, reg_on: Sequence[str], params: Mapping[str, float]) -> float:
    return 0.5 * reg * sum(params[p] * params[p] for p in reg_on) if reg else 0.0


def _pass(model: Model, B, params: Mapping[str, float], inputs: Mapping[str, Any], y, rows,
          step: int) -> tuple[float, int | None, dict[str, float], Any]:
    """One forward and one backward over a batch: (objective, rows right, dJ/dp per parameter)."""
    import numpy as np

    from ..core.evaluate import backward

    circuit = model.circuit
    s, vals = _scores(model, B, params, inputs, y.shape[0], rows, step)
    m = y.shape[0]
    with np.errstate(all="ignore"):
        losses, slope = loss_and_slope(model.loss, s, y)
        grads = backward(circuit, vals, pull=slope / m, backend=B)
    out: dict[str, float] = {}
    nodes = circuit.inputs
    reg = model.reg
    reg_on = set(model.reg_on)
    for name in model.params:
        g = grads[nodes[name]]
        g = float(np.sum(g)) if isinstance(g, np.ndarray) else float(g)
        if reg and name in reg_on:
            g = g + reg * params[name]
        if not math.isfinite(g):
            raise _diverged(model, step, f"the gradient of {name} is {g}")
        out[name] = g
    with np.errstate(all="ignore"):
        loss = float(np.mean(losses)) + _penalty(reg, model.reg_on, params)
    if not math.isfinite(loss):
        raise _diverged(model, step, f"the loss is {loss}")
    correct = int(np.sum(np.where(s > 0, 1.0, -1.0) == y)) if model.classify else None
    return loss, correct, out, s


def _evaluate_point(model: Model, B, params, X, y, step: int) -> Point:
    import numpy as np

    s, _ = _scores(model, B, params, X, y.shape[0], None, step)
    with np.errstate(all="ignore"):
        losses, _ = loss_and_slope(model.loss, s, y)
        loss = float(np.mean(losses)) + _penalty(model.reg, model.reg_on, params)
    if not math.isfinite(loss):
        raise _diverged(model, step, f"the loss is {loss}")
    acc = float(np.mean(np.where(s > 0, 1.0, -1.0) == y)) if model.classify else None
    return Point(step, loss, acc)


def _scores(model: Model, B, params: Mapping[str, float], inputs: Mapping[str, Any], m: int,
            rows, step: int):
    """The output over a batch (always an array of m rows) and every node's values."""
    import numpy as np

    from ..core.evaluate import forward

    values = {**params, **inputs}
    with np.errstate(all="ignore"):
        vals = forward(model.circuit, values, backend=B)
    s = vals[model.circuit.output]
    if not isinstance(s, np.ndarray) or s.shape != (m,):
        s = np.broadcast_to(np.asarray(s, dtype=float), (m,))
    if not np.all(np.isfinite(s)):
        k = int(np.flatnonzero(~np.isfinite(s))[0])
        r = k if rows is None else int(rows[k])
        raise _row_error(model, params, r, step, float(s[k]))
    return s, vals


def _row_error(model: Model, params: Mapping[str, float], r: int, step: int,
               value: float) -> CircuitError:
    """Re-run the bad row with plain floats, so a domain error points at its node."""
    from ..core.evaluate import forward

    data = model.data
    point = {**params, **{name: float(data.values[name][r]) for name in model.features}}
    where = f"{data.path}, row {r + 1} (line {data.lines[r]})"
    try:
        forward(model.circuit, point)
    except CircuitError as err:
        err.message = f"{where}, step {step}: {err.message}"
        err.args = (err.message,)
        return err
    return _diverged(model, step, f"the score of {where} is {value}")


def _diverged(model: Model, step: int, what: str) -> CircuitError:
    return CircuitError(f"training diverged at step {step}: {what}; try a smaller --lr "
                        "(or a larger --reg)")


# ---- using learned parameters ----------------------------------------------------------------


def scores(circuit: Circuit, params: Mapping[str, float], columns: Mapping[str, Any], m: int,
           data: Data | None = None):
    """The circuit's output for m rows of feature columns at these parameters (a numpy array)."""
    import numpy as np

    from ..core.backend import numpy_backend
    from ..core.evaluate import forward

    with np.errstate(all="ignore"):
        vals = forward(circuit, {**params, **columns}, backend=numpy_backend())
    s = np.broadcast_to(np.asarray(vals[circuit.output], dtype=float), (m,))
    if data is not None and not np.all(np.isfinite(s)):
        r = int(np.flatnonzero(~np.isfinite(s))[0])
        point = {**params, **{name: float(col[r]) for name, col in columns.items()}}
        where = f"{data.path}, row {r + 1} (line {data.lines[r]})"
        try:
            forward(circuit, point)
        except CircuitError as err:
            err.message = f"{where}: {err.message}"
            err.args = (err.message,)
            raise
        raise DataError(f"{where}: the score is {s[r]}")
    return s


def decision_grid(model: Model, params: Mapping[str, float], width: int, height: int,
                  margin: float = 0.08):
    """Scores on a width x height grid over the two features' range (row 0 is the top).

    Returns (grid, (xmin, xmax), (ymin, ymax)); cell centres are evaluated in one batch.
    """
    import numpy as np

    fx, fy = model.features[:2]
    xs, ys = model.data.values[fx], model.data.values[fy]
    (x0, x1), (y0, y1) = _span(xs, margin), _span(ys, margin)
    cx = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    cy = y1 - (np.arange(height) + 0.5) * (y1 - y0) / height
    gx, gy = np.meshgrid(cx, cy)
    s = scores(model.circuit, params, {fx: gx.ravel(), fy: gy.ravel()}, width * height)
    return s.reshape(height, width), (x0, x1), (y0, y1)


def _span(v, margin: float) -> tuple[float, float]:
    lo, hi = float(v.min()), float(v.max())
    pad = (hi - lo) * margin or 1.0
    return lo - pad, hi + pad


# ---- parameter files --------------------------------------------------------------------------


def params_document(run: Run) -> dict[str, Any]:
    """What --save writes and predict reads: the learned values and how they were learned."""
    from ..render.json import finite

    m = run.model
    return {
        "format": "circuitcli params",
        "version": 1,
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


def save_params(doc: Mapping[str, Any], path: str) -> None:
    """Write the learned parameters as JSON, atomically."""
    import json

    from ..io.files import write_atomic

    write_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


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
