"""The primitives that gate rules are written over, on each target: one table.

A gate rule (gates.py) is a small Python expression over primitives: `exp`,
`power`, `maximum`, ... Each primitive is one entry of `_TEXTS`, its definition on
each target side by side:

- `python`: Python source. `REAL` (floats, the fast path for one point) runs
  exactly this text, and `circuit code` prints exactly this text into its program,
  so the two compute the same bits. Python raises where IEEE gives inf (math.exp
  past 709, x ** y overflowing); these definitions give inf instead, so one huge
  value becomes a warning on a node rather than a crash. A domain error (log of
  a negative, 0 to a negative power) still raises: that is how `grad` names the node.
- `js`: JavaScript source, for the live page (render/js.py). `LIBM.exp` and the others
  are render/page/libm.js's: the C library's algorithms, so the page's bits are Python's.
- `numpy`: the same on arrays (batches, complex step), an expression over `np` (or a
  `def`), built on first use: `numpy_backend()`.

Adding a primitive is one entry here (or `add_primitive` at run time, as a test does);
core/rules.py checks rule texts against these names and lowers them to each target.
"""

from __future__ import annotations

import linecache
import math
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

from .lazy import imported, lazy

numpy = lazy("numpy")  # only batches and the complex step: numpy_backend()

__all__ = ["PRIMITIVES", "REAL", "Primitive", "RealBackend", "add_primitive",  # noqa: F822
           "names", "numpy_backend", "overlay", "remove_primitive"]


@cache
def _primitive_class() -> type:
    """`Primitive`, made on first use (by `circuit code` and the page): a dataclass costs
    start-up time, and the float rules need only the texts (_TEXTS)."""

    @dataclass(frozen=True)
    class Primitive:
        """One primitive: its Python source (or a name imported from math), its JS source
        and its numpy source."""

        name: str
        # "math.log" (taken from math as is), "abs" (a builtin), or a `def name(...)` text
        python: str
        js: str
        # "np.log", or a `def name(...)` text over np (see numpy_backend)
        numpy: str = ""

    Primitive.__qualname__ = "Primitive"
    Primitive.__module__ = __name__
    return Primitive


@cache
def _primitives() -> dict:
    Primitive = _primitive_class()
    return {name: Primitive(name, *texts) for name, texts in _TEXTS.items()}


def __getattr__(name: str):
    # backend.PRIMITIVES and backend.Primitive, as before, made when first asked for
    if name == "PRIMITIVES":
        return _primitives()
    if name == "Primitive":
        return _primitive_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _prim(name: str, python: str, js: str, numpy: str) -> tuple[str, tuple[str, str, str]]:
    return name, (python.strip(), js.strip(), numpy.strip())


# name -> (python, js, numpy) per primitive; PRIMITIVES holds them as Primitive objects
_TEXTS: dict[str, tuple[str, str, str]] = dict((
    _prim("exp", '''
def exp(x):
    """e ** x; inf past the top of the double range (math.exp raises there)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
''', "LIBM.exp", "np.exp"),
    _prim("log", "math.log", "LIBM.log", "np.log"),
    _prim("sqrt", "math.sqrt", "Math.sqrt", "np.sqrt"),
    _prim("tanh", "math.tanh", "LIBM.tanh", "np.tanh"),
    _prim("sin", '''
def sin(x):
    """sin x; nan at +-inf, as IEEE gives (math.sin raises there)."""
    return math.sin(x) if x - x == 0 else math.nan
''', "LIBM.sin", "np.sin"),
    _prim("cos", '''
def cos(x):
    """cos x; nan at +-inf, as IEEE gives (math.cos raises there)."""
    return math.cos(x) if x - x == 0 else math.nan
''', "LIBM.cos", "np.cos"),
    _prim("abs", "abs", "Math.abs", "np.abs"),
    _prim("floor", '''
def floor(x):
    """The largest whole number <= x, as a float; inf and nan stay (math.floor raises)."""
    return float(math.floor(x)) if x - x == 0 else x
''', "Math.floor",
          "lambda x: np.floor(np.real(x))"),  # complex step: floor moves by 0
    _prim("power", '''
def power(x, y):
    """x ** y; overflow gives inf. A negative base to a fractional power is not real, and
    0 to a negative power divides by zero: both raise."""
    if x < 0 and y - y == 0 and y != math.floor(y):
        raise ValueError("a negative base to a fractional power")
    try:
        return x ** y
    except OverflowError:
        return math.inf if x > 0 or y % 2 == 0 else -math.inf
''', "LIBM.power", "np.power"),
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
  if (x > best) best = x; } return best; }""", "lambda *xs: fold(xs, np.greater)"),
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
  if (x < best) best = x; } return best; }""", "lambda *xs: fold(xs, np.less)"),
    _prim("ties", '''
def ties(out, *xs):
    """How many arguments equal the result: max and min split the gradient among them."""
    return sum(1 for x in xs if x == out)
''', "(out, ...xs) => xs.filter((x) => x === out).length",
          "lambda out, *xs: sum((re(x) == re(out)).astype(float) for x in xs)"),
))


