"""Dual numbers: a backend of the gate table that carries a tangent beside every value.

A dual number a + a'ε (ε² = 0) is a value and how fast it moves along one direction.
Running a gate's forward rule over duals gives its value and its tangent (forward mode);
running its backward rule over duals, with values that are duals from a forward pass,
gives the pull and how the pull moves (forward-over-reverse: a Hessian-vector product).
Only the primitives know a derivative (exp' = exp, ...); no gate's derivative, first or
second, is written here.

The care the float rules take holds for the tangents:
- a factor whose tangent is exactly 0 adds exactly 0 (no 0 * inf): `a*b` moves by
  a*b' + a'*b with a term left out where its tangent is 0;
- division moves by a'/b - (b'/b) * (a/b), ordered to stay in range;
- tanh's slope is taken from the input (4h²/(1+h²)², h = e^-|x|), never 1 - tanh²;
- a rule's `a if c else b` picks the value by c at the value, and the tangent by c along
  the direction: `y != 0` at y = 0 + 1ε holds along it, so `y * g if y != 0 else 0.0`
  moves as y * g does (the exact-zero guard keeps the value 0 but not a false slope 0).
  Comparisons by size (`x > 0`) read values only: at a kink the branch the rule takes
  gives the slope, and the kink is flagged by the evaluator as always.

Operations never raise: 1/0 is inf, log(-1) is nan, as IEEE says; a rule evaluates both
branches of a condition over this backend, and the float pass that runs first is the one
that names a domain error.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DUAL", "Cond", "Dual", "DualBackend", "lift", "tangent_of", "value_of"]

_inf = math.inf
_nan = math.nan


def _div(a: float, b: float) -> float:
    """a / b as IEEE: x/0 is ±inf, 0/0 nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return _nan
        return math.copysign(_inf, a) * math.copysign(1.0, b)


def _times(a: float, b: float) -> float:
    """a * b, except that an exact 0 tangent factor gives exactly 0 (the other factor does
    not move it, even if it is inf)."""
    return a * b if b != 0 else 0.0


class Dual:
    """A value and its tangent (d value / d t along one direction)."""

    __slots__ = ("t", "v")

    def __init__(self, v: float, t: float = 0.0) -> None:
        self.v = v
        self.t = t

    def __repr__(self) -> str:
        return f"Dual({self.v!r}, {self.t!r})"

    # -- arithmetic ------------------------------------------------------------------------
    def __add__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v + o.v, self.t + o.t)
        return Dual(self.v + o, self.t)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v - o.v, self.t - o.t)
        return Dual(self.v - o, self.t)

    def __rsub__(self, o: Any) -> Dual:
        return Dual(o - self.v, -self.t)

    def __neg__(self) -> Dual:
        return Dual(-self.v, -self.t)

    def __pos__(self) -> Dual:
        return self

    def __mul__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            t = (self.v * o.t if o.t != 0 else 0.0) + (self.t * o.v if self.t != 0 else 0.0)
            return Dual(self.v * o.v, t)
        return Dual(self.v * o, o * self.t if self.t != 0 else 0.0)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            v = _div(self.v, o.v)
            t = _div(self.t, o.v) if self.t != 0 else 0.0
            if o.t != 0:
                t -= _div(o.t, o.v) * v
            return Dual(v, t)
        return Dual(_div(self.v, o), _div(self.t, o) if self.t != 0 else 0.0)

    def __rtruediv__(self, o: Any) -> Dual:
        v = _div(o, self.v)
        return Dual(v, -(_div(self.t, self.v) * v) if self.t != 0 else 0.0)

    def __pow__(self, o: Any) -> Dual:
        return DUAL.power(self, o)

    def __rpow__(self, o: Any) -> Dual:
        return DUAL.power(Dual(o), self)

    def __abs__(self) -> Dual:
        return DUAL.abs(self)

    def __float__(self) -> float:
        return float(self.v)

    # comparisons read values (a rule's condition goes through the backend's gt/eq/...)
    def __eq__(self, o: Any) -> bool:  # type: ignore[override]
        return self.v == (o.v if isinstance(o, Dual) else o)

    def __ne__(self, o: Any) -> bool:  # type: ignore[override]
        return self.v != (o.v if isinstance(o, Dual) else o)

    def __lt__(self, o: Any) -> bool:
        return self.v < (o.v if isinstance(o, Dual) else o)

    def __le__(self, o: Any) -> bool:
        return self.v <= (o.v if isinstance(o, Dual) else o)

    def __gt__(self, o: Any) -> bool:
        return self.v > (o.v if isinstance(o, Dual) else o)

    def __ge__(self, o: Any) -> bool:
        return self.v >= (o.v if isinstance(o, Dual) else o)

    __hash__ = None  # type: ignore[assignment]


