"""Circuits that learn from data: CSV rows in, losses, schedules and a training loop out.

The notebook's SVM, finished: a circuit's output is a score; the inputs that
are CSV columns are features, every other input is a parameter. Each step runs
the tape once forward and once backward over a whole batch (the circuit compiled
once per run by methods/batch.py into a few array operations per level), and
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

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.evaluate import forward
from ..core.lazy import lazy
from ..core.syntax import CircuitError
from .batch import Compiled
from .model import Model, loss_and_slope

np = lazy("numpy")

__all__ = ["Point", "Progress", "Run", "Schedule", "train"]

# a full batch by default up to this many rows; minibatches of DEFAULT_BATCH above it
FULL_BATCH_ROWS = 1024
DEFAULT_BATCH = 64
DEFAULT_EPOCHS = 100
# the history keeps at most about this many points, evenly spaced over the run
HISTORY_POINTS = 200

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
    interrupted: bool = False  # Ctrl-C stopped the run after `steps` steps

    @property
    def penalty(self) -> float:
        """reg/2 * the sum of the squared reg-on parameters, at the learned values."""
        return _penalty(self.model.reg, self.model.reg_on, self.params)


Progress = Callable[[int, int, float, "float | None"], None]


def train(model: Model, schedule: Schedule, progress: Progress | None = None) -> Run:
    """Run the schedule: one batched forward and backward per step, then p -= lr * dJ/dp.

    Ctrl-C (KeyboardInterrupt) stops the loop between steps: the Run then holds the
    parameters reached, measured over all rows, with `interrupted` set.
    """
    data = model.data
    n = data.rows
    y = data.values[model.label]
    rng = _rng_after_init(model)
    stepper = _Stepper(model)
    p = np.array([model.start[name] for name in model.params], dtype=float)
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
    interrupted = False
    try:
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
                labels = y if rows is None else y[rows]
                loss, correct, g, _ = stepper.run(p, rows, labels, step)
                if step % every == 0:
                    if full:
                        point = Point(step, loss, correct / n if correct is not None else None)
                    else:
                        point = stepper.point(p, y, step)
                    history.append(point)
                    if progress is not None:
                        progress(step, total, point.loss, point.accuracy)
                p -= schedule.rate(step, total) * g
                step += 1
    except KeyboardInterrupt:
        interrupted = True
    loss, correct, g, final = stepper.run(p, None, y, step)
    seconds = time.perf_counter() - began
    params = dict(zip(model.params, p.tolist()))
    grads = dict(zip(model.params, g.tolist()))
    data_loss = stepper.data_loss
    accuracy = correct / n if correct is not None else None
    history.append(Point(step, loss, accuracy))
    if progress is not None and not interrupted:
        progress(step, total, loss, accuracy)
    return Run(model, schedule, params, grads, loss, data_loss, accuracy, correct, history,
               step, seconds, final.copy(), interrupted)


def _rng_after_init(model: Model) -> random.Random:
    """The generator as prepare() left it: the random starting values drawn."""
    rng = random.Random(model.seed)
    for _ in model.randomized:
        rng.uniform(-0.5, 0.5)
    return rng


def _penalty(reg: float, reg_on: Sequence[str], params: Mapping[str, float]) -> float:
    return 0.5 * reg * sum(params[p] * params[p] for p in reg_on) if reg else 0.0


class _Stepper:
    """One step's arithmetic over the compiled circuit: parameters as one vector `p`."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.data_loss = math.nan  # the last run()'s mean loss over its rows
        self.compiled = Compiled(model.circuit, wrt=model.params)
        self.param_rows = self.compiled.rows(model.params)
        self.feature_rows = self.compiled.rows(model.features)
        self.X = np.array([model.data.values[name] for name in model.features], dtype=float)
        chosen = set(model.reg_on) if model.reg else set()
        self.reg_idx = np.array([k for k, name in enumerate(model.params) if name in chosen],
                                dtype=np.intp)

    def scores(self, p, rows, step: int):
        """The output over the batch `rows` (None: all rows) at parameters p, and the values."""
        m = self.X.shape[1] if rows is None else len(rows)
        V = self.compiled.values(m)
        V[self.param_rows] = p[:, None]
        V[self.feature_rows] = self.X if rows is None else self.X[:, rows]
        self.compiled.forward(V)
        s = V[self.compiled.output]
        if not np.all(np.isfinite(s)):
            k = int(np.flatnonzero(~np.isfinite(s))[0])
            r = k if rows is None else int(rows[k])
            raise _row_error(self.model, dict(zip(self.model.params, p.tolist())), r, step,
                             float(s[k]))
        return s, V

    def penalty(self, p) -> float:
        """reg/2 * sum of p**2 over the reg-on parameters."""
        if not self.reg_idx.size:
            return 0.0
        chosen = p[self.reg_idx]
        return 0.5 * self.model.reg * float(chosen @ chosen)

    def run(self, p, rows, y, step: int):
        """Forward and backward over a batch: (objective, rows right, dJ/dp vector, scores)."""
        model = self.model
        s, V = self.scores(p, rows, step)
        m = y.shape[0]
        with np.errstate(all="ignore"):
            losses, slope = loss_and_slope(model.loss, s, y)
            G = self.compiled.backward(V, slope / m)
            g = G[self.param_rows].sum(axis=1)
            if self.reg_idx.size:
                g[self.reg_idx] += model.reg * p[self.reg_idx]
        if not np.all(np.isfinite(g)):
            k = int(np.flatnonzero(~np.isfinite(g))[0])
            raise _diverged(model, step, f"the gradient of {model.params[k]} is {g[k]}")
        with np.errstate(all="ignore"):
            # kept apart: total minus penalty would leave rounding dust (-8.7e-19) at 0
            self.data_loss = float(np.mean(losses))
            loss = self.data_loss + self.penalty(p)
        if not math.isfinite(loss):
            raise _diverged(model, step, f"the loss is {loss}")
        correct = int(np.sum(np.where(s > 0, 1.0, -1.0) == y)) if model.classify else None
        return loss, correct, g, s

    def point(self, p, y, step: int) -> Point:
        """Loss and accuracy over every row (a forward only)."""
        model = self.model
        s, _ = self.scores(p, None, step)
        with np.errstate(all="ignore"):
            losses, _ = loss_and_slope(model.loss, s, y)
            loss = float(np.mean(losses)) + self.penalty(p)
        if not math.isfinite(loss):
            raise _diverged(model, step, f"the loss is {loss}")
        acc = float(np.mean(np.where(s > 0, 1.0, -1.0) == y)) if model.classify else None
        return Point(step, loss, acc)


def _row_error(model: Model, params: Mapping[str, float], r: int, step: int,
               value: float) -> CircuitError:
    """Re-run the bad row with plain floats, so a domain error points at its node."""
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
