"""The gate table: everything a gate knows, side by side, in one entry.

Each gate is written once, as small Python expressions over its arguments `x`, `y`
(or `*xs`), its value `out` and the pull from above `g`:

- `forward`: its value, e.g. `x * y`;
- `backward`: what it passes back to each argument given the pull `g` (a vector-Jacobian
  product, the notebook's `dx = y * dq`). Written with the pull inside, so each rule can
  order its products to stay inside the double range ((g / y) * out for division), and
  say where a flat local derivative passes back exactly 0 whatever the pull (no 0 * inf);
- `kink` and `problems`: a condition and a one-line note (a non-differentiable point; an
  input the forward is not defined for).

From these texts come, so that they cannot drift apart: the float rules `grad` runs
(`REAL`, compiled from the very text), the same rules over any backend `B` (numpy
batches, complex steps), the lines of the program `circuit code` prints (render/code.py)
and the JavaScript of the live page (render/js.py). Rules call primitives (backend.py)
and the small helpers below, which are written in the same language. Evaluators,
renderers and the symbolic cross-check read this table; none of them names a gate.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from .backend import REAL, REAL_NAMESPACE

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


@dataclass(frozen=True, slots=True, eq=False)
class Gate:
    """One kind of gate, every rule as text. `arity` is None for variadic gates (max, min).

    `forward`, `partials`, `backward`, `kink` and `problem` are callables made from the
    texts; `partials` may be given instead (a test planting a wrong rule does), and then
    `backward` is that rule times the pull.
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
    # (condition, why) pairs where the forward is undefined (checked in order)
    problems: tuple[tuple[str, str], ...] = ()
    # partials(B, out, *xs) -> d out / d x_k per argument; made from `pull` unless given
    partials: Callable[..., Sequence[Any]] | None = None
    # made in __post_init__:
    real_forward: Callable[..., float] = field(init=False, repr=False)
    real_backward: Callable[..., Sequence[float]] = field(init=False, repr=False)
    kink: Callable[..., str | None] | None = field(init=False, repr=False)
    problem: Callable[..., str | None] | None = field(init=False, repr=False)
    _generic: dict = field(init=False, repr=False)
    # local derivatives that are constants (add: 1, 1; sub: 1, -1; neg: -1), else None: a
    # batch of rows can then add or subtract the pull instead of multiplying by it
    slopes: tuple[float, ...] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        # the float rules are compiled on first use (`ready`): start-up pays only for the
        # gates a circuit has, and a copy of a gate reuses what its original compiled
        rules = _REAL_RULES.get((self.name, self.rule, self.pull))
        put(self, "real_forward", rules[0] if rules else _on_first_call(self, "real_forward"))
        given = self.partials
        planted = not (given is None or getattr(given, "_rules", None) == (self.rule, self.pull))
        put(self, "_generic", {"planted": planted})
        found = [_constant_slope(p) for p in self.pull]
        constant = not planted and self.arity is not None and None not in found
        put(self, "slopes", tuple(found) if constant else None)
        if not planted:
            def partials(B, out, *xs, _gate=self):
                return _gate.backward(B, 1.0, out, *xs)

            partials._rules = (self.rule, self.pull)
            put(self, "partials", partials)
            put(self, "real_backward",
                rules[1] if rules else _on_first_call(self, "real_backward"))
        else:  # a rule given as partials: the pull times it, with the same zero rule
            def planted(g, out, *xs):
                return [p * g if p != 0 else 0.0 for p in given(REAL, out, *xs)]

            put(self, "real_backward", planted)
        # notes are compiled on first use too (kink: None for a gate that has none)
        put(self, "kink", _lazy_note(self, "kink", (self.kink_rule,), "out, ")
            if self.kink_rule else None)
        put(self, "problem", _lazy_note(self, "problem", self.problems) if self.problems else None)

    def ready(self) -> Gate:
        """This gate with its float rules compiled (evaluators call it before a sweep)."""
        key = (self.name, self.rule, self.pull)
        rules = _REAL_RULES.get(key)
        if rules is None:
            rules = _REAL_RULES[key] = _compile_real(self)
        object.__setattr__(self, "real_forward", rules[0])
        if not self._generic["planted"]:
            object.__setattr__(self, "real_backward", rules[1])
        return self

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
        """The value over backend B (REAL: floats; numpy: arrays)."""
        if B is REAL:
            return self.real_forward(*xs)
        return self._over(B)[0](B, *xs)

    def backward(self, B, g, out, *xs):
        """What each argument gets, given the pull g (g * local derivative, kept in range)."""
        if B is REAL:
            return self.real_backward(g, out, *xs)
        if self._generic["planted"]:
            return [p * g for p in self.partials(B, out, *xs)]
        return self._over(B)[1](B, g, out, *xs)

    def _over(self, B) -> tuple[Callable, Callable]:
        found = self._generic.get("rules")  # compiled on first use: only batches need it
        if found is None:
            found = self._generic["rules"] = _compile_generic(self)
        return found


