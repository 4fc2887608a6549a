"""The gate table: everything a gate knows, side by side, in one entry.

Each entry holds how the gate is spelled, its arity, its forward rule, its
local derivatives (the notebook's "each gate knows only its own derivative"),
the points where it has a kink, the inputs it is not defined for, its sympy
counterpart and its lines of "backprop ninja" code. Evaluators, renderers and
the symbolic cross-check all read this table; none of them names a gate.
Rules take the backend `B` first, so the same rule runs on floats, complex
numbers or numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FUNCTIONS", "GATES", "OPERATORS", "Gate", "format_number"]


@dataclass(frozen=True, slots=True, eq=False)
class Gate:
    """One kind of gate. `arity` is None for variadic gates (max, min)."""

    name: str
    arity: int | None
    # forward(B, *xs) -> value
    forward: Callable[..., Any]
    # partials(B, out, *xs) -> one local derivative d out / d x_k per argument
    partials: Callable[..., Sequence[Any]]
    # how a node reads in tables: "{0} + {1}", "sigmoid({0})"; "{*}" is all arguments
    display: str
    # sympy(sp, *args) -> sympy expression (sp is the sympy module, imported by the caller)
    sympy: Callable[..., Any]
    # code(args, out) -> the local derivatives as Python source over argument names
    code: Callable[[Sequence[str], str], Sequence[str]]
    # the auto-name stem for unnamed nodes of this gate: "mul" -> mul1, mul2, ...
    stem: str = ""
    # kink(out, *xs) -> a one-line note where the gate is not differentiable, else None
    kink: Callable[..., str | None] | None = None
    # problem(*xs) -> why the forward is undefined at these (scalar) arguments, else None
    problem: Callable[..., str | None] | None = None
    # the binding strength used when a formula is written out in full (higher binds tighter)
    precedence: int = 9

    def describe(self, args: Sequence[str]) -> str:
        """The node as a formula over its arguments' names: `x + y`, `max(a, b, c)`."""
        if "{*}" in self.display:
            return self.display.replace("{*}", ", ".join(args))
        return self.display.format(*args)