def lift(x: Any) -> Dual:
    return x if isinstance(x, Dual) else Dual(float(x), 0.0)


def value_of(x: Any) -> float:
    return x.v if isinstance(x, Dual) else float(x)


def tangent_of(x: Any) -> float:
    return x.t if isinstance(x, Dual) else 0.0


class Cond:
    """A rule's condition over duals: whether it holds at the value (`at`) and along the
    direction (`along`). They differ only for equality: 0 + 1ε is 0 at the value, not
    along the direction."""

    __slots__ = ("along", "at")

    def __init__(self, at: bool, along: bool) -> None:
        self.at = at
        self.along = along

    def __bool__(self) -> bool:
        return bool(self.at)


def _at(c: Any) -> bool:
    return c.at if isinstance(c, Cond) else bool(c)


def _along(c: Any) -> bool:
    return c.along if isinstance(c, Cond) else bool(c)


def _same(a: Any, b: Any) -> bool:
    """a and b equal as functions along the direction: value and tangent."""
    return value_of(a) == value_of(b) and tangent_of(a) == tangent_of(b)


def _sech2(x: float) -> float:
    """tanh'(x) = 4h² / (1 + h²)² with h = e^-|x|: no 1 - tanh² cancelling in saturation."""
    h = math.exp(-abs(x))
    return h * (4.0 * h) / ((1.0 + h * h) * (1.0 + h * h))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _log(x: float) -> float:
    if x > 0 and x != _inf:
        return math.log(x)
    return -_inf if x == 0 else _inf if x == _inf else _nan


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 and x != _inf else _inf if x == _inf else _nan


def _fpow(x: float, y: float) -> float:
    """x ** y as IEEE, never raising (the float pass has already named a domain error)."""
    try:
        r = x**y
    except OverflowError:
        return _inf if x > 0 or y % 2 == 0 else -_inf
    except ZeroDivisionError:
        return _inf
    return _nan if isinstance(r, complex) else r


def _trig(f, x: float) -> float:
    return f(x) if math.isfinite(x) else _nan


# ---- the primitives over (value, tangent) pairs: the one place a derivative is known ---------
# The backend below and the compiled rules (dual_rules.py) both call these.


def d_exp(v: float, t: float) -> tuple[float, float]:
    r = _exp(v)
    return r, _times(r, t)


def d_log(v: float, t: float) -> tuple[float, float]:
    return _log(v), (_div(t, v) if t != 0 else 0.0)


def d_sqrt(v: float, t: float) -> tuple[float, float]:
    r = _sqrt(v)
    return r, (_div(t, 2.0 * r) if t != 0 else 0.0)


def d_tanh(v: float, t: float) -> tuple[float, float]:
    return math.tanh(v), (_times(_sech2(v), t) if v == v else _nan)


def d_sin(v: float, t: float) -> tuple[float, float]:
    return _trig(math.sin, v), _times(_trig(math.cos, v), t)


def d_cos(v: float, t: float) -> tuple[float, float]:
    return _trig(math.cos, v), _times(-_trig(math.sin, v), t)


def d_abs(v: float, t: float) -> tuple[float, float]:
    # the slope at 0 is +1, the side `x >= 0` picks in the rules that build on abs
    # (sigmoid's e^-|x|); the abs gate's own kink at 0 is flagged by the evaluator
    return abs(v), (t if v >= 0 else -t if v < 0 else _nan)


def d_floor(v: float, t: float) -> tuple[float, float]:
    return (math.floor(v) if math.isfinite(v) else v), 0.0


_TINY = 2.2250738585072014e-308
_HUGE = 1.7976931348623157e308


