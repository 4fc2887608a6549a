"""The second-order check: our Hessian against sympy's exact one and a numerical one.

- Analytic: forward-over-reverse over the gate table's rules (methods/derivatives.py),
  as computed (not symmetrised: a wrong rule may show as an asymmetry).
- Exact: each gate's sympy form (its `sympy` entry, never a user's text) differentiated
  once and twice by sympy, evaluated with mpmath at the float values the arguments
  actually have, and combined by the textbook second-order adjoint at 50 digits; the
  same sweep over absolute values gives the size of the terms, so the tolerance is a few
  ulps of what the float sum carries.
- Numerical: central differences of the analytic gradient, with check's step rule
  (cbrt(eps)·max(1,|x|)) and error estimate (D(2h) against D(h) for truncation, eps·|∇f|/h
  for rounding).
- Complex step (where every gate on the way has an analytic piece, away from kinks):
  the reverse sweep run over complex values with input k moved by i·h, h = 1e-20·max(1,|x|);
  Im(gradient)/h is column k with no subtraction, so no rounding arm. It differentiates the
  same implemented gradient as the numerical column, only far more precisely. Without sympy
  either can refute an entry: the complex step to a few ulps of its column, the numerical
  estimate to its error bound (it alone sees a branch that reads only values).
- Blame: at every gate, our local first and second derivatives (the backward rule over
  duals, pulled by 1) against sympy's at the same values: a gate whose second-derivative
  behaviour is wrong is named, even where the whole Hessian happens to agree.
Kinks (relu or abs at 0, a max or min tie): the second derivative does not exist there:
the entries are flagged, not judged, and the gate at the kink is not blamed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.backend import overlay
from ..core.dual import DUAL, Dual, lift
from ..core.evaluate import Result, evaluate
from .derivatives import _node, hessian_of

if TYPE_CHECKING:
    from ..core.circuit import Circuit

__all__ = ["Check2", "Culprit", "Entry", "check_second"]

EPS = 2.0**-52
DIGITS = 50
ULPS = 64
# sympy's Hessian is formed for circuits up to this many gates (mpmath sweeps per input)
MAX_EXACT = 3000


@dataclass
class Entry:
    row: str
    col: str
    analytic: float
    exact: float | None  # sympy's, at 50 digits (None: not computed or not a real number)
    numerical: float | None
    error: float | None  # the numerical estimate's error bound
    ok: bool | None  # None: not judged (a kink)
    note: str = ""
    complex_step: float | None = None  # None: the complex step does not apply here


@dataclass
class Culprit:
    node: int
    name: str
    gate: str
    detail: str


@dataclass
class Check2:
    result: Result
    output: str
    inputs: list[str]
    entries: list[Entry]
    culprits: list[Culprit]
    exact_used: bool
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.culprits and all(e.ok is not False for e in self.entries)


# ---- sympy's local derivatives, as mpmath functions ---------------------------------------

_LOCAL: dict[tuple[int, int], tuple[Any, list, list]] = {}


def _local_rules(gate, k: int):
    """(gate, first partials, second partials) as mpmath functions from the gate's sympy
    form. A Dirac delta (abs, max, min differentiated twice) is 0 away from the kink,
    which is the only place these are used."""
    key = (id(gate), k)
    if key not in _LOCAL:
        import sympy as sp

        xs = sp.symbols(f"x0:{k}", real=True)
        expr = gate.sympy(sp, *xs)

        def fn(e):
            e = e.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
            return sp.lambdify(xs, e, "mpmath")

        first = [fn(sp.diff(expr, x)) for x in xs]
        second = [[fn(sp.diff(expr, a, b)) for b in xs] for a in xs]
        _LOCAL[key] = (gate, first, second)
    return _LOCAL[key][1:]


def _real(v: Any):
    import mpmath

    try:
        if isinstance(v, mpmath.mpc):
            if v.imag != 0 and abs(v.imag) > abs(v.real) * mpmath.mpf(10) ** (-DIGITS + 5):
                return None
            v = v.real
        v = mpmath.mpf(v)
    except (TypeError, ValueError):
        return None
    return v if mpmath.isfinite(v) else None


def _exact_local(gate, xs: list) -> tuple[list, list] | None:
    import mpmath

    first, second = _local_rules(gate, len(xs))
    largest = max((abs(x) for x in xs), default=0)
    with mpmath.workdps(DIGITS + 10 + int(min(largest, mpmath.mpf(3000)) * 0.87)):
        try:
            p = [_real(f(*xs)) for f in first]
            s = [[_real(f(*xs)) for f in row] for row in second]
        except (ArithmeticError, ValueError, TypeError, ZeroDivisionError):
            return None
    if any(v is None for v in p) or any(v is None for row in s for v in row):
        return None
    return p, s


def _exact_hessian(circuit: Circuit, vals, out: int, names: list[str]):
    """(H, sizes) at 50 digits from sympy's local derivatives at the computed values, or
    None where some gate's derivative is not a real number."""
    import mpmath

    args = circuit.args
    used, live = circuit.used(), circuit.live
    with mpmath.workdps(DIGITS):
        mv = [mpmath.mpf(v) for v in vals]
        local: dict[int, tuple[list, list]] = {}
        for i in range(out + 1):
            a = args[i]
            if a and used[i] and live[i]:
                found = _exact_local(circuit.gates[i], [mv[j] for j in a])
                if found is None:
                    return None
                local[i] = found
        H, S = [], []
        for name in names:
            t = [mpmath.mpf(0)] * len(vals)
            ta = [mpmath.mpf(0)] * len(vals)
            t[circuit.inputs[name]] = ta[circuit.inputs[name]] = mpmath.mpf(1)
            for i in range(out + 1):
                if i in local:
                    p = local[i][0]
                    t[i] = sum((p[r] * t[j] for r, j in enumerate(args[i])), mpmath.mpf(0))
                    ta[i] = sum((abs(p[r]) * ta[j] for r, j in enumerate(args[i])),
                                mpmath.mpf(0))
            g = [mpmath.mpf(0)] * len(vals)
            ga = [mpmath.mpf(0)] * len(vals)
            h = [mpmath.mpf(0)] * len(vals)
            ha = [mpmath.mpf(0)] * len(vals)
            g[out] = ga[out] = mpmath.mpf(1)
            for i in range(out, -1, -1):
                if i not in local:
                    continue
                p, s = local[i]
                a = args[i]
                for r, j in enumerate(a):
                    cross = sum((s[r][m] * t[a[m]] for m in range(len(a))), mpmath.mpf(0))
                    crossa = sum((abs(s[r][m]) * ta[a[m]] for m in range(len(a))),
                                 mpmath.mpf(0))
                    g[j] += p[r] * g[i]
                    ga[j] += abs(p[r]) * ga[i]
                    h[j] += p[r] * h[i] + g[i] * cross
                    ha[j] += abs(p[r]) * ha[i] + ga[i] * crossa
            H.append([h[circuit.inputs[n]] for n in names])
            S.append([ha[circuit.inputs[n]] for n in names])
        # H[k][r] is column k (direction k), row r: transpose to rows
        n = len(names)
        return ([[float(H[k][r]) for k in range(n)] for r in range(n)],
                [[float(S[k][r]) for k in range(n)] for r in range(n)])


