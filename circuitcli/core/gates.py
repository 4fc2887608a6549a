"""The gate table: everything a gate knows, side by side, in one entry.

Each gate is written once, as small Python expressions over its arguments `x`, `y`
(or `*xs`), its value `out` and the pull from above `g`:

- `rule`: its value, e.g. `x * y`;
- `pull`: what it passes back to each argument given the pull `g` (a vector-Jacobian
  product, the notebook's `dx = y * dq`). Written with the pull inside, so each rule can
  order its products to stay inside the double range ((g / y) * out for division), and
  say where a flat local derivative passes back exactly 0 whatever the pull (no 0 * inf);
- `kink_rule` and `problems`: a condition and a one-line note (a non-differentiable
  point; an input the forward is not defined for).

The texts are compiled by one compiler (core/rules.py): parsed and checked once, then
lowered to each target: the float rules `grad` runs, the same rules over any backend `B`
(numpy batches, complex steps, dual numbers), the compiled sweeps for big tapes, the
lines of the program `circuit code` prints and the JavaScript of the live page. Rules
call primitives (backend.py) and the small helpers below, which are written in the same
language. Evaluators, renderers and the symbolic cross-check read this table; none of
them names a gate. Adding a gate is adding one entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import rules
from .backend import REAL

__all__ = ["FUNCTIONS", "GATES", "HELPERS", "OPERATORS", "Gate", "format_number"]

# ---- helpers: small functions the rules call, in the rules' own language -------------------

HELPERS: dict[str, str] = {
    "sigmoid": '''
def sigmoid(x):
    e = exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
''',
    # g * sigmoid'(x) from the input: out * (1 - out) cancels once out rounds to 1.
    # sigmoid' = e / (1 + e)**2 with e = exp(-|x|), taken as h * h (h = exp(-|x| / 2))
    # so that g * h * h stays in range wherever the product does (x = 800, g = 1e300)
    # Near 0 that form's own slope cancels (e^-|x| rounds near 1), and the Hessians that
    # run this rule over dual numbers need it: for |x| <= 1, sigmoid' = (1 - t*t) / 4 with
    # t = tanh(x / 2) (t <= 0.47: no cancellation, and its slope comes from tanh's)
    "dsigmoid": '''
def dsigmoid(x, g):
    h = exp(-0.5 * abs(x))
    t = tanh(0.5 * x)
    d = (1.0 + h * h) * (1.0 + h * h)
    return 0.25 * g * (1.0 - t * t) if abs(x) <= 1.0 else g * h * h / d
''',
    # g * y * x**(y - 1) for pow: the smaller of g * y and out divided by x, times the other,
    # where every step is a normal number (the common case; dividing the smaller keeps the
    # quotient's own slope in range too, for the Hessians that run this over dual numbers:
    # sin(z) ** z at z = 1e-300), else from x**(y - 1) itself (x = 1e-300, y = 2: out
    # underflows), or from its square root h taken twice, (g * h) * h, where x**(y - 1)
    # leaves the range but the product does not (pow(y, -2) * abs(y) at y = 1e150)
    "dpow": '''
def dpow(g, x, y, out):
    tiny = 2.2250738585072014e-308
    gy = g * y
    a = gy if abs(gy) <= abs(out) else out
    b = out if abs(gy) <= abs(out) else gy
    q = a / x
    d = q * b
    ok = abs(a) >= tiny and abs(q) >= tiny and abs(d) >= tiny
    return d if ok and abs(d) <= 1.7976931348623157e308 else dpowfar(g, x, y)
''',
    "dpowfar": '''
def dpowfar(g, x, y):
    k = y - 1.0
    p = power(abs(x), k)
    h = power(abs(x), 0.5 * k)
    s = -1.0 if x < 0 and 0.5 * k != floor(0.5 * k) else 1.0
    far = p < 2.2250738585072014e-308 or p > 1.7976931348623157e308
    return s * (y * ((g * h) * h)) if far else s * (y * (g * p))
''',
    # g * tanh'(x) = g * 4e / (1 + e)**2 with e = exp(-2|x|) = h * h; 1 - out**2 cancels
    # (for |x| <= 0.5, 1 - t*t with t = tanh(x), as for dsigmoid: its slope does not cancel)
    "dtanh": '''
def dtanh(x, g):
    h = exp(-abs(x))
    t = tanh(x)
    d = (1.0 + h * h) * (1.0 + h * h)
    return g * (1.0 - t * t) if abs(x) <= 0.5 else g * h * (4.0 * h) / d
''',
}
HELPERS = {name: text.strip() for name, text in HELPERS.items()}
rules.use_helpers(HELPERS)  # the compiler reads the table it is given, never imports it


@dataclass(frozen=True, slots=True, eq=False)
class Gate:
    """One kind of gate, every rule as text. `arity` is None for variadic gates (max, min).

    The texts are the whole definition: what runs them (floats, a backend `B`, the
    compiled sweeps, printed Python, JavaScript) is made from them by core/rules.py on
    first use and kept there, keyed by the texts; the Gate itself never changes.
    """

    name: str
    arity: int | None
    # the value, over x, y (or *xs): "x * y"
    rule: str
    # what each argument gets, over g, out, x, y; a variadic gate has one rule for each `x`
    pull: tuple[str, ...]
    # how a node reads in tables: "{0} + {1}", "sigmoid({0})"; "{*}" is all arguments
    display: str
    # sympy(sp, *args) -> sympy expression (sp is the sympy module, imported by the caller)
    sympy: Callable[..., Any]
    # the auto-name stem for unnamed nodes of this gate: "mul" -> mul1, mul2, ...
    stem: str
    # how the parser spells it as an operator ("+", "**", "neg" for unary minus), if it is one
    op: str | None = None
    # whether a user may call it by name: sigmoid(x), pow(x, y)
    function: bool = False
    # (condition, note) where the gate is not differentiable; {expr} in the note is filled in
    kink_rule: tuple[str, str] | None = None
    # whether the kink is a seam between smooth pieces (relu, abs, max: the slope jumps there,
    # and a numerical step that crosses it is not a derivative) or one point (pow at 0 ** 0)
    seam: bool = True
    # (condition, why) pairs where the forward is undefined (checked in order); a third
    # item names the argument the note is about (its node is the one an error points at)
    problems: tuple[tuple[str, ...], ...] = ()

    def ready(self) -> Gate:
        """This gate with its float rules compiled (evaluators call it before a sweep)."""
        rules.real(self)
        return self

    @property
    def real_forward(self) -> Callable[..., float]:
        """The value over floats: f(*xs)."""
        return rules.real(self)[0]

    @property
    def real_backward(self) -> Callable[..., Sequence[float]]:
        """What each argument gets over floats: f(g, out, *xs)."""
        return rules.real(self)[1]

    @property
    def kink(self) -> Callable[..., str | None] | None:
        """kink(out, *xs): the note where the gate is not differentiable, else None; None
        for a gate without a kink rule."""
        return rules.notes(self)[0] if self.kink_rule else None

    @property
    def problem(self) -> Callable[..., str | None] | None:
        """problem(*xs): why the forward is undefined there, else None; None for a gate
        defined everywhere."""
        return rules.notes(self)[1] if self.problems else None

    @property
    def slopes(self) -> tuple[float, ...] | None:
        """Local derivatives that are constants (add: 1, 1; sub: 1, -1; neg: -1), else None:
        a batch of rows can then add or subtract the pull instead of multiplying by it."""
        return rules.slopes(self)

    def describe(self, args: Sequence[str]) -> str:
        """The node as a formula over its arguments' names: `x + y`, `max(a, b, c)`."""
        if "{*}" in self.display:
            return self.display.replace("{*}", ", ".join(args))
        return self.display.format(*args)

    @property
    def params(self) -> list[str]:
        """The argument names the rules use: ["x"], ["x", "y"] or ["*xs"]."""
        return ["*xs"] if self.arity is None else ["x", "y"][: self.arity]

    def forward(self, B, *xs):
        """The value over backend B (REAL: floats; numpy: arrays; see core/rules.py for
        what a backend provides)."""
        if B is REAL:
            return rules.real(self)[0](*xs)
        return rules.over(self)[0](B, *xs)

    def backward(self, B, g, out, *xs):
        """What each argument gets, given the pull g (g * local derivative, kept in range)."""
        if B is REAL:
            return rules.real(self)[1](g, out, *xs)
        return rules.over(self)[1](B, g, out, *xs)

    def partials(self, B, out, *xs):
        """The local derivatives: what each argument gets from a pull of 1."""
        return self.backward(B, 1.0, out, *xs)


