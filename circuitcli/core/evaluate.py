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
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, not_
from types import SimpleNamespace

from .backend import REAL
from .circuit import Circuit
from .lazy import lazy
from .rules import problem_argument
from .syntax import CircuitError

# big tapes only: the compiled loops, and numpy for a look at every node's number
sweep = lazy("circuitcli.core.sweep")
np = lazy("numpy")
mpmath = lazy("mpmath")

__all__ = ["Evaluable", "Result", "backward", "evaluate", "forward", "mp_backend"]

_MAX_WARNINGS = 8


@dataclass
class Result:
    """One evaluation: every node's value and (after backward) gradient."""

    circuit: Circuit
    values: Sequence[float]  # an array('d') over floats, a list over other backends
    grads: Sequence[float] | None = None
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


class Evaluable(Circuit):
    """A Circuit with the library's shorthand for running it: what `parse` returns.

    The tape itself (core/circuit.py) knows nothing of evaluation; these two methods are
    `evaluate` at the circuit's defaults overridden by keyword values.
    """

    def forward(self, **values: float) -> Result:
        """Values of every node at these inputs (defaults fill the rest)."""
        return evaluate(self, self.values_for(values), with_grads=False)

    def grad(self, pull: float = 1.0, **values: float) -> Result:
        """Forward, then one reverse sweep whose output gradient is `pull`."""
        return evaluate(self, self.values_for(values), pull=pull)


def forward(circuit: Circuit, values: Mapping[str, float], backend=REAL) -> Sequence:
    """Every node's value; a gate outside its domain raises CircuitError naming the node.

    Over floats the values are an array('d'), 8 bytes a node; other backends get a list.
    """
    if backend is not REAL:
        vals = list(circuit.base)
        for name, i in circuit.inputs.items():
            vals[i] = values[name]
        gates = circuit.gates
        i = 0
        try:
            for i, a in enumerate(circuit.args):
                if a:
                    vals[i] = gates[i].forward(backend, *[vals[j] for j in a])
        except (ArithmeticError, ValueError) as exc:
            raise _domain_error(circuit, vals, i, exc) from None
        return vals
    vals = circuit.base[:]
    for name, i in circuit.inputs.items():
        vals[i] = values[name]
    if len(circuit) >= SWEEP_FROM:
        try:
            sweep.sweeps(circuit)[0](vals, circuit.gates, circuit.a0, circuit.a1, circuit.more)
            return vals
        except (ArithmeticError, ValueError):
            pass  # the rule-by-rule loop below finds the node and says what is wrong
    _forward_by_rules(circuit, vals)
    return vals


# tapes this long run the loops compiled in core/sweep.py; shorter ones call each gate's
# rule, which compiles nothing (a small expression starts at once)
SWEEP_FROM = 4096


def _forward_by_rules(circuit: Circuit, vals: array) -> None:
    # the rules of the gates this tape has, compiled once
    by_gate = {g: g.real_forward for g in circuit.kinds()}
    rules = list(map(by_gate.__getitem__, circuit.gates))
    more = circuit.more
    i = 0
    try:
        for i, rule, j, k in zip(range(len(rules)), rules, circuit.a0, circuit.a1):
            if j >= 0:
                if k >= 0:
                    vals[i] = rule(vals[j], vals[k])
                elif k == -1:
                    vals[i] = rule(vals[j])
                else:
                    vals[i] = rule(*[vals[t] for t in more[i]])
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(circuit, vals, i, exc) from None