def format_number(value: float) -> str:
    """A constant as it reads in a formula: 2 rather than 2.0, repr otherwise."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _num(x: Any) -> str:
    return str(x) if isinstance(x, int) else f"{x:.6g}"


# ---- compiling the texts ----------------------------------------------------------------------


def _sources(gate: Gate) -> tuple[str, str]:
    """(forward, backward) as Python lambdas over floats, from the gate's texts."""
    params = ", ".join(gate.params)
    if gate.arity is None:
        (each,) = gate.pull
        back = f"lambda g, out, *xs: [{each} for x in xs]"
    else:
        back = f"lambda g, out, {params}: ({''.join(p + ', ' for p in gate.pull)})"
    return f"lambda {params}: {gate.rule}" if params else f"lambda: {gate.rule}", back


_NS: dict = {}


def _real_ns(uses: str | None = None) -> dict:
    """The names float rules see: the primitives, and each helper once code that calls it
    (`uses`, its text) is compiled; None: every helper. A circuit without sigmoid or tanh
    never compiles their helpers."""
    if not _NS:
        _NS.update(REAL_NAMESPACE)
    pending = [uses]
    while pending:
        text = pending.pop()
        for name, helper in HELPERS.items():
            if name not in _NS and (text is None or name in text):
                exec(compile(helper, f"<helper {name}>", "exec"), _NS)  # safe: our own text
                pending.append(helper)  # a helper may call another
    return _NS
_REAL_RULES: dict[tuple, tuple[Callable, Callable]] = {}


def _on_first_call(gate: Gate, which: str) -> Callable:
    """A stand-in that compiles the gate's rules, installs them, then runs the real one."""

    def first(*args):
        return getattr(gate.ready(), which)(*args)

    return first


def _compile_real(gate: Gate) -> tuple[Callable, Callable]:
    forward, backward = _sources(gate)
    tree = _Faster().visit(ast.parse(f"({forward}, {backward})", mode="eval"))
    code = compile(ast.fix_missing_locations(tree), f"<gate {gate.name}>", "eval")
    return eval(code, _real_ns(forward + backward))  # safe: the table's own rule text


class _Faster(ast.NodeTransformer):
    """The same float arithmetic in fewer steps, for the hot loop: `1.0 * g` is g and
    `-1.0 * g` is -g bit for bit; `a if x != 0 else b` tests x itself (nan is true,
    -0.0 false, exactly as the comparison)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        left = node.left
        if isinstance(node.op, ast.Mult):
            if isinstance(left, ast.Constant) and left.value == 1.0:
                return node.right
            if (isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub)
                    and isinstance(left.operand, ast.Constant) and left.operand.value == 1.0):
                return ast.UnaryOp(ast.USub(), node.right)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        test = node.test
        if (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value == 0 and type(test.comparators[0].value) is not bool):
            if isinstance(test.ops[0], ast.NotEq):
                node.test = test.left
            elif isinstance(test.ops[0], ast.Eq):
                node.test = ast.UnaryOp(ast.Not(), test.left)
        return node


class _OverBackend(ast.NodeTransformer):
    """A rule over floats -> the same rule over backend B: calls become B.exp(...), `a if c
    else b` becomes B.where(c, a, b), comparisons B.gt(...), so arrays take both branches."""

    _CMP: ClassVar[dict] = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq",
                             ast.NotEq: "ne"}

    @staticmethod
    def _b(name: str) -> ast.Attribute:
        return ast.Attribute(ast.Name("B", ast.Load()), name, ast.Load())

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        assert isinstance(node.func, ast.Name)
        if node.func.id in HELPERS:  # helpers take B first
            return ast.Call(ast.Name("_h_" + node.func.id, ast.Load()),
                            [ast.Name("B", ast.Load()), *node.args], [])
        return ast.Call(self._b(node.func.id), node.args, [])

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        return ast.Call(self._b("where"), [node.test, node.body, node.orelse], [])

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        (op,), (right,) = node.ops, node.comparators
        return ast.Call(self._b(self._CMP[type(op)]), [node.left, right], [])

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        name = "both" if isinstance(node.op, ast.And) else "either"
        out = node.values[0]
        for v in node.values[1:]:
            out = ast.Call(self._b(name), [out, v], [])
        return out

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self._b(node.id) if node.id in ("inf", "nan") else node


def over_backend(text: str) -> str:
    """A rule's text rewritten over a backend B (see _OverBackend)."""
    tree = _OverBackend().visit(ast.parse(text))
    return ast.unparse(ast.fix_missing_locations(tree))


