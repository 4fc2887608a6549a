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
from types import SimpleNamespace

__all__ = ["REAL", "RealBackend", "numpy_backend"]

_inf = math.inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _pow(x: float, y: float) -> float:
    """x ** y; 0 to a negative power raises (a division by zero), overflow gives inf."""
    if x < 0 and y != int(y):
        raise ValueError("negative base with a fractional exponent")
    try:
        return x**y
    except OverflowError:
        return _inf if x > 0 or y % 2 == 0 else -_inf


def _power(x: float, y: float) -> float:
    """x ** y as IEEE (and numpy) has it: 0 to a negative power is inf, for derivatives."""
    try:
        return _pow(x, y)
    except ZeroDivisionError:
        return _inf


def _log(x: float) -> float:
    return math.log(x)


def _where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _gt(x: float, y: float) -> bool:
    return x > y


def _ge(x: float, y: float) -> bool:
    return x >= y


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
    power = staticmethod(_power)
    where = staticmethod(_where)
    # comparisons go through the backend so a complex backend can compare real parts
    gt = staticmethod(_gt)
    ge = staticmethod(_ge)
    step = staticmethod(_step)
    sign = staticmethod(_sign)
    eq = staticmethod(_eq)
    div = staticmethod(_div)
    inf = _inf
    nan = math.nan


REAL = RealBackend()


_NUMPY = None


def numpy_backend():
    """The same operations on numpy arrays (one row per data point), imported on first use.

    numpy does not raise on log(-1) or 1/0: it gives nan or inf. Callers evaluate
    under `np.errstate(all="ignore")` and, where a row went non-finite, re-run that
    row with REAL to get the domain error with its node and caret.
    """
    global _NUMPY
    if _NUMPY is None:
        import numpy as np

        def step(x):
            return (np.real(x) > 0).astype(float)

        def sign(x):
            return np.sign(np.real(x)).astype(float)

        def eq(x, y):
            return (x == y).astype(float)

        def gt(x, y):
            return np.real(x) > np.real(y)

        def ge(x, y):
            return np.real(x) >= np.real(y)

        _NUMPY = SimpleNamespace(
            name="numpy", exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, sin=np.sin,
            cos=np.cos, abs=np.abs, pow=np.power, power=np.power, where=np.where, gt=gt, ge=ge,
            step=step, sign=sign, eq=eq, div=np.divide, inf=np.inf, nan=np.nan,
        )
    return _NUMPY