def backward(circuit: Circuit, vals: Sequence, pull: float = 1.0, backend=REAL) -> Sequence:
    """One reverse sweep from the output, whose gradient is `pull`.

    Every node the output depends on runs its rule, even one whose pull came to 0 (as the
    program `circuit code` prints does); the others keep gradient 0.
    """
    out = circuit.output
    if backend is not REAL:
        zero = 0.0
        grads = [zero] * len(vals)
        grads[out] = pull
        args = circuit.args
        gates = circuit.gates
        for i in range(out, -1, -1):
            g = grads[i]
            a = args[i]
            if a and g is not zero:
                for j, c in zip(a, gates[i].backward(backend, g, vals[i], *[vals[j] for j in a])):
                    grads[j] += c
        return grads
    grads = array("d", [0.0]) * len(vals)  # made in place: no zero bytes copied in
    grads[out] = pull
    gates, a0, a1, more = circuit.gates, circuit.a0, circuit.a1, circuit.more
    if len(circuit) >= SWEEP_FROM:
        reached = bytearray(len(vals))
        reached[out] = 1
        sweep.sweeps(circuit)[1](vals, grads, gates, a0, a1, more, reached, out)
        if circuit._used is None:
            circuit._used = reached  # the same answer, found on the way
        return grads
    used = circuit.used()
    by_gate = {g: g.real_backward for g in circuit.kinds()}
    rules = list(map(by_gate.__getitem__, gates))
    for i in range(out, -1, -1):
        j = a0[i]
        if j < 0 or not used[i]:
            continue  # a leaf, or nothing reaches this node from the output
        rule = rules[i]
        k = a1[i]
        g = grads[i]
        if k >= 0:
            c, d = rule(g, vals[i], vals[j], vals[k])
            grads[j] += c
            grads[k] += d
        elif k == -1:
            grads[j] += rule(g, vals[i], vals[j])[0]
        else:
            for t, c in zip(more[i], rule(g, vals[i], *[vals[t] for t in more[i]])):
                grads[t] += c
    return grads


def evaluate(circuit: Circuit, values: Mapping[str, float], pull: float = 1.0,
             with_grads: bool = True) -> Result:
    """Forward (and backward) at a point, with kinks and non-finite values noted."""
    vals = forward(circuit, values)
    result = Result(circuit, vals, pull=pull)
    gates, a0, a1, kinks = circuit.gates, circuit.a0, circuit.a1, result.kinks
    candidates = circuit.kinkable
    if len(circuit) >= SWEEP_FROM:  # the conditions in one compiled loop; notes for hits
        candidates = sweep.sweeps(circuit)[2](vals, gates, a0, a1, circuit.more, candidates)
    kink_of = {g: g.kink for g in circuit.kinds() if g.kink_rule} if candidates else {}
    for i in candidates:
        k = a1[i]
        kink = kink_of[gates[i]]
        note = (kink(vals[i], vals[a0[i]]) if k == -1
                else kink(vals[i], vals[a0[i]], vals[k]) if k >= 0
                else kink(vals[i], *[vals[j] for j in circuit.more[i]]))
        if note is not None:
            kinks[i] = note
    _flag_nonfinite(result, vals, "value")
    _flag_value_underflow(result, vals)
    if with_grads:
        result.grads = backward(circuit, vals, pull)
        _flag_nonfinite(result, result.grads, "gradient")
        _flag_underflow(result)
        _flag_zero_underflow(result)
    return result


_TINY = 2.2250738585072014e-308  # the smallest normal double


def _flag_underflow(result: Result) -> None:
    """Warn where a gradient fell below the normal double range (its digits are lost)."""
    circuit = result.circuit
    grads = result.grads
    # one pass at C speed: the smallest nonzero magnitude (nan makes min unreliable, so a
    # nan, which the non-finite check reports anyway, sends us to the node-by-node look)
    smallest = min(map(abs, filter(None, grads)), default=1.0)
    if smallest >= _TINY:
        return
    live, used = circuit.live, circuit.used()
    if len(grads) >= _NUMPY_FROM:  # a big tape: the few nodes found at array speed
        view = np.frombuffer(grads, float)
        tiny = _below_normal(view)
        tiny &= view != 0
        candidates = np.flatnonzero(tiny).tolist()
        del view
    else:
        candidates = [i for i, v in enumerate(grads) if 0 < abs(v) < _TINY]
    found = [i for i in candidates if live[i] and used[i]]
    _warn(result, found, lambda i, labels: f"gradient of {labels[i]} = "
          f"{circuit.formula(i, labels)} underflows to {grads[i]!r}: below the double range,"
          " digits are lost")


