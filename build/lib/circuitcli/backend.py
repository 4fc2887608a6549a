"""The arithmetic that gate rules are written against.

A gate's forward and local derivatives are written once, over a backend `B`
(`B.exp`, `B.where`, ...). `REAL` runs them on Python floats with `math`; an
array backend (numpy, for batches) or a complex one (complex-step
differentiation) runs the same rules without a second copy of any gate.
The real backend turns overflow into inf instead of raising, as IEEE does,
so one huge value becomes a warning on a node rather than a crash.
"""

from __future__ import annotations

import math

__all__ = ["REAL", "RealBackend"]

_inf = math.inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _pow(x: float, y: float) -> float:
    if x < 0 and y != int(y):
        raise ValueError("negative base with a fractional exponent")
    try:
        r = x**y
    except OverflowError:
        return _inf if x > 0 or y % 2 == 0 else -_inf
    except ZeroDivisionError:
        return _inf
    return r


def _log(x: float) -> float:
    return math.log(x)


def _where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _eq(x: float, y: float) -> float:
    return 1.0 if x == y else 0.0


def _div(x: float, y: float) -> float:
    """x / y where a zero y gives inf (or nan for 0/0), as IEEE does."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(_inf, x) * math.copysign(1.0, y)


class RealBackend:
    """Python floats and the math module; the fast path for one point."""

    name = "real"
    exp = staticmethod(_exp)
    log = staticmethod(_log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    abs = staticmethod(abs)
    pow = staticmethod(_pow)
    where = staticmethod(_where)
    step = staticmethod(_step)
    sign = staticmethod(_sign)
    eq = staticmethod(_eq)
    div = staticmethod(_div)
    inf = _inf
    nan = math.nan


REAL = RealBackend()
