"""Forward and reverse-mode evaluation over a Circuit: data in, a Result out.

Forward runs the tape in order; backward runs it once in reverse, each gate
turning the pull from above into what each argument gets (its backward rule:
local derivative times pull, ordered to stay in range) and adding that into the
arguments' gradients (so a node used twice collects both). A node that nothing
reaches from the output is skipped; a node reached with a pull of 0 still runs
its rule, as the program `circuit code` prints does.
Nothing here prints; nothing here knows any gate by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .backend import REAL
from .syntax import CircuitError

if TYPE_CHECKING:  # circuit.py calls into this module; the import runs one way only
    from .circuit import Circuit

__all__ = ["Result", "backward", "evaluate", "forward"]

_MAX_WARNINGS = 8


@dataclass
class Result:
    """One evaluation: every node's value and (after backward) gradient."""

    circuit: Circuit
    values: list[float]
    grads: list[float] | None = None
    pull: float = 1.0
    kinks: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # nodes whose value or gradient is inf or nan, to flag in tables
    bad: set[int] = field(default_factory=set)

    @property
    def output(self) -> float:
        return self.values[self.circuit.output]

    @property
    def inputs(self) -> dict[str, float]:
        return {name: self.values[i] for name, i in self.circuit.inputs.items()}

    @property
    def input_grads(self) -> dict[str, float]:
        if self.grads is None:
            raise ValueError("this result has no gradients: call grad(), not forward()")
        return {name: self.grads[i] for name, i in self.circuit.inputs.items()}

    def value(self, name: str) -> float:
        return self.values[self.circuit.named[name]]

    def grad(self, name: str) -> float:
        if self.grads is None:
            raise ValueError("this result has no gradients: call grad(), not forward()")
        return self.grads[self.circuit.named[name]]


def forward(circuit: Circuit, values: Mapping[str, float], backend=REAL) -> list[float]:
    """Every node's value; a gate outside its domain raises CircuitError naming the node."""
    vals = circuit.base.copy()
    for name, i in circuit.inputs.items():
        vals[i] = values[name]
    args = circuit.args
    i = 0
    try:
        if backend is REAL:
            circuit.kinds()  # compiles the rules of the gates this tape has, once
            rules = [g.real_forward for g in circuit.gates]
            for i, a in enumerate(args):
                if a:
                    if len(a) == 2:
                        vals[i] = rules[i](vals[a[0]], vals[a[1]])
                    elif len(a) == 1:
                        vals[i] = rules[i](vals[a[0]])
                    else:
                        vals[i] = rules[i](*[vals[j] for j in a])
        else:
            gates = circuit.gates
            for i, a in enumerate(args):
                if a:
                    vals[i] = gates[i].forward(backend, *[vals[j] for j in a])
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(circuit, vals, i, exc) from None
    return vals


def backward(circuit: Circuit, vals: list[float], pull: float = 1.0, backend=REAL) -> list[float]:
    """One reverse sweep from the output, whose gradient is `pull`."""
    zero = 0.0
    grads = [zero] * len(vals)
    out = circuit.output
    grads[out] = pull
    args = circuit.args
    gates = circuit.gates
    if backend is not REAL:
        for i in range(out, -1, -1):
            g = grads[i]
            a = args[i]
            if a and g is not zero:
                for j, c in zip(a, gates[i].backward(backend, g, vals[i], *[vals[j] for j in a])):
                    grads[j] += c
        return grads
    circuit.kinds()
    rules = [gate.real_backward for gate in gates]
    for i in range(out, -1, -1):
        g = grads[i]
        a = args[i]
        if not a or g is zero:
            continue  # a leaf, or nothing reaches this node from the output
        if len(a) == 2:
            j, k = a
            c, d = rules[i](g, vals[i], vals[j], vals[k])
            grads[j] += c
            grads[k] += d
        elif len(a) == 1:
            grads[a[0]] += rules[i](g, vals[i], vals[a[0]])[0]
        else:
            for j, c in zip(a, rules[i](g, vals[i], *[vals[j] for j in a])):
                grads[j] += c
    return grads


def evaluate(circuit: Circuit, values: Mapping[str, float], pull: float = 1.0,
             with_grads: bool = True) -> Result:
    """Forward (and backward) at a point, with kinks and non-finite values noted."""
    vals = forward(circuit, values)
    result = Result(circuit, vals, pull=pull)
    gates, args, kinks = circuit.gates, circuit.args, result.kinks
    for i in circuit.kinkable:
        a = args[i]
        note = (gates[i].kink(vals[i], vals[a[0]]) if len(a) == 1
                else gates[i].kink(vals[i], *[vals[j] for j in a]))
        if note is not None:
            kinks[i] = note
    _flag_nonfinite(result, vals, "value")
    if with_grads:
        result.grads = backward(circuit, vals, pull)
        _flag_nonfinite(result, result.grads, "gradient")
        _flag_underflow(result)
    return result


_TINY = 2.2250738585072014e-308  # the smallest normal double


def _flag_underflow(result: Result) -> None:
    """Warn where a gradient fell below the normal double range (its digits are lost)."""
    circuit = result.circuit
    live, used = circuit.live, circuit.used()
    found = [i for i, v in enumerate(result.grads) if 0 < abs(v) < _TINY and live[i] and used[i]]
    labels = circuit.labels() if found else []
    for i in found[:_MAX_WARNINGS]:
        result.warnings.append(f"gradient of {labels[i]} = {circuit.formula(i)} underflows to "
                               f"{result.grads[i]!r}: below the double range, digits are lost")


def _flag_nonfinite(result: Result, numbers: list[float], what: str) -> None:
    """Warn where inf or nan first appears (not at every node downstream of it)."""
    total = sum(numbers)
    if total - total == 0:
        return  # every number is finite: no need to look at each node
    circuit = result.circuit
    isfinite = math.isfinite
    live = circuit.live
    found = 0
    for i, v in enumerate(numbers):
        if v - v == 0 or (not live[i] and what != "value"):
            continue  # finite (inf - inf and nan - nan are nan), or a constant's gradient
        result.bad.add(i)
        if what == "value" and any(not isfinite(numbers[j]) for j in circuit.args[i]):
            continue  # inherited from an argument, which is where the warning went
        found += 1
        if found <= _MAX_WARNINGS:
            kind = "nan" if v != v else "inf" if v > 0 else "-inf"
            label = circuit.label(i)
            result.warnings.append(f"{what} of {label} = {circuit.formula(i)} is {kind}")
    if found > _MAX_WARNINGS:
        result.warnings.append(
            f"... and {found - _MAX_WARNINGS} more nodes whose {what} is not finite")


def _domain_error(circuit: Circuit, vals: list[float], i: int, exc: Exception) -> CircuitError:
    """`log(q): argument is -3 at node q = x - y`, pointing at node i in the source."""
    gate = circuit.gates[i]
    xs = [vals[j] for j in circuit.args[i]]
    problem = gate.problem(*xs) if gate.problem is not None else None
    if problem is None:
        problem = f"cannot be computed at {', '.join(f'{x:.6g}' for x in xs)} ({exc})"
    labels = circuit.labels()
    where = [f"{labels[j]} = {circuit.formula(j)}" for j in circuit.args[i] if circuit.args[j]]
    # "argument is -3" + " at node q = x - y" + "; log needs a positive number"
    what, _, why = problem.partition("; ")
    tail = f" at node {where[0]}" if where else ""
    why = f"; {why}" if why else ""
    return CircuitError(f"{circuit.formula(i)}: {what}{tail}{why}", circuit.text,
                        circuit.starts[i], circuit.ends[i], circuit.source)