# ---- the numerical Hessian ------------------------------------------------------------------


def _gradient_at(circuit: Circuit, values: Mapping[str, float], out: int) -> list[float] | None:
    from ..core.syntax import CircuitError
    from .derivatives import reverse_sweep

    try:
        r = evaluate(circuit, values, with_grads=False)
    except CircuitError:
        return None
    g = reverse_sweep(circuit, r.values, out)
    return [g[i] for i in circuit.inputs.values()]


def _numerical(circuit: Circuit, values: Mapping[str, float], out: int, names: list[str],
               h: float | None, shrink: float = 1.0
               ) -> list[list[tuple[float | None, float | None]]]:
    """[row][col] -> (central difference of the gradient, its error estimate)."""
    n = len(names)
    cols = []
    for name in names:
        x = values[name]
        step = (h if h is not None else EPS ** (1 / 3) * max(1.0, abs(x))) / shrink
        grads = {}
        for m in (1, -1, 2, -2):
            grads[m] = _gradient_at(circuit, {**values, name: x + m * step}, out)
        if any(v is None for v in grads.values()):
            cols.append([(None, None)] * n)
            continue
        col = []
        scale = max(abs(v) for g in grads.values() for v in g) if n else 0.0
        for r in range(n):
            d = (grads[1][r] - grads[-1][r]) / (2 * step)
            d2 = (grads[2][r] - grads[-2][r]) / (4 * step)
            trunc = abs(d2 - d) / 3
            rnd = EPS * scale / step + 4 * EPS * abs(d)
            col.append((d, trunc + rnd) if math.isfinite(d) and math.isfinite(trunc)
                       else (None, None))
        cols.append(col)
    return [[cols[k][r] for k in range(n)] for r in range(n)]