def format_number(value: float) -> str:
    """A constant as it reads in a formula: 2 rather than 2.0, repr otherwise."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ---- the table --------------------------------------------------------------------------------

_TABLE = [
    Gate(name="input", arity=0, rule="0.0", pull=(), display="input", sympy=lambda sp: None,
         stem="in"),
    Gate(name="const", arity=0, rule="0.0", pull=(), display="const", sympy=lambda sp: None,
         stem="c"),
    Gate(name="add", arity=2, op="+", rule="x + y",
         pull=("1.0 * g", "1.0 * g"),
         display="{0} + {1}", sympy=lambda sp, x, y: x + y, stem="add"),
    Gate(name="sub", arity=2, op="-", rule="x - y",
         pull=("1.0 * g", "-1.0 * g"),
         display="{0} - {1}", sympy=lambda sp, x, y: x - y, stem="sub"),
    Gate(name="mul", arity=2, op="*", rule="x * y",
         # a factor of exactly 0 is flat in the other argument: it passes back 0, even inf
         pull=("y * g if y != 0 else 0.0", "x * g if x != 0 else 0.0"),
         display="{0} * {1}", sympy=lambda sp, x, y: x * y, stem="mul"),
    Gate(name="div", arity=2, op="/", rule="x / y",
         # d/dy = -x / y**2, taken as -(g / y) * out: -x / (y * y) underflows at y = e**400
         pull=("g / y", "-(g / y) * out if x != 0 else 0.0"),
         display="{0} / {1}", sympy=lambda sp, x, y: x / y, stem="div",
         problems=(("y == 0", "division by zero: the divisor is 0 (numerator {x})", "y"),)),
    Gate(name="neg", arity=1, op="neg", rule="-x",
         pull=("-1.0 * g",),
         display="-{0}", sympy=lambda sp, x: -x, stem="neg"),
    Gate(name="pow", arity=2, op="**", function=True, rule="power(x, y)",
         # d/dx = y * x**(y-1) = y * out / x (flat at y = 0; at x = 0: 0, 1 or inf by y);
         # d/dy = out * log(x) (flat at x = 0 and x = 1, undefined for x < 0)
         pull=("0.0 if y == 0 else dpow(g, x, y, out) if x != 0 else 0.0 if y > 1"
               " else g if y == 1 else g * inf",
               "0.0 if x == 0 or x == 1 else g * log(x) * out if x > 0 else nan"),
         display="{0} ** {1}", sympy=lambda sp, x, y: x**y, stem="pow",
         kink_rule=("x == 0 and y == 0",
                    "pow at 0 ** 0: d/dy is undefined (0 ** y jumps from inf to 0); uses 0"),
         seam=False,
         problems=(("x < 0 and y != floor(y)",
                    "a negative base ({x}) to a fractional power ({y}) is not a real number"),
                   ("x == 0 and y < 0", "0 to a negative power ({y}) is a division by zero"))),
    Gate(name="sigmoid", arity=1, function=True, rule="sigmoid(x)",
         pull=("dsigmoid(x, g)",),
         display="sigmoid({0})", sympy=lambda sp, x: 1 / (1 + sp.exp(-x)), stem="sig"),
    Gate(name="tanh", arity=1, function=True, rule="tanh(x)",
         pull=("dtanh(x, g)",),
         display="tanh({0})", sympy=lambda sp, x: sp.tanh(x), stem="tanh"),
    Gate(name="relu", arity=1, function=True, rule="0.0 if x <= 0 else x",
         pull=("g if x > 0 else 0.0",),
         display="relu({0})", sympy=lambda sp, x: sp.Piecewise((x, x > 0), (0, True)),
         stem="relu", kink_rule=("x == 0", "relu at 0: uses the subgradient 0")),
    Gate(name="exp", arity=1, function=True, rule="exp(x)",
         pull=("out * g",),
         display="exp({0})", sympy=lambda sp, x: sp.exp(x), stem="exp"),
    Gate(name="log", arity=1, function=True, rule="log(x)",
         pull=("g / x",),
         display="log({0})", sympy=lambda sp, x: sp.log(x), stem="log",
         problems=(("x <= 0", "argument is {x}; log needs a positive number"),)),
    Gate(name="sqrt", arity=1, function=True, rule="sqrt(x)",
         # at 0 the slope is infinite: inf times the pull (a zero pull passes back 0)
         pull=("g / (2.0 * out) if out != 0 else g * inf",),
         display="sqrt({0})", sympy=lambda sp, x: sp.sqrt(x), stem="sqrt",
         problems=(("x < 0", "argument is {x}; sqrt needs a number >= 0"),)),
    Gate(name="abs", arity=1, function=True, rule="abs(x)",
         pull=("g if x > 0 else -g if x < 0 else 0.0",),
         display="abs({0})", sympy=lambda sp, x: sp.Abs(x), stem="abs",
         kink_rule=("x == 0", "abs at 0: uses the subgradient 0")),
    Gate(name="sin", arity=1, function=True, rule="sin(x)",
         pull=("cos(x) * g",),
         display="sin({0})", sympy=lambda sp, x: sp.sin(x), stem="sin"),
    Gate(name="cos", arity=1, function=True, rule="cos(x)",
         pull=("-sin(x) * g",),
         display="cos({0})", sympy=lambda sp, x: sp.cos(x), stem="cos"),
    Gate(name="max", arity=None, function=True, rule="maximum(*xs)",
         # ties split the pull equally (as torch.maximum does); nan anywhere gives nan
         pull=("g / ties(out, *xs) if x == out else nan if out != out else 0.0",),
         display="max({*})", sympy=lambda sp, *xs: sp.Max(*xs), stem="max",
         kink_rule=("ties(out, *xs) > 1", "tie between {ties(out, *xs)} arguments at {out}: "
                    "each gets 1/{ties(out, *xs)} of the gradient")),
    Gate(name="min", arity=None, function=True, rule="minimum(*xs)",
         pull=("g / ties(out, *xs) if x == out else nan if out != out else 0.0",),
         display="min({*})", sympy=lambda sp, *xs: sp.Min(*xs), stem="min",
         kink_rule=("ties(out, *xs) > 1", "tie between {ties(out, *xs)} arguments at {out}: "
                    "each gets 1/{ties(out, *xs)} of the gradient")),
]

GATES: dict[str, Gate] = {g.name: g for g in _TABLE}

# how the parser's operators map to gates, and the functions a user may call by name
OPERATORS: dict[str, Gate] = {g.op: g for g in _TABLE if g.op is not None}
FUNCTIONS: dict[str, Gate] = {g.name: g for g in _TABLE if g.function}
