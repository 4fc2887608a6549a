"""The notebook's three ways to make a circuit's output higher, as plain functions.

Strategy 1, random local search: try small random nudges, keep the best (`search`).
Strategy 2, the numerical gradient: probe each input by h, one forward pass each.
Strategy 3, the analytic gradient: one forward and one backward pass (`step`).
`compare` runs all three from the same point with the same step size. Everything
here returns data; nothing prints.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..core.circuit import Circuit
from ..core.evaluate import backward, evaluate, forward
from ..core.syntax import CircuitError, suggest

__all__ = ["Comparison", "Interrupted", "SearchRun", "StepRun", "Strategy", "compare",
           "moving_inputs", "numerical_gradient", "search", "step"]

Progress = Callable[[int], None]  # called with the number of steps (or tries) done so far


def moving_inputs(circuit: Circuit, freeze: Iterable[str] = (), only: Iterable[str] = ()
                  ) -> list[str]:
    """The inputs a step may move: all of them, less --freeze, or just --only."""
    freeze, only = list(freeze), list(only)
    for name in (*freeze, *only):
        if name not in circuit.inputs:
            what = ("is computed by the circuit, not an input" if name in circuit.named
                    else "is not an input of the circuit")
            hint = suggest(name, circuit.inputs) or f"; inputs: {', '.join(circuit.inputs)}"
            raise CircuitError(f"{name} {what}{hint}")
    if only:
        return [name for name in circuit.inputs if name in only]
    return [name for name in circuit.inputs if name not in freeze]


def _finite(x: float) -> bool:
    return x - x == 0  # false for inf and nan


# -- strategy 3: steps along the analytic gradient ----------------------------------------
@dataclass
class StepRun:
    """Steps from `before` to `after`; `grads` is the gradient at `before`."""

    circuit: Circuit
    lr: float
    minimize: bool
    moving: list[str]
    before: dict[str, float]
    grads: dict[str, float]
    after: dict[str, float]
    final_grads: dict[str, float]  # the gradient at `after`
    history: list[float]  # the output before any step, then after each step taken
    asked: int
    kinks: list[str] = field(default_factory=list)  # kinks met at the starting point
    stop: str | None = None  # why it stopped before taking every step asked for
    interrupted: bool = False  # Ctrl-C stopped it; `after` is the point reached
    gradient: str = "analytic"  # or "numerical": forward differences with step h
    h: float | None = None

    @property
    def taken(self) -> int:
        return len(self.history) - 1


def step(circuit: Circuit, values: Mapping[str, float], lr: float = 0.01, steps: int = 1,
         minimize: bool = False, moving: list[str] | None = None, tol: float = 0.0,
         progress: Progress | None = None, h: float | None = None) -> StepRun:
    """`x = x + lr * df/dx` for every moving input, `steps` times (minus with `minimize`).

    Each step costs one forward and one backward pass; with `h` the gradient is the
    numerical one instead (strategy 2: forward differences, one forward pass per input).
    It stops early, keeping the last finite point, when a gradient or the output turns
    inf or nan, when a step leaves a gate's domain, or when every moving gradient is at
    most `tol` in size. Ctrl-C keeps the steps taken so far.
    """
    names = list(circuit.inputs) if moving is None else list(moving)
    index = circuit.inputs
    out = circuit.output
    first = evaluate(circuit, values)  # raises (exit 2) if the start itself is out of domain
    labels = circuit.labels()
    kinks = [f"{labels[i]} = {circuit.formula(i)}: {note}" for i, note in first.kinks.items()]
    v = dict(values)
    vals = first.values

    def gradient_at(point: Mapping[str, float], point_vals: list[float]) -> dict[str, float]:
        if h is not None:
            return numerical_gradient(circuit, point, h, list(index), point_vals[out])[0]
        node_grads = backward(circuit, point_vals)
        return {name: node_grads[i] for name, i in index.items()}

    assert first.grads is not None
    grads = (gradient_at(v, vals) if h is not None
             else {name: first.grads[i] for name, i in index.items()})
    start_grads = grads
    history = [vals[out]]
    interrupted = False
    stop = None
    if not _finite(vals[out]):
        stop = f"the output is {vals[out]} at the start, so there is no way uphill"
    every = max(1, steps // 200)
    taken = 0
    try:
        for k in range(1, steps + 1 if stop is None else 1):
            g = {name: grads[name] for name in names}
            bad = next((name for name in names if not _finite(g[name])), None)
            if bad is not None:
                stop = (f"the gradient of {bad} is {g[bad]} after {k - 1} steps; the values "
                        "are the last finite ones")
                break
            if not names:
                stop = "no input is free to move (see --freeze and --only)"
                break
            if all(abs(x) <= tol for x in g.values()):
                limit = "0" if tol == 0 else f"at most --tol {tol:g}"
                stop = (f"every gradient is {limit} after {k - 1} steps: nothing left to "
                        + ("descend" if minimize else "climb"))
                break
            new = dict(v)
            if minimize:
                for name in names:
                    new[name] = v[name] - lr * g[name]
            else:
                for name in names:
                    new[name] = v[name] + lr * g[name]
            try:
                new_vals = forward(circuit, new)
            except CircuitError as err:
                stop = f"step {k} would leave a gate's domain ({err.message}); {_kept(k)}"
                break
            bad = next((name for name in names if not _finite(new[name])), None)
            if bad is not None or not _finite(new_vals[out]):
                what = f"{bad} {new[bad]}" if bad is not None else f"the output {new_vals[out]}"
                stop = f"step {k} would make {what}; {_kept(k)}"
                break
            new_grads = gradient_at(new, new_vals)
            v, vals, grads, taken = new, new_vals, new_grads, k  # one commit
            history.append(vals[out])
            if progress is not None and k % every == 0:
                progress(k)
    except KeyboardInterrupt:  # Ctrl-C in a long run: keep the steps taken so far
        # the last commit holds; the history gets its entry if the signal fell just before
        if len(history) == taken:
            history.append(vals[out])
        stop = f"interrupted after {taken} steps; the values are those reached"
        interrupted = True
    if progress is not None:
        progress(len(history) - 1)
    return StepRun(circuit, lr, minimize, names, dict(values), start_grads, v, dict(grads),
                   history, steps, kinks, stop, interrupted,
                   "analytic" if h is None else "numerical", h)


def _kept(k: int) -> str:
    if k == 1:
        return "the values stay where they were"
    return f"the values are those after step {k - 1}"


# -- strategy 1: random local search ------------------------------------------------------
@dataclass
class SearchRun:
    """The best of `tries` random nudges within +-tweak of every moving input."""

    circuit: Circuit
    tweak: float
    tries: int
    minimize: bool
    moving: list[str]
    seed: int | None
    start: dict[str, float]
    start_output: float
    best: dict[str, float]
    best_output: float
    failed: int = 0  # tries outside a gate's domain or with a nan output
    done: int = 0  # tries made: fewer than `tries` when Ctrl-C stopped the search
    interrupted: bool = False

    @property
    def gain(self) -> float:
        return self.best_output - self.start_output

    @property
    def improved(self) -> bool:
        if self.minimize:
            return self.best_output < self.start_output
        return self.best_output > self.start_output


def search(circuit: Circuit, values: Mapping[str, float], tweak: float = 0.01, tries: int = 100,
           seed: int | None = None, minimize: bool = False, moving: list[str] | None = None,
           progress: Progress | None = None) -> SearchRun:
    """The notebook's random search: `x_try = x + tweak * (random() * 2 - 1)` per input.

    As in the notebook, the best try is kept even when no try beats the start (the gain
    then comes out negative). Draws go input by input in the circuit's order, so a seed
    gives the same numbers as the notebook's loop run with `random.seed(seed)`.
    """
    names = list(circuit.inputs) if moving is None else list(moving)
    out = circuit.output
    start_output = forward(circuit, values)[out]
    rng = random.Random(seed)
    draw = rng.random
    sign = -1.0 if minimize else 1.0
    best: dict[str, float] | None = None
    best_score = -math.inf
    best_output = math.nan
    failed = 0
    every = max(1, tries // 200)
    done, interrupted = 0, False
    try:
        for k in range(1, tries + 1):
            attempt = dict(values)
            for name in names:
                attempt[name] = values[name] + tweak * (draw() * 2 - 1)
            try:
                output = forward(circuit, attempt)[out]
            except CircuitError:
                output = math.nan  # outside a gate's domain: a failed try, as nan is
            done = k
            if output != output:
                failed += 1
            elif sign * output > best_score or best is None:
                best, best_score, best_output = attempt, sign * output, output
            if progress is not None and k % every == 0:
                progress(k)
    except KeyboardInterrupt:  # Ctrl-C: the best of the tries made so far
        interrupted = True
    if best is None:  # every try failed: nothing better than where we stand
        best, best_output = dict(values), start_output
    return SearchRun(circuit, tweak, tries, minimize, names, seed, dict(values), start_output,
                     best, best_output, failed, done, interrupted)


# -- strategy 2: the numerical gradient -----------------------------------------------------
def numerical_gradient(circuit: Circuit, values: Mapping[str, float], h: float = 1e-5,
                       names: list[str] | None = None, base: float | None = None
                       ) -> tuple[dict[str, float], int]:
    """Forward differences `(f(x+h) - f(x)) / h`, one input at a time, as the notebook does.

    Returns the gradient and the forward passes it used. Where x+h leaves a gate's
    domain the backward difference `(f(x) - f(x-h)) / h` is used instead.
    """
    out = circuit.output
    names = list(circuit.inputs) if names is None else names
    passes = 0
    if base is None:
        base = forward(circuit, values)[out]
        passes += 1
    grad: dict[str, float] = {}
    for name in names:
        probe = dict(values)
        probe[name] = values[name] + h
        passes += 1
        try:
            grad[name] = (forward(circuit, probe)[out] - base) / h
        except CircuitError:
            probe[name] = values[name] - h
            passes += 1
            grad[name] = (base - forward(circuit, probe)[out]) / h
    return grad, passes


# -- all three, side by side ------------------------------------------------------------
@dataclass
class Strategy:
    """One strategy's result: where it took the output, at what cost."""

    name: str
    inputs: dict[str, float]
    output: float
    gain: float
    forward: int  # forward passes used to choose the new inputs
    backward: int  # backward passes used to choose them
    seconds: float  # the fastest of several timed runs
    note: str = ""
    moved: float = 0.0  # how far the inputs moved: the Euclidean length of the change

    @property
    def per_unit(self) -> float:
        """The gain per unit moved: fair between strategies whose steps differ in length."""
        return self.gain / self.moved if self.moved > 0 else math.nan


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a strategy; the message says what it had reached (exit 130)."""

    def __init__(self, reached: str) -> None:
        super().__init__(reached)
        self.reached = reached


@dataclass
class Comparison:
    """The three strategies from one starting point, in the notebook's order."""

    circuit: Circuit
    lr: float
    tries: int
    h: float
    minimize: bool
    start: dict[str, float]
    start_output: float
    strategies: list[Strategy]
    gradient_error: float  # largest |numerical - analytic| over the moving inputs
    tweak: float = 0.0  # random search's radius