def pow_slope(g: float, xv: float, yv: float, v: float) -> float:
    """g * y * x^(y-1) for x != 0, y != 0 (v = x^y), in range wherever it is, ordered as the
    float rule (gates.py's dpow): the smaller of g*y and v over x, times the other; else
    from |x|^(y-1), or its square root taken twice (y * (v / x) leaves the range for x
    below 1e-150)."""
    gy = g * yv
    a, b = (gy, v) if abs(gy) <= abs(v) else (v, gy)
    q = _div(a, xv)
    d = q * b
    if abs(a) >= _TINY and abs(q) >= _TINY and _TINY <= abs(d) <= _HUGE:
        return d
    k = yv - 1.0
    p = _fpow(abs(xv), k)
    s = -1.0 if xv < 0 and 0.5 * k != math.floor(0.5 * k) else 1.0
    if _TINY <= p <= _HUGE:
        return s * (yv * (g * p))
    h = _fpow(abs(xv), 0.5 * k)
    return s * (yv * ((g * h) * h))


def d_power(xv: float, xt: float, yv: float, yt: float) -> tuple[float, float]:
    """x ** y, moving by y x^(y-1) x' + x^y log(x) y' (each term only if its tangent is
    not 0: an integer power of a negative base has no log term)."""
    v = _fpow(xv, yv)
    t = 0.0
    if xt != 0:
        if yv == 0:
            t = 0.0
        elif xv != 0:
            t = pow_slope(xt, xv, yv, v)
        else:
            t = (0.0 if yv > 1 else 1.0 if yv == 1 else _inf) * xt
    if yt != 0:
        if xv == 0 or xv == 1:
            dy = 0.0
        elif xv > 0:
            dy = v * _log(xv)
        else:
            dy = _nan
        t += dy * yt
    return v, t


def _unary(f):
    def over_duals(x: Any) -> Dual:
        x = lift(x)
        return Dual(*f(x.v, x.t))

    over_duals.__name__ = f.__name__[2:]
    return staticmethod(over_duals)


class DualBackend:
    """The primitives gate rules call (backend.py's set), over dual numbers.

    Each primitive's tangent is its first derivative times the argument's tangent, with
    the zero rule above; `where`, the comparisons and `both`/`either` carry `Cond`s."""

    name = "dual"
    inf = _inf
    nan = _nan

    exp = _unary(d_exp)
    log = _unary(d_log)
    sqrt = _unary(d_sqrt)
    tanh = _unary(d_tanh)
    sin = _unary(d_sin)
    cos = _unary(d_cos)
    abs = _unary(d_abs)
    floor = _unary(d_floor)

    @staticmethod
    def power(x: Any, y: Any) -> Dual:
        x, y = lift(x), lift(y)
        return Dual(*d_power(x.v, x.t, y.v, y.t))

    @staticmethod
    def maximum(*xs: Any) -> Any:
        best = xs[0]
        for x in xs:
            if value_of(x) != value_of(x):
                return x
            if value_of(x) > value_of(best):
                best = x
        return best

    @staticmethod
    def minimum(*xs: Any) -> Any:
        best = xs[0]
        for x in xs:
            if value_of(x) != value_of(x):
                return x
            if value_of(x) < value_of(best):
                best = x
        return best

    @staticmethod
    def ties(out: Any, *xs: Any) -> float:
        o = value_of(out)
        return float(sum(1 for x in xs if value_of(x) == o))

    # -- conditions ----------------------------------------------------------------------------
    @staticmethod
    def where(cond: Any, a: Any, b: Any) -> Any:
        at, along = _at(cond), _along(cond)
        if at == along:
            return a if at else b
        return Dual(value_of(a if at else b), tangent_of(a if along else b))

    @staticmethod
    def gt(x: Any, y: Any) -> bool:
        return value_of(x) > value_of(y)

    @staticmethod
    def ge(x: Any, y: Any) -> bool:
        return value_of(x) >= value_of(y)

    @staticmethod
    def lt(x: Any, y: Any) -> bool:
        return value_of(x) < value_of(y)

    @staticmethod
    def le(x: Any, y: Any) -> bool:
        return value_of(x) <= value_of(y)

    @staticmethod
    def eq(x: Any, y: Any) -> Cond:
        return Cond(value_of(x) == value_of(y), _same(x, y))

    @staticmethod
    def ne(x: Any, y: Any) -> Cond:
        return Cond(value_of(x) != value_of(y), not _same(x, y))

    @staticmethod
    def both(a: Any, b: Any) -> Cond:
        return Cond(_at(a) and _at(b), _along(a) and _along(b))

    @staticmethod
    def either(a: Any, b: Any) -> Cond:
        return Cond(_at(a) or _at(b), _along(a) or _along(b))


DUAL = DualBackend()