def names() -> list[str]:
    """The primitives' names (what rules may call besides the helpers)."""
    return list(_TEXTS)


def _real_primitive(name: str, python: str) -> object:
    """A primitive as a Python function, from its `python` text (the text code prints)."""
    if python.startswith("def "):
        ns: dict = {"math": math, "inf": math.inf, "nan": math.nan}
        filename = f"<primitive {name}>"  # a traceback shows the line
        linecache.cache[filename] = (len(python), None, python.splitlines(True), filename)
        exec(compile(python, filename, "exec"), ns)  # safe: our own rule text
        return ns[name]
    if python.startswith("math."):
        return getattr(math, python[5:])
    return __builtins__[python] if isinstance(__builtins__, dict) else getattr(
        __builtins__, python)


def _real_namespace() -> dict:
    ns: dict = {"math": math, "inf": math.inf, "nan": math.nan}
    for name, (python, _, _) in _TEXTS.items():
        ns[name] = _real_primitive(name, python)
    return ns


# the names float rules are compiled in (core/rules.py adds the helpers they call)
REAL_NAMESPACE = _real_namespace()


class RealBackend:
    """Python floats: every primitive as `REAL.name`, the rules' fast path for one point."""

    name = "real"
    inf = math.inf
    nan = math.nan

    def __init__(self) -> None:
        for name in _TEXTS:
            setattr(self, name, REAL_NAMESPACE[name])

    @staticmethod
    def where(cond, a, b):
        return a if cond else b


REAL = RealBackend()


_NUMPY = None
_NUMPY_NS: dict = {}


def _numpy_primitive(name: str, text: str) -> object:
    filename = f"<primitive {name} numpy>"  # a traceback shows the line
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    if text.startswith("def "):
        exec(compile(text, filename, "exec"), _NUMPY_NS)  # safe: our own table's text
        return _NUMPY_NS[name]
    return eval(compile(text, filename, "eval"), _NUMPY_NS)  # safe: our own table's text


def numpy_backend():
    """The same primitives on numpy arrays (one row per data point), imported on first use.

    numpy does not raise on log(-1) or 1/0: it gives nan or inf. Callers evaluate
    under `np.errstate(all="ignore")` and, where a row went non-finite, re-run that
    row with REAL to get the domain error with its node and caret. Comparisons read
    real parts, so a complex backend built on this one picks the same branches.
    """
    global _NUMPY
    if _NUMPY is None:
        np = imported(numpy)  # the module itself, not its stand-in: rules read it per call

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

        _NUMPY_NS.update(np=np, re=re, fold=fold, math=math)
        made = SimpleNamespace(
            name="numpy", where=np.where, inf=np.inf, nan=np.nan,
            gt=lambda x, y: re(x) > re(y), ge=lambda x, y: re(x) >= re(y),
            lt=lambda x, y: re(x) < re(y), le=lambda x, y: re(x) <= re(y),
            eq=lambda x, y: re(x) == re(y), ne=lambda x, y: re(x) != re(y),
            both=np.logical_and, either=np.logical_or,
        )
        for name, (_, _, text) in _TEXTS.items():
            setattr(made, name, _numpy_primitive(name, text))
        made.pow = made.power
        _NUMPY = made
    return _NUMPY


class overlay:
    """A backend that is `base` except for the given primitives (complex step: its own abs
    and power); a primitive added to `base` later is seen too."""

    def __init__(self, base, **own) -> None:
        self._base = base
        self.__dict__.update(own)

    def __getattr__(self, name: str):
        return getattr(self._base, name)


def add_primitive(name: str, python: str, js: str, numpy: str) -> None:
    """A new primitive on every target (its texts as in `_TEXTS`); a test adds one this way."""
    if not name.isidentifier() or name in _TEXTS:
        raise ValueError(f"primitive {name!r}: not a new name")
    _TEXTS[name] = (python.strip(), js.strip(), numpy.strip())
    REAL_NAMESPACE[name] = _real_primitive(name, _TEXTS[name][0])
    setattr(REAL, name, REAL_NAMESPACE[name])
    if _NUMPY is not None:
        setattr(_NUMPY, name, _numpy_primitive(name, _TEXTS[name][2]))
    _primitives()[name] = _primitive_class()(name, *_TEXTS[name])  # the same dict, updated


def remove_primitive(name: str) -> None:
    """Undo `add_primitive` (a test's clean-up)."""
    del _TEXTS[name]
    REAL_NAMESPACE.pop(name, None)
    REAL.__dict__.pop(name, None)
    if _NUMPY is not None:
        _NUMPY.__dict__.pop(name, None)
    _primitives().pop(name, None)