def _flag_zero_underflow(result: Result) -> None:
    """Warn where a gradient underflows to exactly 0: a node whose pull is not 0 hands an
    argument a product too small for a double (x * 1e-200 * 1e-200 at x = 1e300: d/dx is
    1e-400), so the argument's gradient is 0 where the truth is not. A gate that passes its
    pull on unchanged or not at all (add, relu, max, ...) cannot do that; for the others the
    contribution is asked again with a pull of 2**1000 (pulls are linear in g): not 0 there
    means the 0 was an underflow, not a flat slope."""
    circuit = result.circuit
    grads = result.grads
    if 0.0 not in grads:
        return
    vals = result.values
    gates, a0, a1, live = circuit.gates, circuit.a0, circuit.a1, circuit.live
    if len(grads) >= _NUMPY_FROM:  # a big tape: the few consumers found at array speed
        view = np.frombuffer(grads, float)
        first = np.frombuffer(a0, np.int32)
        second = np.frombuffer(a1, np.int32)
        zero = view == 0
        hit = (first >= 0) & (view != 0) & np.isfinite(view) & (
            zero[np.maximum(first, 0)] | ((second >= 0) & zero[np.maximum(second, 0)]))
        consumers = np.flatnonzero(hit).tolist()
        del view
    else:
        # at C speed: a byte per node, 1 where its gradient is 0; each gate's arguments'
        # bytes gathered (a leaf's -1 reads the extra 0 at the end; a gate of more
        # arguments, a1 -2, is left out below) and combined as big integers, so a byte is 1
        # where an argument's gradient is 0 and the gate's own is not
        zero = bytes(map(not_, grads)) + b"\0"
        n = len(grads)
        if n < 2:
            return  # one node: no gate
        first = int.from_bytes(bytes(itemgetter(*a0)(zero)), "little")
        second = int.from_bytes(bytes(itemgetter(*a1)(zero)), "little")
        hit = ((first | second) & ~int.from_bytes(zero[:n], "little")).to_bytes(n, "little")
        consumers = [i for i in compress(range(circuit.output + 1), hit)
                     if grads[i] - grads[i] == 0]
        if not consumers:
            return
    used = circuit.used()
    exact = {gate: _exact_at_zero(gate) for gate in circuit.kinds()}
    found: list[int] = []
    for i in consumers:
        gate = gates[i]
        if not used[i] or a1[i] < -1 or exact[gate]:
            continue
        xs = [vals[a0[i]]] if a1[i] == -1 else [vals[a0[i]], vals[a1[i]]]
        probe = math.copysign(2.0 ** 1000, grads[i])
        try:
            again = gate.real_backward(probe, vals[i], *xs)
        except (ArithmeticError, ValueError):
            continue
        for j, c in zip(circuit.args[i], again):
            if grads[j] == 0 and live[j] and c != 0 and j not in found:
                found.append(j)
    if not found:
        return
    found.sort()
    _warn(result, found, lambda i, labels: f"gradient of {labels[i]} = "
          f"{circuit.formula(i, labels)} underflows to 0: "
          "a contribution too small for a double, every digit is lost", "whose gradient "
          "underflows to 0")


# from this many nodes, a look at every node's number is done by numpy (imported then)
_NUMPY_FROM = 200_000


