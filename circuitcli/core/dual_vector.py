"""The primitives over a value and an array of tangents, one per direction (numpy).

The vector lowering of the rules (dual_rules.py, `vector=True`) carries n tangents at once,
so that a whole Hessian is one forward and one backward pass with n-wide tangents, not n
passes. Each primitive moves every tangent by its first derivative with dual.py's zero rule
taken entry by entry (an exact 0 tangent adds exactly 0, even beside inf).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .dual import _div, _exp, _fpow, _log, _nan, _sech2, _sqrt, _trig, pow_slope

__all__ = ["d_abs", "d_cos", "d_exp", "d_floor", "d_log", "d_power", "d_sin", "d_sqrt",
           "d_tanh", "vq", "vt"]


def vt(a: float, T: Any) -> Any:
    """a * T with every exact-0 entry of T giving exactly 0 (a may be inf or nan): a finite
    a gives that by itself. Callers run under np.errstate(all="ignore")."""
    if a - a == 0:
        return a * T
    return np.where(T != 0, a * T, 0.0)


def vq(T: Any, b: float, r: float) -> Any:
    """(T / b) * r with every exact-0 entry of T giving exactly 0: division's order."""
    if b != 0 and b - b == 0 and r - r == 0:
        return (T / b) * r
    return np.where(T != 0, np.divide(T, b) * r, 0.0)


def d_exp(v: float, T: Any) -> tuple[float, Any]:
    r = _exp(v)
    return r, vt(r, T)


def d_log(v: float, T: Any) -> tuple[float, Any]:
    return _log(v), vq(T, v, 1.0)


def d_sqrt(v: float, T: Any) -> tuple[float, Any]:
    r = _sqrt(v)
    return r, vt(_div(1.0, 2.0 * r), T)


def d_tanh(v: float, T: Any) -> tuple[float, Any]:
    return math.tanh(v), vt(_sech2(v) if v == v else _nan, T)


def d_sin(v: float, T: Any) -> tuple[float, Any]:
    return _trig(math.sin, v), vt(_trig(math.cos, v), T)


def d_cos(v: float, T: Any) -> tuple[float, Any]:
    return _trig(math.cos, v), vt(-_trig(math.sin, v), T)


def d_abs(v: float, T: Any) -> tuple[float, Any]:
    return abs(v), (T if v >= 0 else -T if v < 0 else T * _nan)


def d_floor(v: float, T: Any) -> tuple[float, Any]:
    return (math.floor(v) if math.isfinite(v) else v), 0.0


def d_power(xv: float, xT: Any, yv: float, yT: Any) -> tuple[float, Any]:
    v = _fpow(xv, yv)
    if yv == 0:
        dx = 0.0
    elif xv != 0:
        dx = pow_slope(1.0, xv, yv, v)
    else:
        dx = 0.0 if yv > 1 else 1.0 if yv == 1 else math.inf
    if xv == 0 or xv == 1:
        dy = 0.0
    elif xv > 0:
        dy = v * _log(xv)
    else:
        dy = _nan
    return v, vt(dx, xT) + vt(dy, yT)