_GENERIC_NS: dict | None = None


def _generic_namespace() -> dict:
    global _GENERIC_NS
    if _GENERIC_NS is None:
        ns: dict = {}
        for name, text in HELPERS.items():
            tree = ast.parse(over_backend(text))
            fn = tree.body[0]
            fn.name = "_h_" + name
            fn.args.args.insert(0, ast.arg("B"))
            code = compile(ast.fix_missing_locations(tree), f"<helper {name}>", "exec")
            exec(code, ns)  # safe: our own rule text
        _GENERIC_NS = ns
    return _GENERIC_NS


def _compile_generic(gate: Gate) -> tuple[Callable, Callable]:
    forward, backward = (over_backend(text).replace("lambda", "lambda B,", 1).replace(
        "lambda B,:", "lambda B:", 1) for text in _sources(gate))
    code = compile(f"({forward}, {backward})", f"<gate {gate.name} over B>", "eval")
    return eval(code, _generic_namespace())  # safe: our own rule text


def _constant_slope(pull: str) -> float | None:
    r"""The slope of a pull rule that is a constant times g ("1.0 * g", "-1.0 * g"), else
    None: what fullmatch(r"(-?\d+\.\d+) \* g") finds, without compiling a pattern at
    start-up (\d is str.isdecimal)."""
    if not pull.endswith(" * g"):
        return None
    head = pull[:-4]
    whole, dot, fraction = (head[1:] if head.startswith("-") else head).partition(".")
    return float(head) if dot and whole.isdecimal() and fraction.isdecimal() else None


@cache
def _slot() -> re.Pattern:
    """`{expr}` in a note (compiled on the first note: notes are the rare path)."""
    return re.compile(r"\{([^{}]+)\}")


def _lazy_note(gate: Gate, attr: str, rules, head: str = "") -> Callable[..., str | None]:
    """A stand-in that compiles the note function on its first call and installs it."""

    def first(*args):
        note = _note_function(gate, rules, head)
        object.__setattr__(gate, attr, note)
        return note(*args)

    return first


def _note_function(gate: Gate, rules, head: str = "") -> Callable[..., str | None]:
    """(condition, note) pairs -> f(*args) giving the first note whose condition holds."""
    params = head + ", ".join(gate.params)
    parts = []
    for cond, note in rules:
        pieces = _slot().split(note)  # text, expr, text, expr, ...
        fields = [f"_num({p})" for p in pieces[1::2]]
        parts.append(f"(({cond}), ({pieces[0::2]!r}, [{', '.join(fields)}]))")
    code = compile(f"lambda {params}: [{', '.join(parts)}]", f"<notes {gate.name}>", "eval")
    checks = eval(code, {**_real_ns(str(rules)), "_num": _num})  # safe: our own rule text

    def note(*args):
        try:
            found = checks(*args)
        except (ArithmeticError, ValueError, TypeError):
            return None
        for hit, (texts, values) in found:
            if hit:
                return "".join(t + v for t, v in zip(texts, [*values, ""]))
        return None

    return note


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
         problems=(("y == 0", "division by zero: the divisor is 0 (numerator {x})"),)),
    Gate(name="neg", arity=1, op="neg", rule="-x",
         pull=("-1.0 * g",),
         display="-{0}", sympy=lambda sp, x: -x, stem="neg"),
    Gate(name="pow", arity=2, op="**", function=True, rule="power(x, y)",
         # d/dx = y * x**(y-1) = y * out / x (flat at y = 0; at x = 0: 0, 1 or inf by y);
         # d/dy = out * log(x) (flat at x = 0 and x = 1, undefined for x < 0)
         pull=("0.0 if y == 0 else g * y * (out / x) if x != 0 else 0.0 if y > 1 or g == 0"
               " else g if y == 1 else g * inf",
               "0.0 if x == 0 or x == 1 else g * log(x) * out if x > 0 else 0.0 if g == 0"
               " else nan"),
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
         pull=("g / (2.0 * out) if out != 0 else 0.0 if g == 0 else g * inf",),
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