def _flag_value_underflow(result: Result, vals: Sequence[float]) -> None:
    """Warn where a value first falls below the normal double range: a subnormal from
    normal arguments (its low digits are gone), or 0 from non-zero finite ones (all of
    them are). Downstream nodes inherit the loss and are not named again."""
    circuit = result.circuit
    a0, a1, more = circuit.a0, circuit.a1, circuit.more
    if len(vals) >= _NUMPY_FROM:  # a big tape: the few candidates found at array speed
        candidates = _tiny_candidates(circuit, vals)
    else:
        # one pass at C speed each: are there subnormals (nan makes min unreliable, and the
        # non-finite check has flagged it: then look), are there zeros at all?
        smallest = min(map(abs, filter(None, vals)), default=1.0)
        if smallest >= _TINY and not result.bad and 0.0 not in vals:
            return
        candidates = [i for i in compress(range(len(vals)), map(_TINY.__gt__, map(abs, vals)))
                      if a0[i] >= 0]
    # a 0 of a gate that picks an argument or 0, or sums with slopes of 1 and -1, is exact
    exact = {g for g in circuit.kinds() if _exact_at_zero(g)}
    gates = circuit.gates
    found = []
    for i in candidates:
        if gates[i] in exact and vals[i] == 0:
            continue  # relu(-1), x - x: most of a big tape's zeros
        k = a1[i]
        xs = ([vals[a0[i]]] if k == -1 else [vals[a0[i]], vals[k]] if k >= 0
              else [vals[j] for j in more[i]])
        if any(abs(x) < _TINY or x - x != 0 for x in xs):
            continue  # inherited from an argument (0, subnormal, inf or nan)
        if vals[i] == 0 and not _underflowed(circuit.gates[i], xs):
            continue  # an exact 0: x - x, relu(-1), log(1)
        found.append(i)

    def say(i: int, labels: dict[int, str]) -> str:
        v = vals[i]
        where = f"value of {labels[i]} = {circuit.formula(i, labels)}"
        if v == 0:
            return (f"{where} underflows to 0 from non-zero arguments: every digit is lost, "
                    "and everything computed from it")
        lost = math.ulp(0.0) / abs(v)
        return (f"{where} underflows to {v!r}: below the normal double range, digits are "
                f"lost (relative error up to {lost:.0e})")

    _warn(result, found, say, "whose value underflows")


def _tiny_candidates(circuit: Circuit, vals) -> list[int]:
    """Gate nodes whose value is 0 or subnormal while their first two arguments are not,
    leaving out the zeros of gates that pick an argument or 0 (relu of a negative: most of
    a big tape's zeros), all at array speed."""
    view = np.frombuffer(vals, float)
    tiny = _below_normal(view)
    picking = circuit.kinkable
    if any(g.kink is not None and not g.seam for g in circuit.kinds()):
        picking = [i for i in picking if circuit.gates[i].seam]  # pow's 0 ** 0 is a point
    if picking:
        at = np.array(picking, dtype=np.int64)
        tiny[at] &= view[at] != 0
    idx = np.flatnonzero(tiny)
    if not len(idx):
        return []
    first = np.frombuffer(circuit.a0, np.int32)[idx]
    second = np.frombuffer(circuit.a1, np.int32)[idx]
    keep = first >= 0
    # an argument that is itself 0 or subnormal: the loss was inherited, not made here
    keep &= ~(np.abs(view[np.maximum(first, 0)]) < _TINY)
    keep &= ~((second >= 0) & (np.abs(view[np.maximum(second, 0)]) < _TINY))
    return idx[keep].tolist()


def _below_normal(view):
    """Whether each number is 0 or subnormal, one block at a time: no temporary array of
    8 bytes a node adds to a big run's peak memory."""
    tiny = np.empty(len(view), bool)
    for low in range(0, len(view), 1 << 16):
        block = view[low:low + (1 << 16)]
        np.less(np.abs(block), _TINY, out=tiny[low:low + len(block)])
    return tiny


def _underflowed(gate, xs: list[float]) -> bool:
    """Whether a 0 that the gate computed from non-zero finite arguments is an underflow.

    A gate that picks an argument or 0 (one with a seam: relu, abs, max, min) computes
    exactly, and so does a sum with slopes of 1 and -1 (IEEE's gradual underflow makes a
    sum that rounds to 0 exactly 0); anything else is asked at 30 digits, in mpmath
    (imported only here, where a 0 appears that none of these explains)."""
    if _exact_at_zero(gate):
        return False
    with mpmath.workdps(30):
        try:
            exact = gate.forward(mp_backend(), *[mpmath.mpf(x) for x in xs])
            return bool(exact != 0)
        except Exception:  # a rule mpmath cannot run: a warning too many beats a crash
            return True


