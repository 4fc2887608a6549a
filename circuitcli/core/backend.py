"""The primitives that gate rules are written over, on each target.

A gate rule (gates.py) is a small Python expression over primitives: `exp`,
`power`, `maximum`, ... Each primitive is defined here once per target:

- `python`: Python source. `REAL` (floats, the fast path for one point) runs
  exactly this text, and `circuit code` prints exactly this text into its program,
  so the two compute the same bits. Python raises where IEEE gives inf (math.exp
  past 709, x ** y overflowing); these definitions give inf instead, so one huge
  value becomes a warning on a node rather than a crash. A domain error (log of
  a negative, 0 to a negative power) still raises: that is how `grad` names the node.
- `numpy`: the same on arrays (batches, complex-step), built on first use.
- `js`: JavaScript source, for the live page (render/js.py).
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace

__all__ = ["PRIMITIVES", "REAL", "Primitive", "RealBackend", "numpy_backend"]  # noqa: F822


@cache
def _primitive_class() -> type:
    """`Primitive`, made on first use (by `circuit code` and the page): a dataclass costs
    start-up time, and the float rules need only the texts (_TEXTS)."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Primitive:
        """One primitive: its Python source (or a name imported from math) and its JS
        source."""

        name: str
        # "math.log" (taken from math as is), "abs" (a builtin), or a `def name(...)` text
        python: str
        js: str

    Primitive.__qualname__ = "Primitive"
    Primitive.__module__ = __name__
    return Primitive


@cache
def _primitives() -> dict:
    Primitive = _primitive_class()
    return {name: Primitive(name, python, js) for name, python, js in _TEXTS}


def __getattr__(name: str):
    # backend.PRIMITIVES and backend.Primitive, as before, made when first asked for
    if name == "PRIMITIVES":
        return _primitives()
    if name == "Primitive":
        return _primitive_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _prim(name: str, python: str, js: str) -> tuple[str, str, str]:
    return name, python.strip(), js.strip()


# (name, python, js) per primitive; PRIMITIVES holds them as Primitive objects
_TEXTS: tuple[tuple[str, str, str], ...] = (
    _prim("exp", '''
def exp(x):
    """e ** x; inf past the top of the double range (math.exp raises there)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
''', "Math.exp"),
    _prim("log", "math.log", "Math.log"),
    _prim("sqrt", "math.sqrt", "Math.sqrt"),
    _prim("tanh", "math.tanh", "Math.tanh"),
    _prim("sin", "math.sin", "Math.sin"),
    _prim("cos", "math.cos", "Math.cos"),
    _prim("abs", "abs", "Math.abs"),
    _prim("floor", "math.floor", "Math.floor"),
    _prim("power", '''
def power(x, y):
    """x ** y; overflow gives inf. A negative base to a fractional power is not real, and
    0 to a negative power divides by zero: both raise."""
    if x < 0 and y != int(y):
        raise ValueError("a negative base to a fractional power")
    try:
        return x ** y
    except OverflowError:
        return math.inf if x > 0 or y % 2 == 0 else -math.inf
''', "(x, y) => x ** y"),
    _prim("maximum", '''
def maximum(*xs):
    """The largest argument; nan if any is nan (Python's max depends on the order then)."""
    best = xs[0]
    for x in xs:
        if x != x:
            return x
        if x > best:
            best = x
    return best
''', """(...xs) => { let best = xs[0]; for (const x of xs) { if (x !== x) return x;
  if (x > best) best = x; } return best; }"""),
    _prim("minimum", '''
def minimum(*xs):
    """The smallest argument; nan if any is nan (Python's min depends on the order then)."""
    best = xs[0]
    for x in xs:
        if x != x:
            return x
        if x < best:
            best = x
    return best
''', """(...xs) => { let best = xs[0]; for (const x of xs) { if (x !== x) return x;
  if (x < best) best = x; } return best; }"""),
    _prim("ties", '''
def ties(out, *xs):
    """How many arguments equal the result: max and min split the gradient among them."""
    return sum(1 for x in xs if x == out)
''', "(out, ...xs) => xs.filter((x) => x === out).length"),
)


def _real_namespace() -> dict:
    """The primitives as Python functions, from their `python` text (the text code prints)."""
    ns: dict = {"math": math, "inf": math.inf, "nan": math.nan}
    for name, python, _ in _TEXTS:
        if python.startswith("def "):
            exec(compile(python, f"<primitive {name}>", "exec"), ns)  # safe: our own rule text
        elif python.startswith("math."):
            ns[name] = getattr(math, python[5:])
        else:
            ns[name] = __builtins__[python] if isinstance(__builtins__, dict) else getattr(
                __builtins__, python)
    return ns


REAL_NAMESPACE = _real_namespace()


class RealBackend:
    """Python floats: every primitive as `REAL.name`, the rules' fast path for one point."""

    name = "real"
    inf = math.inf
    nan = math.nan

    def __init__(self) -> None:
        for name, _, _ in _TEXTS:
            setattr(self, name, REAL_NAMESPACE[name])

    @staticmethod
    def where(cond, a, b):
        return a if cond else b


REAL = RealBackend()


_NUMPY = None


def numpy_backend():
    """The same primitives on numpy arrays (one row per data point), imported on first use.

    numpy does not raise on log(-1) or 1/0: it gives nan or inf. Callers evaluate
    under `np.errstate(all="ignore")` and, where a row went non-finite, re-run that
    row with REAL to get the domain error with its node and caret. Comparisons read
    real parts, so a complex backend built on this one picks the same branches.
    """
    global _NUMPY
    if _NUMPY is None:
        import numpy as np

        def re(x):
            return np.real(x)

        def fold(xs, better):
            best = xs[0]
            for x in xs[1:]:
                best = np.where(better(re(x), re(best)), x, best)
            nan = np.zeros(np.shape(best), dtype=bool)
            for x in xs:
                nan = nan | np.isnan(re(x))
            return np.where(nan, np.nan, best)

        def ties(out, *xs):
            return sum((re(x) == re(out)).astype(float) for x in xs)

        _NUMPY = SimpleNamespace(
            name="numpy", exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, sin=np.sin,
            cos=np.cos, abs=np.abs, floor=np.floor, power=np.power, pow=np.power,
            maximum=lambda *xs: fold(xs, np.greater), minimum=lambda *xs: fold(xs, np.less),
            ties=ties, where=np.where, inf=np.inf, nan=np.nan,
            gt=lambda x, y: re(x) > re(y), ge=lambda x, y: re(x) >= re(y),
            lt=lambda x, y: re(x) < re(y), le=lambda x, y: re(x) <= re(y),
            eq=lambda x, y: re(x) == re(y), ne=lambda x, y: re(x) != re(y),
            both=np.logical_and, either=np.logical_or,
        )
    return _NUMPY