# ---- the complex step -----------------------------------------------------------------------

COMPLEX_STEP = 1e-20
# forward and reverse sweeps over numpy complex scalars: this many gate-sweeps at most
MAX_COMPLEX = 200_000


def _complex_step(circuit: Circuit, values: Mapping[str, float], out: int,
                  names: list[str], floats: list[float]) -> list[list[float | None]] | None:
    """[row][col] from Im(∇f(x + i·h·e_k)) / h, or None where the complex step does not apply
    (a gate with no complex form, or a value that leaves the numbers).

    Each node's real part is set to the float pass's value (`floats`): Re f(x + ih) is f(x)
    to within h², and a complex power or exp rounds its real part differently (3 ** 30 off
    by 0.1, which cos turns into a different number)."""
    import numpy as np

    from ..methods.numeric import complex_backend
    from .derivatives import reverse_sweep

    # branches by real parts (relu, abs, max pick a piece), but a guard for an exact value
    # (`y * g if y != 0`) asks of the whole number: 0 + ih is not the zero the guard means
    backend = overlay(complex_backend(), name="complex step",
                      eq=lambda x, y: x == y, ne=lambda x, y: x != y)
    gates, args = circuit.gates, circuit.args
    # numpy scalars, not Python complex: the backend's primitives use numpy's methods
    base: list = [np.complex128(v) for v in circuit.base]
    for name, i in circuit.inputs.items():
        base[i] = np.complex128(values[name])

    def column(name: str, step: float) -> tuple[list[float], float]:
        vals = list(base)
        vals[circuit.inputs[name]] = np.complex128(complex(float(values[name]), step))
        for i in range(out + 1):
            a = args[i]
            if a:
                moved = gates[i].forward(backend, *[vals[j] for j in a])
                vals[i] = np.complex128(complex(floats[i], np.imag(moved)))
        g = reverse_sweep(circuit, vals, out, np.complex128(1.0), backend=backend)
        widest = max((abs(v.imag) for v in vals if math.isfinite(v.imag)), default=0.0)
        return [complex(g[circuit.inputs[r]]).imag / step for r in names], widest

    cols: list[list[float | None]] = []
    with np.errstate(all="ignore"):
        for name in names:
            step = COMPLEX_STEP * max(1.0, abs(float(values[name])))
            try:
                col, widest = column(name, step)
                # sin(u + iδ) carries cos(u)·sinh(δ): δ itself must be tiny, or sinh(δ) ≠ δ
                # shows (3 ** 30 moved by 1e-20 moves by 7e-5, a 1e-9 error)
                if widest > 1e-10:
                    col, _ = column(name, step * COMPLEX_STEP / widest)
            except (ArithmeticError, TypeError, ValueError):
                return None
            cols.append([v if math.isfinite(v) else None for v in col])
    return [[cols[k][r] for k in range(len(names))] for r in range(len(names))]