def _exact_at_zero(gate) -> bool:
    """A gate that picks an argument or 0, or sums with slopes of 1 and -1: a 0 it makes is
    exact (IEEE's gradual underflow makes a sum that rounds to 0 exactly 0)."""
    if gate.kink is not None and gate.seam:
        return True
    return gate.slopes is not None and all(abs(s) == 1 for s in gate.slopes)


_MP = None


def mp_backend():
    """The gate primitives over mpmath numbers (at mpmath's working precision): the exact
    look `_underflowed` takes, and `check`'s high-precision slope of one gate."""
    global _MP
    if _MP is None:
        # every primitive REAL has (a new one runs as its float self), the smooth ones exact
        _MP = SimpleNamespace(**{k: v for k, v in vars(REAL).items() if callable(v)})
        vars(_MP).update(
            name="mpmath", exp=mpmath.exp, log=mpmath.log, sqrt=mpmath.sqrt,
            tanh=mpmath.tanh, sin=mpmath.sin, cos=mpmath.cos, floor=mpmath.floor,
            pow=REAL.power, inf=mpmath.inf, nan=mpmath.nan,
            where=lambda c, a, b: a if c else b,
            gt=lambda x, y: x > y, ge=lambda x, y: x >= y, lt=lambda x, y: x < y,
            le=lambda x, y: x <= y, eq=lambda x, y: x == y, ne=lambda x, y: x != y,
            both=lambda x, y: x and y, either=lambda x, y: x or y)
    return _MP


def _warn(result: Result, nodes: list[int], say, more: str = "") -> None:
    """The first few of these nodes' warnings (labels found in one pass), then a count."""
    shown = nodes[:_MAX_WARNINGS]
    labels = result.circuit.labels_around(shown)
    result.warnings.extend(say(i, labels) for i in shown)
    if more and len(nodes) > _MAX_WARNINGS:
        result.warnings.append(f"... and {len(nodes) - _MAX_WARNINGS} more nodes {more}")


def _flag_nonfinite(result: Result, numbers: Sequence[float], what: str) -> None:
    """Warn where inf or nan first appears (not at every node downstream of it)."""
    total = sum(numbers)
    if total - total == 0:
        return  # every number is finite: no need to look at each node
    circuit = result.circuit
    isfinite = math.isfinite
    live, args = circuit.live, circuit.args
    found = []
    for i, v in enumerate(numbers):
        if v - v == 0 or (not live[i] and what != "value"):
            continue  # finite (inf - inf and nan - nan are nan), or a constant's gradient
        result.bad.add(i)
        if what == "value" and any(not isfinite(numbers[j]) for j in args[i]):
            continue  # inherited from an argument, which is where the warning went
        found.append(i)

    def say(i: int, labels: dict[int, str]) -> str:
        v = numbers[i]
        kind = "nan" if v != v else "inf" if v > 0 else "-inf"
        return f"{what} of {labels[i]} = {circuit.formula(i, labels)} is {kind}"

    _warn(result, found, say, f"whose {what} is not finite")


def _domain_error(circuit: Circuit, vals: list[float], i: int, exc: Exception) -> CircuitError:
    """`log(q): argument is -3 at node q = x - y`, pointing at node i in the source."""
    gate = circuit.gates[i]
    xs = [vals[j] for j in circuit.args[i]]
    problem = gate.problem(*xs) if gate.problem is not None else None
    if problem is None:
        problem = f"cannot be computed at {', '.join(f'{x:.6g}' for x in xs)} ({exc})"
    args = circuit.args[i]
    labels = circuit.labels_around([i, *args])
    k = problem_argument(gate, *xs) if gate.problems else None
    named = args if k is None else [args[k]]  # the argument the problem is about, if known
    where = [f"{labels[j]} = {circuit.formula(j, labels)}" for j in named if circuit.args[j]]
    # "argument is -3" + " at node q = x - y" + "; log needs a positive number"
    what, _, why = problem.partition("; ")
    tail = f" at node {where[0]}" if where else ""
    why = f"; {why}" if why else ""
    return CircuitError(f"{circuit.formula(i, labels)}: {what}{tail}{why}", circuit.text,
                        circuit.starts[i], circuit.ends[i], circuit.source)
