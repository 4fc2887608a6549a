"""sympy's exact derivatives of a circuit, built from the gate graph (imported lazily).

The ground truth for `circuit check`. Each gate's sympy form comes from the gate
table and sympy differentiates it; the user's text never reaches sympy. Values
are carried node by node in mpmath at 40 digits, so sharing in the graph stays
sharing (a 10,000-gate circuit is 10,000 small steps, not one huge tree), and the
chain rule is summed over the graph in reverse, giving d output / d node for
every node at once: the derivative with respect to a fresh symbol standing for
that node's subexpression. Formulas are built as trees only for small circuits,
where a person can read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.circuit import Circuit
from ..core.gates import format_number
from ..core.lazy import lazy

mpmath = lazy("mpmath")
sp = lazy("sympy")

__all__ = ["Exact", "at_point", "formulas"]

DIGITS = 40
# formulas are built for circuits with at most this many gates, and simplified while small
FORMULA_GATES = 40
_SIMPLIFY_OPS = 12
_MAX_CHARS = 240


@dataclass
class Exact:
    """sympy's numbers at a point: d output / d node, and each gate's local derivatives."""

    # d output / d node, None where it is not a real number (or not defined)
    grads: list[float | None]
    # node -> sympy's local derivative of the gate with respect to each argument
    local: dict[int, list[float | None]]
    # the chain rule summed over |local derivatives|: how large the terms that make up
    # d output / d node are, so how much rounding the float sum can carry (None: unknown)
    scale: list[float | None] | None = None


# (id(gate), arity) -> (gate, forward, partials); holding the gate keeps its id from being
# reused by another gate object (a test's or a benchmark's replaced rule) while cached
_RULES: dict[tuple[int, int], tuple[Any, Any, list[Any]]] = {}


def _rules(gate, k: int):
    """The gate's forward and local derivatives as mpmath functions, from its sympy form."""
    key = (id(gate), k)
    if key not in _RULES:
        xs = sp.symbols(f"x0:{k}", real=True)
        expr = gate.sympy(sp, *xs)
        # lambdify prints sympy's own expression (built from the gate table) as mpmath code
        forward = sp.lambdify(xs, expr, "mpmath")
        partials = [sp.lambdify(xs, sp.diff(expr, x), "mpmath") for x in xs]
        _RULES[key] = (gate, forward, partials)
    return _RULES[key][1:]


def _real(v: Any):
    """An mpmath number as a real mpf, or None when it is complex, infinite or undefined."""
    if v is None:
        return None
    try:
        if isinstance(v, mpmath.mpc):
            if abs(v.imag) > abs(v.real) * mpmath.mpf(10) ** (-DIGITS + 5) and v.imag != 0:
                return None
            v = v.real
        v = mpmath.mpf(v)
    except (TypeError, ValueError):
        return None
    return v if mpmath.isfinite(v) else None


def at_point(circuit: Circuit, values: dict[str, float],
             computed: Sequence[float] | None = None) -> Exact:
    """d output / d node for every node (and local derivatives) at 40 digits.

    Inputs enter as the exact binary values of their floats; constants as the
    decimal they were written as. With `computed` (every node's float value from
    the forward pass), each gate's derivative is taken at the float values its
    arguments actually have: the exact derivative of the computation that ran, so
    an ill-conditioned forward pass (sin(1e10 * x)) is not mistaken for a wrong rule.
    """
    n = len(circuit.gates)
    out = circuit.output
    args = circuit.args
    with mpmath.workdps(DIGITS):
        vals: list[Any] = [None] * n
        for name, i in circuit.inputs.items():
            vals[i] = mpmath.mpf(values[name])
        local: dict[int, list[Any]] = {}
        budget = _EXACT_BUDGET
        for i in range(out + 1):
            a = args[i]
            if computed is not None:
                vals[i] = _real(mpmath.mpf(computed[i]))
                if not a:
                    continue
            elif not a:
                if vals[i] is None:
                    vals[i] = mpmath.mpf(format_number(circuit.base[i]))
                continue
            xs = [vals[j] for j in a]
            if any(x is None for x in xs):
                local[i] = [None] * len(a)
                continue
            forward, partials = _rules(circuit.gates[i], len(a))
            if computed is None:
                vals[i] = _call(forward, xs)
            with mpmath.workdps(_digits_for(xs)):
                local[i] = [_call(p, xs) for p in partials]
            if budget and None in local[i] and vals[i] is not None:
                # the formula may be 0/0 where the derivative exists (y**5 at 0: the
                # general rule is 5·y**5/y): differentiate with the other arguments fixed
                for k, p in enumerate(local[i]):
                    if p is None and budget:
                        budget -= 1
                        local[i][k] = _exact_partial(circuit.gates[i], xs, k)
        grads: list[Any] = [mpmath.mpf(0)] * n
        sizes: list[Any] = [mpmath.mpf(0)] * n
        grads[out] = sizes[out] = mpmath.mpf(1)
        for i in range(out, -1, -1):
            g = grads[i]
            a = args[i]
            if not a or (g is not None and g == 0 and sizes[i] == 0):
                continue
            for j, p in zip(a, local[i]):
                if sizes[j] is not None:
                    sizes[j] = (None if sizes[i] is None or p is None
                                else sizes[j] + abs(p) * sizes[i])
                if grads[j] is None or (g is not None and g == 0):
                    continue
                grads[j] = None if g is None or p is None else grads[j] + p * g
        return Exact([None if g is None else float(g) for g in grads],
                     {i: [None if p is None else float(p) for p in ps]
                      for i, ps in local.items()},
                     [None if z is None else float(z) for z in sizes])


