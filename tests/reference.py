"""An independent 50-digit reference for values and gradients, and a judge of our answers.

The reference walks our own Circuit tape (never a string, never sympify) with mpmath at
50 digits, using its own closed-form local derivatives per gate (written here, not taken
from the gate table's rules). `judge` then classifies what `grad` answered:

- ok: every input gradient within a few ulps times the condition number of the truth;
- undefined: the truth has no derivative there (a domain error, a kink or tie, 0 * inf that
  is not a flat zero, an infinite slope);
- out-of-range: a true value or gradient is outside the normal double range;
- ill-conditioned: off by more, but rounding of size eps at some node moves the truth that
  much (or across a kink or domain edge);
- wrong: well-conditioned, in range, and off;
- nan-where-finite: inf or nan (or a refusal) where the truth is finite and in range;
- error: an exception other than a CircuitError (an internal error).

The condition number is measured, not guessed: each node's value and each node's gradient
is nudged by a relative 1e-30 in turn and the change of every input gradient recorded, so
cancellation anywhere in the circuit counts. A gradient summed from several pulls is also
shifted by 1e-30 times the size of its terms: the sum's own rounding (g/z - g·1/z from
`z / z` cancels to 0, but a pull added to one of them first keeps only their ulp).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import mpmath as mp

import circuitcli
from circuitcli.core.circuit import Circuit
from circuitcli.core.gates import FUNCTIONS, GATES, OPERATORS
from circuitcli.core.syntax import CircuitError

EPS = 2.0**-52
TINY = 2.2250738585072014e-308
HUGE = 1.7976931348623157e308
# a few ulps per rounding, for every unit of condition
ULPS = 16


class Undefined(Exception):
    """The truth does not exist here (domain error, kink, undefined derivative)."""


class OutOfRange(Exception):
    """A true value is far past the double range (and mpmath would spend memory on it)."""


def _forward(name: str, xs: list):
    if name == "add":
        return xs[0] + xs[1]
    if name == "sub":
        return xs[0] - xs[1]
    if name == "mul":
        return xs[0] * xs[1]
    if name == "div":
        if xs[1] == 0:
            raise Undefined("division by zero")
        return xs[0] / xs[1]
    if name == "neg":
        return -xs[0]
    if name == "pow":
        x, y = xs
        if x < 0 and y != mp.floor(y):
            raise Undefined("negative base")
        if x == 0 and y < 0:
            raise Undefined("0 ** negative")
        if x == 0:
            return mp.mpf(1) if y == 0 else mp.mpf(0)
        return mp.power(x, y) if x > 0 else (-1) ** int(y % 2) * mp.power(-x, y)
    if name == "sigmoid":
        return 1 / (1 + mp.exp(-xs[0]))
    if name == "tanh":
        return mp.tanh(xs[0])
    if name == "relu":
        return xs[0] if xs[0] > 0 else mp.mpf(0)
    if name == "exp":
        return mp.exp(xs[0])
    if name == "log":
        if xs[0] <= 0:
            raise Undefined("log domain")
        return mp.log(xs[0])
    if name == "sqrt":
        if xs[0] < 0:
            raise Undefined("sqrt domain")
        return mp.sqrt(xs[0])
    if name == "abs":
        return abs(xs[0])
    if name == "sin":
        return mp.sin(xs[0])
    if name == "cos":
        return mp.cos(xs[0])
    if name == "max":
        return max(xs)
    if name == "min":
        return min(xs)
    raise KeyError(f"the reference has no gate {name}: add its closed forms here")


# a local derivative: a number, FLAT (exactly 0 on a neighbourhood: passes back 0 whatever
# the pull), or None (undefined)
FLAT = "flat"


def _partials(name: str, xs: list) -> list:
    """The local derivatives as functions of the arguments alone (so a nudge of this node's
    own value, in the condition estimate, does not move them)."""
    out = _forward(name, xs)
    if name in ("add",):
        return [1, 1]
    if name == "sub":
        return [1, -1]
    if name == "mul":
        return [FLAT if xs[1] == 0 else xs[1], FLAT if xs[0] == 0 else xs[0]]
    if name == "div":
        x, y = xs
        return [1 / y, FLAT if x == 0 else -x / y**2]
    if name == "neg":
        return [-1]
    if name == "pow":
        x, y = xs
        if y == 0:
            dx = FLAT
        elif x == 0:
            dx = mp.mpf(0) if y > 1 else (mp.mpf(1) if y == 1 else mp.inf)
        else:
            dx = y * out / x
        if x == 0 and y == 0:
            dy = None  # 0 ** y jumps from inf to 0
        elif x == 0 or x == 1:
            dy = FLAT
        elif x < 0:
            dy = None
        else:
            dy = out * mp.log(x)
        return [dx, dy]
    if name == "sigmoid":
        # not out * (1 - out): at 50 digits 1 - sigmoid(300) is 0, the slope e**-300
        e = mp.exp(-abs(xs[0]))
        return [e / (1 + e) ** 2]
    if name == "tanh":
        return [1 / mp.cosh(xs[0]) ** 2]  # not 1 - out**2, which cancels to 0 at 50 digits
    if name == "relu":
        if xs[0] == 0:
            return [None]
        return [mp.mpf(1) if xs[0] > 0 else FLAT]
    if name == "exp":
        return [out]
    if name == "log":
        return [1 / xs[0]]
    if name == "sqrt":
        return [mp.inf if out == 0 else 1 / (2 * out)]
    if name == "abs":
        if xs[0] == 0:
            return [None]
        return [mp.mpf(1) if xs[0] > 0 else mp.mpf(-1)]
    if name == "sin":
        return [mp.cos(xs[0])]
    if name == "cos":
        return [-mp.sin(xs[0])]
    if name in ("max", "min"):
        hits = [x == out for x in xs]
        if sum(hits) > 1:
            return [None] * len(xs)
        return [mp.mpf(1) if h else FLAT for h in hits]
    raise KeyError(name)


def _branches(name: str, out, xs: list) -> tuple:
    """Which piece a gate is on: a change under a tiny nudge means a kink is near."""
    if name in ("relu", "abs"):
        return (mp.sign(xs[0]),)
    if name in ("max", "min"):
        return tuple(x == out for x in xs)
    if name == "pow":
        return (mp.sign(xs[0]), mp.sign(xs[1]))
    return ()


@dataclass
class Sweep:
    values: list
    grads: dict  # input name -> gradient (mpf), None if undefined
    branches: list
    node_grads: list = field(default_factory=list)
    # per node: the sum of |each pull added into its gradient|, where two or more were added
    terms: dict = field(default_factory=dict)


def sweep(c: Circuit, point: dict, nudge_value: tuple[int, float] | None = None,
          nudge_grad: tuple[int, float] | None = None, shift_grad: tuple[int, float] | None = None
          ) -> Sweep:
    """Forward and backward at 50 digits over the tape; raises Undefined in the forward."""
    vals: list = []
    branches = []
    for i, (gate, args) in enumerate(zip(c.gates, c.args)):
        if c.is_input(i):
            v = mp.mpf(point[c.names[i]])
        elif not args:
            v = mp.mpf(c.base[i])
        else:
            xs = [vals[j] for j in args]
            if gate.name in ("exp", "sigmoid", "tanh", "pow") and any(abs(x) > 1e6 for x in xs):
                raise OutOfRange(gate.name)
            v = _forward(gate.name, xs)
            if v != 0 and not (mp.mpf(10) ** -1000 < abs(v) < mp.mpf(10) ** 1000):
                raise OutOfRange(gate.name)
            branches.append(_branches(gate.name, v, xs))
        if nudge_value is not None and nudge_value[0] == i:
            v = v * (1 + mp.mpf(nudge_value[1]))
        vals.append(v)
    used = c.used()
    grads: list = [mp.mpf(0)] * len(vals)
    undefined = [False] * len(vals)
    grads[c.output] = mp.mpf(1)
    size = [mp.mpf(0)] * len(vals)
    count = [0] * len(vals)
    for i in range(c.output, -1, -1):
        a = c.args[i]
        if nudge_grad is not None and nudge_grad[0] == i:
            grads[i] = grads[i] * (1 + mp.mpf(nudge_grad[1]))
        if shift_grad is not None and shift_grad[0] == i:
            grads[i] = grads[i] + mp.mpf(shift_grad[1])
        if not a or not used[i] or not c.live[i]:
            continue
        g, bad = grads[i], undefined[i]
        if g == 0 and not bad:
            continue  # nothing pulls: nothing passes back
        for j, p in zip(a, _partials(c.gates[i].name, [vals[j] for j in a])):
            if p is FLAT:
                continue
            if p is None or bad:
                undefined[j] = True
            else:
                grads[j] += p * g
                size[j] += abs(p * g)
                count[j] += 1
    out = {n: (None if undefined[i] else grads[i]) for n, i in c.inputs.items()}
    return Sweep(vals, out, branches, grads, {i: size[i] for i in range(len(vals))
                                              if count[i] > 1})


def _resolved(c: Circuit, point: dict, truth: Sweep) -> bool:
    """Do 50 digits see every input's effect? exp(1e-300) is 1 at 50 digits (and at 100),
    so 1 / exp(y) ** z at y = 1e-300 has d/dz = 0 there, where the truth is -1e-300 and no
    double can hold the base's difference from 1 (its condition is about 1e284). At 700
    digits the gradients must agree with the 50-digit ones to 1e-40."""
    try:
        with mp.workdps(700):
            deep = sweep(c, point)
    except (Undefined, OutOfRange):
        return False
    for n, g in truth.grads.items():
        h = deep.grads[n]
        if h is None or abs(h - g) > mp.mpf(10) ** -40 * max(abs(h), abs(g)):
            return False
    return True


@dataclass
class Verdict:
    kind: str
    detail: str = ""


def _in_range(v) -> bool:
    return v == 0 or (TINY <= abs(v) <= HUGE)


def judge(c: Circuit, point: dict, ours: dict[str, float] | None) -> Verdict:
    """Classify our input gradients (None: grad refused with a CircuitError) at a point."""
    mp.mp.dps = 50
    try:
        truth = sweep(c, point)
    except Undefined as why:
        return Verdict("undefined", str(why))
    except OutOfRange:
        return Verdict("out-of-range")
    if any(g is None for g in truth.grads.values()):
        return Verdict("undefined", "kink or undefined derivative")
    if any(mp.isinf(g) or mp.isnan(g) for g in truth.grads.values()):
        return Verdict("undefined", "infinite slope")
    if not _resolved(c, point, truth):
        return Verdict("ill-conditioned", "50 digits cannot resolve it")
    used, live = c.used(), c.live
    nodes = [i for i in range(len(c)) if used[i]]
    if not all(_in_range(truth.values[i]) for i in nodes) or not all(
            _in_range(truth.node_grads[i]) for i in nodes if live[i]):
        return Verdict("out-of-range")
    # sensitivity of each input gradient to a relative eps at every node value and gradient
    tiny = mp.mpf(10) ** -30
    spread = {n: abs(g) for n, g in truth.grads.items()}
    near = False
    for i in nodes:
        for kind in ("value", "grad"):
            kw = {"nudge_value" if kind == "value" else "nudge_grad": (i, tiny)}
            try:
                moved = sweep(c, point, **kw)
            except (Undefined, OutOfRange):
                near = True
                continue
            for n, g in moved.grads.items():
                if g is None:
                    near = True
                else:
                    spread[n] += abs(g - truth.grads[n]) / tiny
        if i in truth.terms:  # the sum into its gradient: rounding of the size of its terms
            try:
                moved = sweep(c, point, shift_grad=(i, tiny * truth.terms[i]))
            except (Undefined, OutOfRange):
                moved = None
            for n, g in (moved.grads.items() if moved else ()):
                if g is not None:
                    spread[n] += abs(g - truth.grads[n]) / tiny
        for sign in (1, -1):  # a nudge of 2**-44 (256 ulps) across a kink or a domain edge?
            try:
                moved = sweep(c, point, nudge_value=(i, sign * 2.0**-44))
            except (Undefined, OutOfRange):
                near = True
                continue
            if moved.branches != truth.branches or any(
                    g is None for g in moved.grads.values()):
                near = True
    if ours is None:
        return Verdict("ill-conditioned" if near else "nan-where-finite", "refused")
    worst = "ok"
    for n, g in truth.grads.items():
        mine = ours[n]
        if not math.isfinite(mine):
            return Verdict("ill-conditioned" if near else "nan-where-finite",
                           f"d/d{n}: {mine} for {mp.nstr(g, 17)}")
        error = abs(mp.mpf(mine) - g)
        cond = spread[n] / abs(g) if g != 0 else mp.inf
        if error <= ULPS * EPS * spread[n] + (TINY if g == 0 else 0):
            if cond > 1e8 and error > ULPS * EPS * abs(g):
                worst = "ill-conditioned"  # within its condition, but no answer is confirmed
            continue
        if near or cond > 1e8:
            worst = "ill-conditioned"
        else:
            return Verdict("wrong", f"d/d{n}: {mine!r} for {mp.nstr(g, 17)} (condition "
                                    f"{mp.nstr(cond, 3)})")
    return Verdict(worst)


# ---- random circuits over every gate ------------------------------------------------------------

INPUTS = ["x", "y", "z"]
STRESS = [0.0, 1.0, -1.0, 0.5, 2.0, 20.0, 30.0, 40.0, -40.0, 700.0, 709.0, 709.7, 710.0, -745.0,
          -800.0, 1e-300, -1e-300, 1e300, 1e-10, 1e10, 1e-200, 3.0, -2.0, 0.25]
CONSTANTS = ["0", "1", "2", "0.5", "3", "1000", "1e-300", "1e300", "700"]


def _spellings():
    """How each gate of the table is written, read from the table (a new gate is drawn too)."""
    forms = {}
    for op, g in OPERATORS.items():
        forms[g.name] = "-({0})" if op == "neg" else f"({{0}}) {op} ({{1}})"
    for name, g in FUNCTIONS.items():
        if g.arity is None:
            forms[name] = name + "({*})"
        else:
            forms.setdefault(name, f"{name}(" + ", ".join(f"{{{k}}}" for k in range(g.arity))
                             + ")")
    return forms


FORMS = _spellings()


def random_expression(rnd: random.Random, depth: int) -> str:
    if depth == 0 or rnd.random() < 0.2:
        return rnd.choice(INPUTS) if rnd.random() < 0.75 else rnd.choice(CONSTANTS)
    name = rnd.choice(sorted(FORMS))
    form = FORMS[name]
    gate = GATES[name]
    n = gate.arity if gate.arity is not None else rnd.choice([2, 3])
    args = [random_expression(rnd, depth - 1) for _ in range(n)]
    return form.replace("{*}", ", ".join(args)) if "{*}" in form else form.format(*args)


def random_case(rnd: random.Random, stress: bool) -> tuple[Circuit, dict[str, float]]:
    """A random circuit over every gate and a point: ordinary, or from the stress list."""
    text = random_expression(rnd, rnd.choice([2, 3, 4]))
    c = circuitcli.parse(text)
    if stress:
        point = {n: rnd.choice(STRESS) for n in c.inputs}
    else:
        point = {n: round(rnd.uniform(-3, 3), 3) for n in c.inputs}
    return c, point


def ours(c: Circuit, point: dict[str, float]) -> tuple[dict[str, float] | None, str]:
    """Our input gradients (None and 'refused' on a CircuitError; 'error' on anything else)."""
    try:
        return c.grad(**point).input_grads, ""
    except CircuitError:
        return None, "refused"
    except Exception as exc:  # an internal error is what we count
        return None, f"error: {type(exc).__name__}: {exc}"


def classify(c: Circuit, point: dict[str, float]) -> Verdict:
    answer, how = ours(c, point)
    if how.startswith("error"):
        return Verdict("error", how)
    return judge(c, point, answer)


# ---- second order: tangents and Hessians at 50 digits (issue 20) -------------------------------
# The second partials are closed forms written here (not taken from the gate table), and the
# Hessian comes from the textbook second-order adjoint: forward tangents t, then a reverse sweep
# of the adjoint g and its tangent h, h_j += f_j * h_i + g_i * sum_k f_jk * t_k.


def _second(name: str, xs: list) -> list | None:
    """The matrix of second partials d2 f / dx_j dx_k, or None where it does not exist."""
    out = _forward(name, xs)
    z = mp.mpf(0)
    if name in ("add", "sub", "neg"):
        return [[z] * len(xs) for _ in xs]
    if name == "mul":
        return [[z, mp.mpf(1)], [mp.mpf(1), z]]
    if name == "div":
        x, y = xs
        return [[z, -1 / y**2], [-1 / y**2, 2 * x / y**3]]
    if name == "pow":
        x, y = xs
        if x <= 0:
            return None  # log(x) terms, or 0 to a power: not smooth in both arguments
        lx = mp.log(x)
        return [[y * (y - 1) * mp.power(x, y - 2), mp.power(x, y - 1) * (1 + y * lx)],
                [mp.power(x, y - 1) * (1 + y * lx), out * lx**2]]
    if name == "sigmoid":  # s' (1 - 2s), with 1 - 2s = -tanh(x/2): no cancellation
        return [[_stable_first(name, xs[0]) * -mp.tanh(xs[0] / 2)]]
    if name == "tanh":
        return [[-2 * out * _stable_first(name, xs[0])]]
    if name in ("relu", "abs"):
        return None if xs[0] == 0 else [[z]]
    if name == "exp":
        return [[out]]
    if name == "log":
        return [[-1 / xs[0] ** 2]]
    if name == "sqrt":
        return None if xs[0] == 0 else [[-1 / (4 * out**3)]]
    if name == "sin":
        return [[-out]]
    if name == "cos":
        return [[-out]]
    if name in ("max", "min"):
        if sum(1 for x in xs if x == out) > 1:
            return None
        return [[z] * len(xs) for _ in xs]
    raise KeyError(f"the reference has no second partials of {name}: add them here")


def _stable_first(name: str, x):
    """sigmoid' and tanh' from the input: out * (1 - out) and 1 - out**2 round to 0 at 50
    digits once out is within 1e-50 of 1 (x = 120), where the slope is far from 0."""
    if name == "sigmoid":
        e = mp.exp(-abs(x))
        return e / (1 + e) ** 2
    e = mp.exp(-2 * abs(x))
    return 4 * e / (1 + e) ** 2


def _local_first(name: str, xs: list) -> list:
    if name == "pow":
        return _pow_partials(xs)
    if name in ("sigmoid", "tanh"):
        return [_stable_first(name, xs[0])]
    return _partials(name, xs)


def _pow_partials(xs: list) -> list:
    x, y = xs
    if x <= 0:
        raise Undefined("pow off the positive base: not smooth in both arguments")
    out = mp.power(x, y)
    return [y * out / x, out * mp.log(x)]


def second_sweep(c: Circuit, point: dict, direction: dict, nudge: tuple[str, int, float] | None
                 = None) -> tuple[list, dict, dict]:
    """(tangent of every node, gradient by input, H v by input, every node's adjoint tangent)
    at 50 digits. `nudge` =
    (what, node, relative) moves one node's value, tangent, adjoint or adjoint tangent."""
    def bump(kind: str, i: int, v):
        return v * (1 + mp.mpf(nudge[2])) if nudge and nudge[0] == kind and nudge[1] == i else v

    vals: list = []
    tans: list = []
    for i, (gate, args) in enumerate(zip(c.gates, c.args)):
        if c.is_input(i):
            v, t = mp.mpf(point[c.names[i]]), mp.mpf(direction.get(c.names[i], 0))
        elif not args:
            v, t = mp.mpf(c.base[i]), mp.mpf(0)
        else:
            xs = [vals[j] for j in args]
            if gate.name in ("exp", "sigmoid", "tanh", "pow") and any(abs(x) > 1e6 for x in xs):
                raise OutOfRange(gate.name)
            v = _forward(gate.name, xs)
            if v != 0 and not (mp.mpf(10) ** -1000 < abs(v) < mp.mpf(10) ** 1000):
                raise OutOfRange(gate.name)
            ps = _local_first(gate.name, xs)
            t = mp.mpf(0)
            for j, p in zip(args, ps):
                if p is None:
                    raise Undefined(f"{gate.name}: no derivative here")
                if p is not FLAT and tans[j] != 0:
                    t += p * tans[j]
        vals.append(bump("value", i, v))
        tans.append(bump("tangent", i, t))
    used = c.used()
    g = [mp.mpf(0)] * len(vals)
    h = [mp.mpf(0)] * len(vals)
    g[c.output] = mp.mpf(1)
    for i in range(c.output, -1, -1):
        g[i], h[i] = bump("grad", i, g[i]), bump("gtan", i, h[i])
        a = c.args[i]
        if not a or not used[i] or not c.live[i]:
            continue
        xs = [vals[j] for j in a]
        name = c.gates[i].name
        ps = _local_first(name, xs)
        second = _second(name, xs)
        if second is None or any(p is None for p in ps):
            raise Undefined(f"{name}: no second derivative here")
        if not all(_in_range(v) for row in second for v in row):
            # a gate's own second derivative past the double range (x/x at x = 1e-300:
            # 2x/y**3 = 2e600): any chain-rule sweep in doubles needs it, whatever the total
            raise OutOfRange(name)
        for r, j in enumerate(a):
            p = mp.mpf(0) if ps[r] is FLAT else ps[r]
            g[j] += p * g[i]
            h[j] += p * h[i] + g[i] * sum(second[r][k] * tans[a[k]] for k in range(len(a)))
    return (tans, {n: g[i] for n, i in c.inputs.items()}, {n: h[i] for n, i in c.inputs.items()},
            h)


def judge_second(c: Circuit, point: dict, ours: list[list[float]] | None,
                 tangents: list[float] | None = None) -> Verdict:
    """Classify our Hessian (rows and columns in the order of c.inputs; None: refused) and,
    if given, our tangents along the first input, like `judge`: the spread of each entry
    under a relative 1e-30 at every node's value, tangent, adjoint and adjoint tangent is
    its condition; a nudge of 2**-44 that changes a branch means a kink is near."""
    mp.mp.dps = 50
    names = list(c.inputs)
    cols = []
    inner = []  # every node's adjoint tangent, per direction: intermediates must be in range
    try:
        for name in names:
            cols.append(second_sweep(c, point, {name: 1}))
            inner.append(cols[-1][3])
    except Undefined as why:
        return Verdict("undefined", str(why))
    except OutOfRange:
        return Verdict("out-of-range")
    truth = [[cols[k][2][names[r]] for k in range(len(names))] for r in range(len(names))]
    used, live = c.used(), c.live
    nodes = [i for i in range(len(c)) if used[i]]
    try:
        first = sweep(c, point)
    except Undefined as why:
        return Verdict("undefined", str(why))
    except OutOfRange:
        return Verdict("out-of-range")
    if not all(_in_range(first.values[i]) for i in nodes) or not all(
            _in_range(first.node_grads[i]) for i in nodes if live[i]) or not all(
            _in_range(v) for row in truth for v in row) or not all(
            _in_range(t) for col in cols for t in col[0]) or not all(
            _in_range(h) for hs in inner for i, h in enumerate(hs) if used[i] and live[i]):
        return Verdict("out-of-range")
    tiny = mp.mpf(10) ** -30
    spread = [[abs(v) for v in row] for row in truth]
    tspread = [abs(t) for t in cols[0][0]] if cols else []
    near = False
    for i in nodes:
        for k, name in enumerate(names):
            for kind in ("value", "tangent", "grad", "gtan"):
                try:
                    tans, _, moved, _ = second_sweep(c, point, {name: 1}, (kind, i, tiny))
                except (Undefined, OutOfRange):
                    near = True
                    continue
                for r, n in enumerate(names):
                    spread[r][k] += abs(moved[n] - truth[r][k]) / tiny
                if k == 0 and kind in ("value", "tangent"):
                    for j, t in enumerate(tans):
                        tspread[j] += abs(t - cols[0][0][j]) / tiny
        for sign in (1, -1):
            try:
                moved = sweep(c, point, nudge_value=(i, sign * 2.0**-44))
            except (Undefined, OutOfRange):
                near = True
                continue
            if moved.branches != first.branches:
                near = True
    if ours is None:
        return Verdict("ill-conditioned" if near else "nan-where-finite", "refused")
    checks = [(f"H[{names[r]},{names[k]}]", ours[r][k], truth[r][k], spread[r][k])
              for r in range(len(names)) for k in range(len(names))]
    if tangents is not None and names:
        checks += [(f"tangent of node {j}", tangents[j], cols[0][0][j], tspread[j])
                   for j in nodes if live[j]]
    worst = "ok"
    for what, mine, true, size in checks:
        if not math.isfinite(mine):
            return Verdict("ill-conditioned" if near else "nan-where-finite",
                           f"{what}: {mine} for {mp.nstr(true, 17)}")
        if abs(mp.mpf(mine) - true) <= ULPS * EPS * size + (TINY if true == 0 else 0):
            continue
        cond = size / abs(true) if true != 0 else mp.inf if size != 0 else 1
        if near or cond > 1e8:
            worst = "ill-conditioned"
        else:
            return Verdict("wrong", f"{what}: {mine!r} for {mp.nstr(true, 17)} (condition "
                                    f"{mp.nstr(cond, 3)})")
    return Verdict(worst)
