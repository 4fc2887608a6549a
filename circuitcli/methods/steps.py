"""`circuit check --sweep-h` as data: each method's error against the step h.

A difference quotient has two errors pulling h in opposite directions: truncation (the
curve is not a line over the step: about C·h^order) and rounding (the values' last digits,
divided by h: about eps·M/h). On a log-log plot their sum is a V; its bottom is the best
step, and the default step is chosen to sit near it. Here every method runs at every step
of a grid, and each estimate is compared with a reference: sympy's exact derivative
where it has a number, else complex-step (which has no rounding arm), else the analytic
gradient (said so). Nothing here prints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.circuit import Circuit
from ..core.evaluate import Result, evaluate
from . import symbolic
from .numeric import METHODS, derivatives, magnitude

__all__ = ["Curve", "InputSweep", "StepSweep", "sweep_steps"]

# the grid: 10 ** LOW ... 10 ** HIGH, PER_DECADE steps a decade
LOW, HIGH, PER_DECADE = -20, 0, 4


@dataclass
class Curve:
    """One method's errors along the grid, for one input."""

    method: str
    order: int
    # relative error |estimate - reference| / |reference| (absolute when the reference is 0)
    errors: list[float]
    # the method's own error estimates at each step (what `check` judges by)
    truncation: list[float]
    rounding: list[float]
    default_h: float
    default_error: float
    best_h: float
    best_error: float
    # log-log slopes left and right of the best step (about -1 and +order for a clean V)
    left_slope: float | None
    right_slope: float | None


@dataclass
class InputSweep:
    name: str
    node: int
    analytic: float
    reference: float
    # "sympy", "complex-step" or "analytic" (the last judges nothing: it is said so)
    reference_from: str
    relative: bool
    curves: list[Curve] = field(default_factory=list)


@dataclass
class StepSweep:
    circuit: Circuit
    result: Result
    steps: list[float]
    inputs: list[InputSweep]
    # the user's --h, marked on the plot
    h: float | None = None


def grid() -> list[float]:
    return [10.0 ** (LOW + k / PER_DECADE) for k in range((HIGH - LOW) * PER_DECADE + 1)]


def sweep_steps(circuit: Circuit, values: Mapping[str, float], use_sympy: bool = True,
                h: float | None = None) -> StepSweep:
    """Every method at every step of the grid, for every input, against a reference."""
    values = circuit.values_for(values)
    result = evaluate(circuit, values)
    vals = result.values
    grads = result.grads or []
    targets = list(circuit.inputs.values())
    names = list(circuit.inputs)
    scale = magnitude(circuit, vals, grads)
    refs: list[float | None] = [None] * len(targets)
    source = ["analytic"] * len(targets)
    if use_sympy:
        exact = symbolic.at_point(circuit, values, computed=vals)
        for k, t in enumerate(targets):
            if exact.grads[t] is not None and math.isfinite(exact.grads[t]):
                refs[k], source[k] = exact.grads[t], "sympy"
    if any(r is None for r in refs):
        complex_step = derivatives(circuit, vals, targets, "complex", scale=scale)
        for k, num in enumerate(complex_step):
            if refs[k] is None and math.isfinite(num.value) and num.how == "complex" \
                    and not num.crossed:
                refs[k], source[k] = num.value, "complex-step"
    for k, t in enumerate(targets):
        if refs[k] is None:
            refs[k] = grads[t]
    steps = grid()
    sweep = StepSweep(circuit, result, steps, [], h)
    for k, t in enumerate(targets):
        ref = refs[k]
        sweep.inputs.append(InputSweep(names[k], t, grads[t], ref, source[k],
                                       relative=ref != 0 and math.isfinite(ref)))
    for name, m in METHODS.items():
        per_step = [derivatives(circuit, vals, targets, name, h=s, scale=scale) for s in steps]
        default = derivatives(circuit, vals, targets, name, scale=scale)
        for k, t in enumerate(targets):
            row = sweep.inputs[k]
            errors = [_error(p[k].value, row.reference, row.relative) for p in per_step]
            best = min(range(len(steps)), key=lambda i: errors[i] if errors[i] == errors[i]
                       else math.inf)
            dh = float(m.step(vals[t]))
            row.curves.append(Curve(
                name, m.order, errors,
                [_relative(p[k].truncation, row) for p in per_step],
                [_relative(p[k].rounding, row) for p in per_step],
                default[k].step if default[k].step else dh,
                _error(default[k].value, row.reference, row.relative),
                steps[best], errors[best],
                _slope(steps, errors, best, left=True), _slope(steps, errors, best, left=False)))
    return sweep


def _error(estimate: float, reference: float, relative: bool) -> float:
    if not (math.isfinite(estimate) and math.isfinite(reference)):
        return math.inf
    diff = abs(estimate - reference)
    return diff / abs(reference) if relative else diff


def _relative(err: float, row: InputSweep) -> float:
    return err / abs(row.reference) if row.relative else err


def _slope(steps: list[float], errors: list[float], best: int, left: bool) -> float | None:
    """The least-squares slope of log error against log h on one arm of the V (the points
    at least a decade from its bottom, where one error dominates)."""
    lo, hi = (0, best - PER_DECADE) if left else (best + PER_DECADE, len(steps) - 1)
    pts = [(math.log10(steps[i]), math.log10(errors[i])) for i in range(lo, hi + 1)
           if 0 < errors[i] < math.inf]
    if len(pts) < 3:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None