def _timed(run: Callable[[], object], budget: float = 0.05, cap: int = 1000
           ) -> tuple[object, float]:
    """The result of run() and its fastest time over repeats that fit in `budget` seconds."""
    t0 = time.perf_counter()
    result = run()
    best = time.perf_counter() - t0
    repeats = min(cap, int(budget / best) if best > 0 else cap)
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return result, best


def compare(circuit: Circuit, values: Mapping[str, float], lr: float = 0.01, tries: int = 100,
            h: float = 1e-5, seed: int | None = None, minimize: bool = False,
            moving: list[str] | None = None, tweak: float | None = None) -> Comparison:
    """Random search (nudges within +-tweak, default lr), a numerical-gradient step and an
    analytic step.

    Each strategy's gain is measured from the same starting output, and so is how far it
    moved the inputs: the gain per unit moved is the fair comparison, since a random try
    within ±tweak moves further than a gradient step of lr·|gradient| when the gradient is
    small. The passes counted are those it needs to choose its new inputs (measuring the
    output they reach is one more forward pass for the two gradient steps, not counted).
    """
    tweak = lr if tweak is None else tweak
    names = list(circuit.inputs) if moving is None else list(moving)
    out = circuit.output
    start_output = forward(circuit, values)[out]
    sign = -1.0 if minimize else 1.0

    def nudge(grad: Mapping[str, float]) -> dict[str, float]:
        new = dict(values)
        for name in names:
            new[name] = values[name] + sign * lr * grad[name]
        return new

    def output_at(point: Mapping[str, float]) -> float:
        try:
            return forward(circuit, point)[out]
        except CircuitError:
            return math.nan

    strategies = []
    def moved(point: Mapping[str, float]) -> float:
        # hypot, not sqrt(sum of squares): a move of 1e200 is 1e200, not an OverflowError
        return math.hypot(*(point[n] - values[n] for n in names))

    def searched() -> SearchRun:
        run = search(circuit, values, tweak, tries, seed, minimize, names)
        if run.interrupted:  # search keeps its best on Ctrl-C; compare stops there
            raise Interrupted(f"random search stopped after {run.done} of {tries} tries "
                              f"(best output {run.best_output:.6g}); the gradient steps "
                              "were not run and nothing was compared")
        return run

    found, seconds = _timed(searched)
    assert isinstance(found, SearchRun)
    note = f"{found.failed} tries out of the domain" if found.failed else ""
    if not found.improved:
        note = "no try beat the start" + (f"; {note}" if note else "")
    strategies.append(Strategy("random search", found.best, found.best_output, found.gain,
                               tries, 0, seconds, note, moved(found.best)))

    (numeric, passes), seconds = _timed(lambda: numerical_gradient(circuit, values, h, names))
    point = nudge(numeric)
    reached = output_at(point)
    strategies.append(Strategy("numerical gradient", point, reached, reached - start_output,
                               passes, 0, seconds, f"forward differences, h = {h:g}",
                               moved(point)))

    def analytic() -> Sequence[float]:
        return backward(circuit, forward(circuit, values))

    grads, seconds = _timed(analytic)
    exact = {name: grads[circuit.inputs[name]] for name in names}
    point = nudge(exact)
    reached = output_at(point)
    strategies.append(Strategy("analytic gradient", point, reached, reached - start_output,
                               1, 1, seconds, "chain rule, exact", moved(point)))
    error = max((abs(numeric[n] - exact[n]) for n in names), default=0.0)
    return Comparison(circuit, lr, tries, h, minimize, dict(values), start_output, strategies,
                      error, tweak)