# at most this many local derivatives a call are worked out by substitution (each costs sympy
# a few milliseconds)
_EXACT_BUDGET = 16


def _exact_partial(gate, xs: list, k: int):
    """d gate / d x_k at xs, by sympy with the other arguments put in first as exact
    rationals (the binary values of their floats). None where it is not a real number."""
    syms = sp.symbols(f"x0:{len(xs)}", real=True)
    exact = [sp.Rational(*float(x).as_integer_ratio()) for x in xs]
    try:
        expr = gate.sympy(sp, *syms).subs({s: v for j, (s, v) in enumerate(zip(syms, exact))
                                           if j != k})
        d = sp.diff(expr, syms[k]).subs(syms[k], exact[k])
        if d.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not d.is_number:
            return None
        return _real(sp.N(d, DIGITS)._to_mpmath(DIGITS * 4))
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return None


def _digits_for(xs: list) -> int:
    """Digits for a local derivative at xs: sympy's formula may cancel where the slope is
    tiny (tanh's 1 - tanh(x)**2 is 0 at 40 digits for x = 168, where it is 6e-146), and a
    formula made of exp loses about |x| * log10(e) digits per exp(x) it compares, so the
    precision grows with the arguments' size (capped: beyond it a double is 0 anyway)."""
    largest = max((abs(x) for x in xs), default=0)
    return DIGITS + 10 + int(min(largest, mpmath.mpf(3000)) * 0.87)


def _call(fn, xs):
    try:
        return _real(fn(*xs))
    except (ArithmeticError, ValueError, TypeError):
        return None


def _tree(circuit: Circuit, fresh: int | None = None):
    """Every node as a sympy expression over the input symbols (node `fresh` as its own symbol)."""
    labels = circuit.labels()
    exprs: list[Any] = []
    for i, (gate, a) in enumerate(zip(circuit.gates, circuit.args)):
        if i == fresh:
            exprs.append(sp.Symbol(f"_node_{labels[i]}", real=True))
        elif circuit.is_input(i):
            exprs.append(sp.Symbol(circuit.names[i], real=True))
        elif not a:
            # the constant's own decimal (0.1 rather than its binary approximation)
            exprs.append(sp.Rational(format_number(circuit.base[i])))
        else:
            exprs.append(gate.sympy(sp, *[exprs[j] for j in a]))
        if i == circuit.output:
            break
    return exprs


def _gate_count(circuit: Circuit) -> int:
    return sum(1 for i in range(circuit.output + 1) if circuit.args[i] and circuit.live[i])


def formulas(circuit: Circuit, targets: Sequence[int]) -> dict[int, str | None]:
    """sympy's simplified d output / d node, as text over the inputs, for small circuits.

    A circuit too large for a readable formula gets None everywhere (its numbers
    still come from `at_point`).
    """
    if _gate_count(circuit) > FORMULA_GATES:
        return {t: None for t in targets}
    found: dict[int, str | None] = {}
    whole = _tree(circuit)
    for t in targets:
        if circuit.is_input(t):
            d = sp.diff(whole[circuit.output], sp.Symbol(circuit.names[t], real=True))
        else:
            exprs = _tree(circuit, fresh=t)
            s = exprs[t]
            d = sp.diff(exprs[circuit.output], s).subs(s, whole[t])
        found[t] = _readable(d)
    return found


def _readable(d) -> str | None:
    """A short form of d: sympy's factor_terms always, full simplify only where it is cheap."""
    best = sp.factor_terms(d)
    if sp.count_ops(d) <= _SIMPLIFY_OPS and not d.has(sp.Piecewise):
        simpler = sp.simplify(d)
        if len(sp.sstr(simpler)) < len(sp.sstr(best)):
            best = simpler
    text = sp.sstr(best)
    return text if len(text) <= _MAX_CHARS else None