def _agrees_with_step(a: float, cs: float, column: float) -> bool:
    """The complex step is exact but for rounding, which scales with what its column
    carries (the column's entries and the gradient it perturbs): a few ulps of that, far
    inside the numerical estimate's error bound."""
    if not math.isfinite(a):
        return False
    return abs(a - cs) <= ULPS * EPS * (abs(a) + abs(cs) + column) + 1e-300


# ---- blame -----------------------------------------------------------------------------


def _ours_local(gate, out: float, xs: list[float]) -> tuple[list[float], list[list[float]]]:
    """Our local first partials and second partials at xs: the backward rule over duals,
    pulled by exactly 1, with argument k moving (column k)."""
    m = len(xs)
    first: list[float] = []
    second: list[list[float]] = [[0.0] * m for _ in range(m)]
    for k in range(m):
        duals = [Dual(x, 1.0 if j == k else 0.0) for j, x in enumerate(xs)]
        moved = lift(gate.forward(DUAL, *duals))
        pulls = [lift(p) for p in gate.backward(DUAL, Dual(1.0, 0.0), Dual(out, moved.t),
                                                *duals)]
        if k == 0:
            first = [p.v for p in pulls]
        for j in range(m):
            second[j][k] = pulls[j].t
    return first, second


def _blame(circuit: Circuit, result: Result, out: int) -> list[Culprit]:
    """Gates whose own first or second derivatives differ from sympy's at this point."""
    found = []
    used, live, args = circuit.used(), circuit.live, circuit.args
    vals = result.values
    labels = None
    for i in range(out + 1):
        a = args[i]
        if not a or not used[i] or not live[i] or i in result.kinks:
            continue
        xs = [vals[j] for j in a]
        gate = circuit.gates[i]
        import mpmath

        with mpmath.workdps(DIGITS):
            exact = _exact_local(gate, [mpmath.mpf(x) for x in xs])
        if exact is None:
            continue
        p, s = ([float(v) for v in exact[0]], [[float(v) for v in row] for row in exact[1]])
        if not all(math.isfinite(v) for v in p + [v for row in s for v in row]):
            continue
        mine_p, mine_s = _ours_local(gate, vals[i], xs)
        scale = max([abs(v) for v in p] + [abs(v) for row in s for v in row] + [1e-300])
        bad = []
        for j in range(len(a)):
            for k in range(len(a)):
                if not _agrees(mine_s[j][k], s[j][k], scale):
                    bad.append(f"d²/d{_arg(j)}d{_arg(k)} is {mine_s[j][k]!r}, sympy says "
                               f"{s[j][k]!r}")
            if not _agrees(mine_p[j], p[j], scale):
                bad.append(f"d/d{_arg(j)} is {mine_p[j]!r}, sympy says {p[j]!r}")
        if bad:
            if labels is None:
                labels = circuit.labels()
            found.append(Culprit(i, labels[i], gate.name,
                                 f"{gate.name} at {', '.join(f'{x:.6g}' for x in xs)}: "
                                 + "; ".join(bad[:3])))
    return found


def _arg(j: int) -> str:
    return "xyzw"[j] if j < 4 else f"x{j}"


def _agrees(ours: float, exact: float, scale: float) -> bool:
    if not math.isfinite(ours):
        return False
    return abs(ours - exact) <= 1e-8 * (abs(exact) + scale) + 1e-300


# ---- the check -------------------------------------------------------------------------------


