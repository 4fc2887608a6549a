"""Every derivative of a circuit, not just the gradient: forward mode, Jacobians, Hessians.

All of it comes from the gate table's one set of rules, run over dual numbers
(core/dual.py):
- forward mode: the forward rules over duals carry each node's tangent (d node / d t
  along a direction) in one pass;
- a Jacobian: one reverse sweep per output or one forward pass per input, whichever
  needs fewer passes;
- a Hessian-vector product H v: the forward rules over duals along v, then the backward
  rules over duals (forward-over-reverse); the pull's tangent at each input is (H v)_k.
  The Hessian is n of them, one per input direction.
Nothing here writes a derivative of a gate. numpy is imported only for the eigenvalues.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.backend import REAL
from ..core.dual import DUAL, Dual, lift
from ..core.dual_rules import lowered
from ..core.evaluate import Result, evaluate
from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.syntax import CircuitError, suggest

np = lazy("numpy")

# the full Hessian carries one tangent per input at every node, several arrays of
# nodes x inputs doubles: 3,000 inputs over 9,000 nodes took 0.8 GB and 46 s (issue 24).
# Past this many node-tangents it is refused; --hvp gives H v at the cost of one gradient.
HESSIAN_LIMIT = 16_000_000

if TYPE_CHECKING:
    from ..core.circuit import Circuit

__all__ = [
    "Curvature",
    "Hessian",
    "Jacobian",
    "Tangents",
    "adjoint_pass",
    "classify",
    "dual_values",
    "forward_mode",
    "hessian",
    "hessian_of",
    "hvp",
    "jacobian",
    "mode_costs",
    "parse_direction",
    "reverse_sweep",
    "snap",
    "tangent_pass",
]


# ---- sweeps ------------------------------------------------------------------------------


def dual_values(circuit: Circuit, values: Mapping[str, float],
                direction: Mapping[str, float]) -> list[Dual]:
    """Every node as a dual number: its value and its tangent along `direction` (one pass
    of the forward rules over duals)."""
    vals: list[Any] = [Dual(b, 0.0) for b in circuit.base]
    for name, i in circuit.inputs.items():
        vals[i] = Dual(float(values[name]), float(direction.get(name, 0.0)))
    gates = circuit.gates
    for i, a in enumerate(circuit.args):
        if a:
            vals[i] = lift(gates[i].forward(DUAL, *[vals[j] for j in a]))
    return vals


def reverse_sweep(circuit: Circuit, vals: Sequence, out: int, pull: Any = 1.0,
                  backend: Any = REAL) -> list:
    """One reverse sweep from node `out` (any node, not only the circuit's output), over
    floats or duals. A pull of exactly 0 (value and tangent) passes back exactly 0."""
    dual = backend is DUAL
    zero: Any = Dual(0.0, 0.0) if dual else 0.0
    grads: list[Any] = [zero] * len(vals)
    grads[out] = lift(pull) if dual else pull
    gates, args = circuit.gates, circuit.args
    for i in range(out, -1, -1):
        g = grads[i]
        a = args[i]
        if not a or g is zero:
            continue
        if (g.v == 0 and g.t == 0) if dual else g == 0:
            continue
        pulls = gates[i].backward(backend, g, vals[i], *[vals[j] for j in a])
        for j, c in zip(a, pulls):
            grads[j] = grads[j] + (lift(c) if dual else c)
    return grads


def tangent_pass(circuit: Circuit, values: Mapping[str, float],
                 direction: Mapping[str, float]) -> tuple[list[float], list[float]]:
    """(values, tangents) of every node along `direction`: dual_values' numbers, from the
    rules lowered to float code (core/dual_rules.py) where a gate has a lowering, over
    Dual objects where it has none or where a float operation raised."""
    vals: list[float] = list(circuit.base)
    tans: list[float] = [0.0] * len(vals)
    for name, i in circuit.inputs.items():
        vals[i] = float(values[name])
        tans[i] = float(direction.get(name, 0.0))
    gates, a0, a1 = circuit.gates, circuit.a0, circuit.a1
    rules = {g: lowered(g) for g in set(gates)}
    args = circuit.args
    for i, gate in enumerate(gates):
        j = a0[i]
        if j < 0:
            continue
        k = a1[i]
        found = rules[gate]
        if found is not None:
            try:
                if k >= 0:
                    vals[i], tans[i] = found[0](vals[j], tans[j], vals[k], tans[k])
                else:
                    vals[i], tans[i] = found[0](vals[j], tans[j])
                continue
            except (ArithmeticError, ValueError):
                pass
        d = lift(gate.forward(DUAL, *[Dual(vals[t], tans[t]) for t in args[i]]))
        vals[i], tans[i] = d.v, d.t
    return vals, tans


def adjoint_pass(circuit: Circuit, vals: Sequence[float], tans: Sequence[float], out: int
                 ) -> tuple[list[float], list[float]]:
    """The backward rules over pairs from node `out` (pull 1): every node's gradient and
    its tangent (with tangents from `tangent_pass` along v, the tangents at the inputs
    are H v). A pull of exactly 0, tangent too, passes back exactly 0."""
    n = len(vals)
    G = [0.0] * n
    T = [0.0] * n
    G[out] = 1.0
    gates, a0, a1 = circuit.gates, circuit.a0, circuit.a1
    rules = {g: lowered(g) for g in set(gates)}
    args = circuit.args
    for i in range(out, -1, -1):
        j = a0[i]
        gv = G[i]
        gt = T[i]
        if j < 0 or (gv == 0 and gt == 0):
            continue
        k = a1[i]
        found = rules[gates[i]]
        if found is not None:
            try:
                if k >= 0:
                    pv, pt, qv, qt = found[1](gv, gt, vals[i], tans[i], vals[j], tans[j],
                                              vals[k], tans[k])
                    G[j] += pv
                    T[j] += pt
                    G[k] += qv
                    T[k] += qt
                else:
                    pv, pt = found[1](gv, gt, vals[i], tans[i], vals[j], tans[j])
                    G[j] += pv
                    T[j] += pt
                continue
            except (ArithmeticError, ValueError):
                pass
        a = args[i]
        pulls = gates[i].backward(DUAL, Dual(gv, gt), Dual(vals[i], tans[i]),
                                  *[Dual(vals[t], tans[t]) for t in a])
        for t, c in zip(a, pulls):
            c = lift(c)
            G[t] += c.v
            T[t] += c.t
    return G, T


def _node(circuit: Circuit, name: str | None) -> int:
    if name is None:
        return circuit.output
    if name in circuit.named:
        return circuit.named[name]
    # the names the tables show for unnamed gates (add1, out): what a reader types next
    shown = {label: i for i, label in reversed(list(enumerate(circuit.labels())))}
    if name in shown and circuit.args[shown[name]]:
        return shown[name]
    raise CircuitError(f"--of {name}: the circuit has no node named {name}"
                       + (suggest(name, [*circuit.named, *shown]) or ""))


# ---- forward mode ------------------------------------------------------------------------


@dataclass
class Tangents:
    """Forward mode at a point: every node's value and its tangent along `direction`."""

    result: Result  # the float evaluation (values, gradients, kinks, warnings)
    direction: dict[str, float]
    tangents: list[float]
    costs: str  # a line on what each mode costs on this circuit


def mode_costs(circuit: Circuit) -> str:
    n = len(circuit.inputs)
    each = "1 pass" if n == 1 else f"{n} passes"
    every = "the input's gradient" if n == 1 else f"all {n} input gradients"
    return (f"reverse mode gives {every} in 1 forward + 1 backward pass; "
            f"forward mode gives one direction per pass ({each} for the whole gradient)")


def forward_mode(circuit: Circuit, values: Mapping[str, float],
                 direction: Mapping[str, float], pull: float = 1.0) -> Tangents:
    """One forward pass carrying tangents along `direction` ({input: component})."""
    for name in direction:
        if name not in circuit.inputs:
            circuit.values_for({name: 0.0})  # the loader's own error, did-you-mean and all
    result = evaluate(circuit, values, pull=pull)  # names a domain error, flags kinks
    _, tangents = tangent_pass(circuit, values, direction)
    full = {name: float(direction.get(name, 0.0)) for name in circuit.inputs}
    bad = [i for i, t in enumerate(tangents) if not math.isfinite(t)
           and circuit.live[i] and math.isfinite(result.values[i])]
    if bad:
        labels = circuit.labels_around(bad[:1])
        result.warnings.append(f"tangent of {labels[bad[0]]} = {circuit.formula(bad[0], labels)}"
                               f" is {tangents[bad[0]]!r}"
                               + (f" (and {len(bad) - 1} more nodes)" if len(bad) > 1 else ""))
    return Tangents(result, full, tangents, mode_costs(circuit))


# ---- the Jacobian ------------------------------------------------------------------------


@dataclass
class Jacobian:
    outputs: list[str]
    inputs: list[str]
    rows: list[list[float]]  # rows[i][k] = d outputs[i] / d inputs[k]
    mode: str  # "forward" or "reverse"
    why: str
    values: list[float]
    warnings: list[str] = field(default_factory=list)


def jacobian(circuit: Circuit, values: Mapping[str, float], outputs: Sequence[str],
             mode: str | None = None) -> Jacobian:
    """d outputs / d inputs, by the mode that needs fewer passes (ties: reverse)."""
    nodes = [_node(circuit, name) for name in outputs]
    inputs = list(circuit.inputs)
    m, n = len(nodes), len(inputs)
    result = evaluate(circuit, values, with_grads=False)
    asked = mode is not None
    if mode is None:
        mode = "reverse" if m <= n else "forward"
    if asked:
        other = (f"reverse mode would need one backward sweep per output ({m})"
                 if mode == "forward" else
                 f"forward mode would need one forward pass per input ({n})")
        passes = n if mode == "forward" else m
        why = (f"{mode} mode, as asked: {passes} pass{'es' * (passes != 1)} "
               f"({'one per input' if mode == 'forward' else 'one backward sweep per output'}); "
               + other)
    if mode == "reverse":
        if not asked:
            why = (f"reverse mode: {m} output{'s' * (m != 1)}, {n} input{'s' * (n != 1)}: "
                   f"one backward sweep per output ({m} sweep{'s' * (m != 1)}) needs no more "
                   f"passes than one forward pass per input ({n})")
        rows = []
        for i in nodes:
            grads = reverse_sweep(circuit, result.values, i)
            rows.append([grads[circuit.inputs[name]] for name in inputs])
    else:
        if not asked:
            why = (f"forward mode: {n} input{'s' * (n != 1)}, {m} outputs: one forward pass "
                   f"per input ({n}) needs fewer passes than one backward sweep per output "
                   f"({m})")
        cols = []
        for name in inputs:
            _, tans = tangent_pass(circuit, values, {name: 1.0})
            cols.append([tans[i] for i in nodes])
        rows = [[cols[k][r] for k in range(n)] for r in range(m)]
    return Jacobian(list(outputs), inputs, rows, mode, why,
                    [result.values[i] for i in nodes], list(result.warnings))


# ---- the Hessian -------------------------------------------------------------------------


def hvp(circuit: Circuit, values: Mapping[str, float], direction: Mapping[str, float],
        out: int | None = None) -> tuple[list[float], list[float]]:
    """(gradient, H v) at the inputs, in the order of circuit.inputs: forward-over-reverse,
    without forming H."""
    out = circuit.output if out is None else out
    vals, tans = tangent_pass(circuit, values, direction)
    G, T = adjoint_pass(circuit, vals, tans, out)
    ins = circuit.inputs.values()
    return [G[i] for i in ins], [T[i] for i in ins]


def _entry(T: Any, k: int) -> float:
    return float(T[k]) if getattr(T, "ndim", 0) else float(T)


def vector_tangents(circuit: Circuit, values: Mapping[str, float], directions: Any
                    ) -> tuple[list[float], list[Any]]:
    """(values, tangents) with n tangents per node at once (`directions`: an n-column numpy
    array per input, rows in the order of circuit.inputs): the rules lowered in vector
    mode, a node without a lowering (or whose float code raised) run over Dual objects
    one direction at a time."""
    n = directions.shape[1]
    vals: list[float] = list(circuit.base)
    tans: list[Any] = [0.0] * len(vals)
    for row, (name, i) in enumerate(circuit.inputs.items()):
        vals[i] = float(values[name])
        tans[i] = np.array(directions[row], dtype=float)
    gates, a0, a1 = circuit.gates, circuit.a0, circuit.a1
    rules = {g: lowered(g, vector=True) for g in set(gates)}
    args = circuit.args
    for i, gate in enumerate(gates):
        j = a0[i]
        if j < 0:
            continue
        k = a1[i]
        found = rules[gate]
        if found is not None:
            try:
                if k >= 0:
                    vals[i], tans[i] = found[0](vals[j], tans[j], vals[k], tans[k])
                else:
                    vals[i], tans[i] = found[0](vals[j], tans[j])
                continue
            except (ArithmeticError, ValueError):
                pass
        column = np.zeros(n)
        for d in range(n):
            r = lift(gate.forward(DUAL, *[Dual(vals[t], _entry(tans[t], d)) for t in args[i]]))
            column[d] = r.t
        vals[i], tans[i] = r.v, column
    return vals, tans


def vector_adjoint(circuit: Circuit, vals: Sequence[float], tans: Sequence[Any], out: int,
                   n: int) -> tuple[list[float], list[Any]]:
    """adjoint_pass with n tangents per node: the gradient, and at the inputs H times each
    direction."""
    size = len(vals)
    G = [0.0] * size
    T: list[Any] = [0.0] * size
    G[out] = 1.0
    T[out] = np.zeros(n)
    gates, a0, a1 = circuit.gates, circuit.a0, circuit.a1
    rules = {g: lowered(g, vector=True) for g in set(gates)}
    args = circuit.args
    for i in range(out, -1, -1):
        j = a0[i]
        gv = G[i]
        gt = T[i]
        if j < 0 or (gv == 0 and not np.any(gt)):
            continue
        k = a1[i]
        found = rules[gates[i]]
        if found is not None:
            try:
                if k >= 0:
                    pv, pt, qv, qt = found[1](gv, gt, vals[i], tans[i], vals[j], tans[j],
                                              vals[k], tans[k])
                    G[j] += pv
                    T[j] = T[j] + pt
                    G[k] += qv
                    T[k] = T[k] + qt
                else:
                    pv, pt = found[1](gv, gt, vals[i], tans[i], vals[j], tans[j])
                    G[j] += pv
                    T[j] = T[j] + pt
                continue
            except (ArithmeticError, ValueError):
                pass
        a = args[i]
        columns = [np.zeros(n) for _ in a]
        firsts = [0.0] * len(a)
        for d in range(n):
            pulls = gates[i].backward(DUAL, Dual(gv, _entry(gt, d)),
                                      Dual(vals[i], _entry(tans[i], d)),
                                      *[Dual(vals[t], _entry(tans[t], d)) for t in a])
            for slot, c in enumerate(pulls):
                c = lift(c)
                firsts[slot] = c.v
                columns[slot][d] = c.t
        for slot, t in enumerate(a):
            G[t] += firsts[slot]
            T[t] = T[t] + columns[slot]
    return G, T


def hessian_of(circuit: Circuit, values: Mapping[str, float], out: int | None = None
               ) -> tuple[list[float], list[list[float]]]:
    """(gradient, H): n Hessian-vector products, one per input direction, carried side by
    side in one forward and one backward pass over dual numbers with n tangents (vector
    mode); H as computed, unsymmetrised (the second-order check reads both halves). Row r,
    column k is d/d input_k of d out / d input_r."""
    out = circuit.output if out is None else out
    n = len(circuit.inputs)
    if n == 0:
        return [], []
    if n * len(circuit) > HESSIAN_LIMIT:
        raise CircuitError(
            f"too big for the full Hessian: {n:,} inputs at each of {len(circuit):,} nodes "
            f"is {n * len(circuit):,} tangents to carry, above the limit of "
            f"{HESSIAN_LIMIT:,} that fits in reasonable time and memory; circuit hessian "
            "--hvp NAME=V gives the product along one direction without the matrix")
    with np.errstate(all="ignore"):  # inf and nan are results here, not accidents
        vals, tans = vector_tangents(circuit, values, np.eye(n))
        G, T = vector_adjoint(circuit, vals, tans, out, n)
    ins = list(circuit.inputs.values())
    return [G[i] for i in ins], [[_entry(T[i], k) for k in range(n)] for i in ins]


@dataclass
class Curvature:
    """What the eigenvalues say, in a word and a sentence."""

    kind: str  # "maximum", "minimum", "saddle", "flat" or "unknown"
    text: str


def classify(eigenvalues: Sequence[float] | None, gradient: Sequence[float]) -> Curvature:
    """Max, min, saddle or flat, in plain words. An eigenvalue counts as 0 when it is below
    rounding size against the largest (64 ulps of it)."""
    if eigenvalues is None:
        return Curvature("unknown", "the Hessian has inf or nan entries: no eigenvalues")
    if not eigenvalues:
        return Curvature("flat", "the circuit has no inputs: nothing to curve along")
    big = max(abs(v) for v in eigenvalues)
    tol = 64 * 2.0**-52 * big
    up = sum(1 for v in eigenvalues if v > tol)
    down = sum(1 for v in eigenvalues if v < -tol)
    flat = len(eigenvalues) - up - down
    stationary = all(g == 0 for g in gradient)

    def point(shape: str, name: str) -> str:
        if stationary:
            return f"{shape}: the gradient is 0 here, so this is {name}"
        return (f"{shape} here (the gradient is not 0, so this is not a stationary point; "
                f"where it is 0, this curvature makes {name})")

    flat_note = f", flat along {flat}" if flat and (up or down) else ""
    if up and down:
        return Curvature("saddle", point(f"the output curves up along {up} direction"
                                         f"{'s' * (up != 1)} and down along {down}{flat_note}",
                                         "a saddle"))
    if down or up:
        way, name = ("down", "a local maximum") if down else ("up", "a local minimum")
        if flat:
            return Curvature("maximum" if down else "minimum", point(
                f"the output curves {way} along {down or up} direction"
                f"{'s' * ((down or up) != 1)}{flat_note}",
                f"{name} or a flat valley (the Hessian alone cannot tell)"))
        return Curvature("maximum" if down else "minimum",
                         point(f"the output curves {way} in every direction", name))
    return Curvature("flat", "every eigenvalue is 0: the output does not curve here "
                     "(flat or straight to second order in every direction)")


def snap(eigenvalues: Sequence[float]) -> list[float]:
    """Eigenvalues within rounding of 0 (64 ulps of the largest) are 0: numpy's -8e-17 for
    (x+y)*z's flat direction is rounding, not a curve."""
    big = max((abs(v) for v in eigenvalues), default=0.0)
    tol = 64 * 2.0**-52 * big
    return [0.0 if abs(v) <= tol else v for v in eigenvalues]


@dataclass
class Hessian:
    """The second derivatives of one output at a point, or one Hessian-vector product."""

    result: Result  # the float evaluation (value, gradient, kinks, warnings)
    output: str
    value: float
    inputs: list[str]
    gradient: list[float]
    matrix: list[list[float]] | None = None
    eigenvalues: list[float] | None = None
    curvature: Curvature | None = None
    direction: dict[str, float] | None = None
    product: list[float] | None = None  # H v, with --hvp
    warnings: list[str] = field(default_factory=list)


def hessian(circuit: Circuit, values: Mapping[str, float], of: str | None = None,
            direction: Mapping[str, float] | None = None) -> Hessian:
    """The Hessian (symmetric, with eigenvalues and what they mean), or with `direction`
    only H v."""
    out = _node(circuit, of)
    result = evaluate(circuit, values)
    names = list(circuit.inputs)
    warnings = list(result.warnings)
    h = Hessian(result, circuit.label(out), result.values[out], names, [])
    if direction is not None:
        for name in direction:
            if name not in circuit.inputs:
                circuit.values_for({name: 0.0})
        h.direction = {name: float(direction.get(name, 0.0)) for name in names}
        h.gradient, h.product = hvp(circuit, values, h.direction, out)
    else:
        h.gradient, raw = hessian_of(circuit, values, out)
        n = len(names)
        h.matrix = [[_mean(raw[r][k], raw[k][r]) for k in range(n)] for r in range(n)]
        finite = all(math.isfinite(v) for row in h.matrix for v in row)
        if finite:
            h.eigenvalues = snap([float(v) for v in
                                  np.linalg.eigvalsh(np.array(h.matrix, float))]) if n else []
        else:
            warnings.append("the Hessian has entries that are inf or nan: no eigenvalues")
        h.curvature = classify(h.eigenvalues, h.gradient)
    numbers = h.product if h.product is not None else [v for row in h.matrix or [] for v in row]
    if any(not math.isfinite(v) for v in numbers) and h.product is not None:
        warnings.append("the Hessian-vector product has entries that are inf or nan")
    if result.kinks:
        warnings.append("the circuit is at a kink (see kinks): second derivatives there use "
                        "the slope of the branch the rule takes, and are not to be trusted")
    h.warnings = warnings
    return h


def _mean(a: float, b: float) -> float:
    """(a + b) / 2 without overflow; forward-over-reverse gives a and b equal up to
    rounding."""
    if a == b:
        return a
    return a / 2 + b / 2


def parse_direction(items: Sequence[str], option: str = "--direction") -> dict[str, float]:
    """`("x=1", "y=-0.5")` -> {"x": 1.0, "y": -0.5}, for --direction and --hvp; finite
    numbers only, each name once (the names are checked against the circuit later)."""
    found: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        number = parse_number(text.strip()) if eq else None
        if not eq or not name.isidentifier():
            raise CircuitError(f"{option} {item}: give NAME=VALUE, such as {option} x=1",
                               item, 0, len(item))
        if number is None:
            raise CircuitError(f"{option} {item}: the value must be a finite number",
                               item, len(name) + 1, len(item))
        if name in found:
            raise CircuitError(f"{option}: {name} is given twice")
        found[name] = number
    return found


# ---- the forward-mode story (explain --forward) ------------------------------------------


@dataclass
class ForwardStep:
    """One gate in forward mode: the tangents coming in, its local derivatives, and the
    tangent going out (what the rules over duals computed: the sum of local × tangent in)."""

    node: int
    args: tuple[int, ...]
    tangents_in: list[float]
    local: list[float]
    tangent: float


def forward_story(circuit: Circuit, values: Mapping[str, float],
                  direction: Mapping[str, float]) -> tuple[Tangents, list[ForwardStep]]:
    """Forward mode, node by node in tape order, for every gate the inputs reach."""
    t = forward_mode(circuit, values, direction)
    vals = t.result.values
    steps = []
    for i, a in enumerate(circuit.args):
        if not a or not circuit.live[i]:
            continue
        xs = [vals[j] for j in a]
        local = list(circuit.gates[i].backward(REAL, 1.0, vals[i], *xs))
        steps.append(ForwardStep(i, tuple(a), [t.tangents[j] for j in a], local,
                                 t.tangents[i]))
    return t, steps
