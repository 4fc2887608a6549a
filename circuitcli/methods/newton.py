"""The notebook's step, with curvature: a Newton step x + δ, H δ = -∇f.

Where the output curves down in every direction (the Hessian's eigenvalues all negative),
the Newton step jumps to the top of the local quadratic: uphill, as the notebook wants
(with --minimize: curving up, to the bottom). Elsewhere it would head for a minimum or a
saddle, so it is refused, in words; a singular Hessian (flat along a direction) has no
Newton step, and is refused too. Damping (Levenberg: H - λI uphill, H + λI downhill)
makes a nearly flat Hessian usable; the step is then halved until the output improves
(at most 30 times). numpy solves and finds the eigenvalues (imported here only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.evaluate import evaluate, forward
from ..core.lazy import lazy
from ..core.syntax import CircuitError
from .derivatives import hessian_of
from .strategies import Strategy

np = lazy("numpy")

if TYPE_CHECKING:
    from ..core.circuit import Circuit

__all__ = ["NewtonRun", "newton", "newton_strategy"]

_HALVINGS = 30


@dataclass
class NewtonRun:
    circuit: Circuit
    minimize: bool
    damping: float
    moving: list[str]
    before: dict[str, float]
    after: dict[str, float]
    grads: dict[str, float]  # at the start
    steps: list[dict[str, float]]  # δ of each step taken (after halving)
    history: list[float]  # the output at the start and after each step
    eigenvalues: list[float] | None  # the (damped) Hessian's, at the start, over `moving`
    scales: list[float]  # the factor each Newton step was halved to
    asked: int
    forward_passes: int = 0
    backward_passes: int = 0
    refused: str | None = None  # why no (further) step was taken
    kinks: list[str] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return len(self.steps)


def _one(circuit: Circuit, values: dict[str, float], names: list[str], minimize: bool,
         damping: float) -> tuple[dict[str, float] | None, dict[str, float], list[float] | None,
                                  str | None, int]:
    """(δ or None, gradient, eigenvalues, refusal, forward passes used): one Newton step."""
    grad, H = hessian_of(circuit, values)
    index = {name: k for k, name in enumerate(circuit.inputs)}
    sub = [index[n] for n in names]
    g = np.array([grad[k] for k in sub])
    h = np.array([[H[r][k] for k in sub] for r in sub], dtype=float)
    h = (h + h.T) / 2
    gradient = {n: grad[index[n]] for n in names}
    passes = len(circuit.inputs)
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
        return None, gradient, None, "the Hessian or the gradient has inf or nan entries", passes
    sign = 1.0 if minimize else -1.0
    h = h + sign * damping * np.eye(len(names))
    eig = [float(v) for v in np.linalg.eigvalsh(h)] if len(names) else []
    big = max((abs(v) for v in eig), default=0.0)
    if not names:
        return None, gradient, eig, "no input is free to move (see --freeze and --only)", passes
    if not np.any(g):
        return None, gradient, eig, "the gradient is 0: this is already a stationary point", passes
    tiny = 1e-12 * big
    if big == 0 or any(abs(v) <= tiny for v in eig):
        return None, gradient, eig, (
            "the Hessian is singular (flat along a direction): the Newton step is undefined "
            "there; --damping L (L > 0) makes it usable"), passes
    wrong = [v for v in eig if (v < 0 if minimize else v > 0)]
    if wrong:
        way = "up" if not minimize else "down"
        goal = "a maximum" if not minimize else "a minimum"
        return None, gradient, eig, (
            f"the output curves {way} along {len(wrong)} direction{'s' * (len(wrong) != 1)} "
            f"(eigenvalue{'s' * (len(wrong) != 1)} {', '.join(f'{v:.3g}' for v in wrong)}): "
            f"a Newton step heads for the point where the gradient is 0, which here is not "
            f"{goal}; take a gradient step (circuit step), or damp with --damping L above "
            f"{max(abs(v) for v in wrong):.3g}"), passes
    delta = np.linalg.solve(h, -g)
    return {n: float(d) for n, d in zip(names, delta)}, gradient, eig, None, passes


def newton(circuit: Circuit, values: Mapping[str, float], steps: int = 1,
           minimize: bool = False, damping: float = 0.0, moving: Sequence[str] | None = None
           ) -> NewtonRun:
    """`steps` Newton steps from `values` (each halved until the output improves); stops at
    the first refusal, keeping the values reached."""
    names = list(circuit.inputs) if moving is None else list(moving)
    first = evaluate(circuit, values)  # names a domain error at the start (exit 2)
    labels = circuit.labels_of(list(first.kinks))
    kinks = [f"{labels[i]}: {note}" for i, note in first.kinks.items()]
    out = circuit.output
    v = dict(values)
    history = [first.values[out]]
    run = NewtonRun(circuit, minimize, damping, names, dict(values), dict(values), {}, [],
                    history, None, [], steps, kinks=kinks)
    better = (lambda a, b: a < b) if minimize else (lambda a, b: a > b)
    for k in range(steps):
        delta, grads, eig, why, passes = _one(circuit, v, names, minimize, damping)
        run.forward_passes += passes
        run.backward_passes += passes
        if k == 0:
            run.grads, run.eigenvalues = grads, eig
        if delta is None:
            run.refused = why
            break
        scale = 1.0
        for _ in range(_HALVINGS):
            new = {**v, **{n: v[n] + scale * d for n, d in delta.items()}}
            run.forward_passes += 1
            try:
                reached = forward(circuit, new)[out]
            except CircuitError:
                reached = math.nan
            if reached == reached and better(reached, history[-1]):
                break
            scale /= 2
        else:
            run.refused = (f"step {k + 1}: no fraction of the Newton step (down to 2^-"
                           f"{_HALVINGS}) improves the output")
            break
        v = new
        run.steps.append({n: scale * d for n, d in delta.items()})
        run.scales.append(scale)
        history.append(reached)
    run.after = v
    return run


def newton_strategy(circuit: Circuit, values: Mapping[str, float], minimize: bool,
                    moving: Sequence[str]):
    """compare's fourth row: one Newton step, its passes (n forward and n backward passes
    over dual numbers for the Hessian, plus the forward passes that choose the step's
    length) and its time."""
    run = newton(circuit, values, 1, minimize, 0.0, list(moving))  # warm: numpy imported
    t0 = time.perf_counter()
    newton(circuit, values, 1, minimize, 0.0, list(moving))
    seconds = time.perf_counter() - t0
    start = run.history[0]
    moved = math.sqrt(sum((run.after[n] - values[n]) ** 2 for n in moving))
    n = len(circuit.inputs)
    note = (f"refused: {run.refused}" if run.refused else
            f"Hessian from {n} Hessian-vector products (forward-over-reverse: {n} forward and "
            f"{n} backward passes over dual numbers)"
            + (f"; step halved to {run.scales[0]:g}" if run.scales and run.scales[0] != 1
               else ""))
    return Strategy("newton step", dict(run.after), run.history[-1], run.history[-1] - start,
                    run.forward_passes, run.backward_passes, seconds, note, moved)