def check_second(circuit: Circuit, values: Mapping[str, float], of: str | None = None,
                 h: float | None = None, use_sympy: bool = True) -> Check2:
    """Every Hessian entry: ours, sympy's, numerical, and a verdict; the gates to blame."""
    out = _node(circuit, of)
    result = evaluate(circuit, values)
    names = list(circuit.inputs)
    _, ours = hessian_of(circuit, values, out)
    notes: list[str] = []
    exact = None
    gates = sum(1 for i in range(out + 1) if circuit.args[i])
    if use_sympy and gates * max(1, len(names)) <= MAX_EXACT * 10 and gates <= MAX_EXACT:
        exact = _exact_hessian(circuit, result.values, out, names)
        if exact is None:
            notes.append("sympy's Hessian is not a real number here (a gate's second "
                         "derivative is undefined at this point)")
    elif use_sympy:
        notes.append(f"sympy's Hessian is skipped above {MAX_EXACT} gates: the numerical "
                     "one decides")
    numeric = _numerical(circuit, dict(values), out, names, h)
    stepped = None
    if not result.kinks and gates * max(1, len(names)) <= MAX_COMPLEX:
        stepped = _complex_step(circuit, values, out, names, list(result.values))
    # a second, 64 times smaller step: where the two disagree beyond their error bounds the
    # differences are not evidence (a kink, a pole or an oscillation inside the step)
    finer = _numerical(circuit, dict(values), out, names, h, 64.0) if stepped else None
    if stepped is None and exact is None and names:
        notes.append("the complex step does not apply here (a gate without an analytic "
                     "piece, or a value outside the numbers): the numerical estimate decides")
    gradient = max((abs(v) for v in _gradient_at(circuit, values, out) or ()
                    if math.isfinite(v)), default=0.0)
    columns = [gradient / max(1.0, abs(float(values[name])))
               + max((abs(stepped[r][k]) for r in range(len(names))
                      if stepped is not None and stepped[r][k] is not None), default=0.0)
               for k, name in enumerate(names)]
    kinked = [i for i in result.kinks if circuit.used()[i]]
    kink_note = ""
    if kinked:
        labels = circuit.labels_around(kinked[:1])
        kink_note = (f"at a kink ({labels[kinked[0]]}): the second derivative does not exist "
                     "here, so it is flagged, not judged")
    entries = []
    for r, row_name in enumerate(names):
        for k, col_name in enumerate(names):
            a = ours[r][k]
            num, err = numeric[r][k]
            ex = exact[0][r][k] if exact is not None else None
            cs = stepped[r][k] if stepped is not None else None
            if kinked:
                ok, note, ex = None, kink_note, None
            elif exact is not None:
                size = exact[1][r][k]
                ok = math.isfinite(a) and abs(a - ex) <= ULPS * EPS * size + 1e-300
                note = "" if ok else "differs from sympy's exact value"
            elif cs is not None or num is not None:
                # either witness can refute: the complex step runs our own rules (a branch
                # that reads only values misleads it as it misleads the duals), central
                # differences see the branch but only to their error bound
                by_step = cs is None or _agrees_with_step(a, cs, columns[k])
                by_diff = num is None or (math.isfinite(a)
                                          and abs(a - num) <= 2 * err + 1e-300)
                unsure = finer_agrees = False
                if not by_diff and cs is not None and finer is not None:
                    fine, fine_err = finer[r][k]
                    unsure = fine is None or not abs(fine - num) <= 2 * (err + fine_err)
                    # the error estimate knows only the output's rounding; a smaller step
                    # whose own estimate agrees shows the first one was that rounding
                    finer_agrees = (fine is not None and math.isfinite(a)
                                    and abs(a - fine) <= 2 * fine_err + 1e-300)
                ok = by_step and (by_diff or unsure or finer_agrees)
                note = "" if ok else "differs from " + " and ".join(
                    w for w, agreed in (("the complex step", by_step),
                                        ("the numerical estimate beyond its error", by_diff))
                    if not agreed)
                if ok and finer_agrees and not unsure:
                    note = "the numerical estimate agrees at a 64 times smaller step"
                elif ok and unsure:
                    note = ("the numerical estimate is unreliable here (h and h/64 disagree: "
                            "a kink, a pole or an oscillation within the step); the complex "
                            "step decides")
            else:
                ok, note = None, "no reference here (outside the domain nearby)"
            entries.append(Entry(row_name, col_name, a, ex, num, err, ok, note, cs))
    if kinked:
        notes.append(kink_note)
    culprits = _blame(circuit, result, out) if use_sympy else []
    return Check2(result, circuit.label(out), names, entries, culprits, exact is not None, notes)