def format_number(value: float) -> str:
    """A constant as it reads in a formula: 2 rather than 2.0, repr otherwise."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _num(x: float) -> str:
    return f"{x:.6g}"


# ---- arithmetic -------------------------------------------------------------------------


def _div_problem(x: float, y: float) -> str | None:
    return f"division by zero: the divisor is 0 (numerator {_num(x)})" if y == 0 else None


def _pow_problem(x: float, y: float) -> str | None:
    if x < 0 and y != int(y):
        return f"a negative base ({_num(x)}) to a fractional power ({_num(y)}) is not a real number"
    if x == 0 and y < 0:
        return f"0 to a negative power ({_num(y)}) is a division by zero"
    return None


def _pow_partials(B, out, x, y):
    # d/dx x**y = y * x**(y-1); d/dy x**y = x**y * log(x), defined for x > 0 only
    dx = B.where(y != 0, y * B.power(x, y - 1), 0.0)
    positive = B.gt(x, 0.0)
    dy = B.where(positive, out * B.log(B.where(positive, x, 1.0)), B.where(x == 0, 0.0, B.nan))
    return dx, dy


def _max_partials(B, out, *xs):
    # ties split the gradient equally among the tied arguments (as torch.maximum does)
    hits = [B.eq(x, out) for x in xs]
    count = sum(hits)
    return [h / count for h in hits]


def _tie(out, *xs) -> str | None:
    ties = sum(1 for x in xs if x == out)
    if ties > 1:
        return f"tie between {ties} arguments at {_num(out)}: each gets 1/{ties} of the gradient"
    return None


def _sigmoid(B, x):
    # stable at both ends: each branch is used only where its exp cannot overflow
    # (both forms are analytic, so complex-step differentiation works through them)
    e = B.exp(B.where(B.ge(x, 0.0), -x, x))
    return B.where(B.ge(x, 0.0), 1.0 / (1.0 + e), e / (1.0 + e))


def _max_code(args: Sequence[str], out: str) -> list[str]:
    group = ", ".join(args)
    return [f"({a} == {out}) / [{group}].count({out})" for a in args]


_GATES = [
    Gate("input", 0, lambda B: 0.0, lambda B, out: (), "input", lambda sp: None,
         lambda a, o: (), stem="in"),
    Gate("const", 0, lambda B: 0.0, lambda B, out: (), "const", lambda sp: None,
         lambda a, o: (), stem="c"),
    Gate("add", 2, lambda B, x, y: x + y, lambda B, out, x, y: (1.0, 1.0), "{0} + {1}",
         lambda sp, x, y: x + y, lambda a, o: ("1.0", "1.0"), stem="add", precedence=1),
    Gate("sub", 2, lambda B, x, y: x - y, lambda B, out, x, y: (1.0, -1.0), "{0} - {1}",
         lambda sp, x, y: x - y, lambda a, o: ("1.0", "-1.0"), stem="sub", precedence=1),
    Gate("mul", 2, lambda B, x, y: x * y, lambda B, out, x, y: (y, x), "{0} * {1}",
         lambda sp, x, y: x * y, lambda a, o: (a[1], a[0]), stem="mul", precedence=2),
    Gate("div", 2, lambda B, x, y: x / y,
         lambda B, out, x, y: (B.div(1.0, y), B.div(-out, y)), "{0} / {1}",
         lambda sp, x, y: x / y, lambda a, o: (f"1.0 / {a[1]}", f"-{a[0]} / ({a[1]} * {a[1]})"),
         stem="div", problem=_div_problem, precedence=2),
    Gate("neg", 1, lambda B, x: -x, lambda B, out, x: (-1.0,), "-{0}",
         lambda sp, x: -x, lambda a, o: ("-1.0",), stem="neg", precedence=3),
    Gate("pow", 2, lambda B, x, y: B.pow(x, y), _pow_partials, "{0} ** {1}",
         lambda sp, x, y: x**y,
         lambda a, o: (f"{a[1]} * {a[0]} ** ({a[1]} - 1)", f"{o} * math.log({a[0]})"),
         stem="pow", problem=_pow_problem, precedence=4),
    Gate("sigmoid", 1, _sigmoid, lambda B, out, x: (out * (1.0 - out),), "sigmoid({0})",
         lambda sp, x: 1 / (1 + sp.exp(-x)), lambda a, o: (f"{o} * (1 - {o})",), stem="sig"),
    Gate("tanh", 1, lambda B, x: B.tanh(x), lambda B, out, x: (1.0 - out * out,), "tanh({0})",
         lambda sp, x: sp.tanh(x), lambda a, o: (f"1 - {o} ** 2",), stem="tanh"),
    Gate("relu", 1, lambda B, x: B.where(B.gt(x, 0.0), x, 0.0), lambda B, out, x: (B.step(x),),
         "relu({0})", lambda sp, x: sp.Piecewise((x, x > 0), (0, True)),
         lambda a, o: (f"(1.0 if {a[0]} > 0 else 0.0)",), stem="relu",
         kink=lambda out, x: "relu at 0: uses the subgradient 0" if x == 0 else None),
    Gate("exp", 1, lambda B, x: B.exp(x), lambda B, out, x: (out,), "exp({0})",
         lambda sp, x: sp.exp(x), lambda a, o: (o,), stem="exp"),
    Gate("log", 1, lambda B, x: B.log(x), lambda B, out, x: (B.div(1.0, x),), "log({0})",
         lambda sp, x: sp.log(x), lambda a, o: (f"1.0 / {a[0]}",), stem="log",
         problem=lambda x: (f"argument is {_num(x)}; log needs a positive number"
                            if x <= 0 else None)),
    Gate("sqrt", 1, lambda B, x: B.sqrt(x), lambda B, out, x: (B.div(0.5, out),), "sqrt({0})",
         lambda sp, x: sp.sqrt(x), lambda a, o: (f"0.5 / {o}",), stem="sqrt",
         problem=lambda x: f"argument is {_num(x)}; sqrt needs a number >= 0" if x < 0 else None),
    Gate("abs", 1, lambda B, x: B.abs(x), lambda B, out, x: (B.sign(x),), "abs({0})",
         lambda sp, x: sp.Abs(x),
         lambda a, o: (f"(1.0 if {a[0]} > 0 else -1.0 if {a[0]} < 0 else 0.0)",), stem="abs",
         kink=lambda out, x: "abs at 0: uses the subgradient 0" if x == 0 else None),
    Gate("sin", 1, lambda B, x: B.sin(x), lambda B, out, x: (B.cos(x),), "sin({0})",
         lambda sp, x: sp.sin(x), lambda a, o: (f"math.cos({a[0]})",), stem="sin"),
    Gate("cos", 1, lambda B, x: B.cos(x), lambda B, out, x: (-B.sin(x),), "cos({0})",
         lambda sp, x: sp.cos(x), lambda a, o: (f"-math.sin({a[0]})",), stem="cos"),
    Gate("max", None, lambda B, *xs: _fold(B, xs, True), _max_partials, "max({*})",
         lambda sp, *xs: sp.Max(*xs), _max_code, stem="max", kink=_tie),
    Gate("min", None, lambda B, *xs: _fold(B, xs, False), _max_partials, "min({*})",
         lambda sp, *xs: sp.Min(*xs), _max_code, stem="min", kink=_tie),
]


def _fold(B, xs, larger: bool):
    best = xs[0]
    for x in xs[1:]:
        best = B.where(B.gt(x, best), x, best) if larger else B.where(B.gt(best, x), x, best)
    return best


GATES: dict[str, Gate] = {g.name: g for g in _GATES}

# how the parser's operators map to gates
OPERATORS: dict[str, Gate] = {
    "+": GATES["add"],
    "-": GATES["sub"],
    "*": GATES["mul"],
    "/": GATES["div"],
    "**": GATES["pow"],
    "neg": GATES["neg"],
}

# the functions a user may call by name
FUNCTIONS: dict[str, Gate] = {
    g.name: g for g in _GATES if g.name not in ("input", "const", "add", "sub", "mul", "div", "neg")
}
