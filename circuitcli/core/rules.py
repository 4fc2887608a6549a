"""The rule compiler: every rule text of the gate table parsed and checked once, then lowered.

A gate (gates.py) is written as short Python expressions: its value (`rule`), what each
argument gets from the pull `g` (`pull`), and its kink and domain notes; helpers
(`sigmoid`, `dsigmoid`, ...) are small `def`s in the same language. Nothing else reads
those texts: `parsed(gate)` and `helper(name)` parse each one once into Python `ast`
trees (the one intermediate form), check that it stays inside the rule language (numbers,
`+ - * / **`, unary `-`, one comparison, `and`/`or`, `a if c else b`, calls of primitives
and helpers, the names the text may use), and keep it. Each target is a lowering of
those trees:

- floats: `real(gate)`, Python functions compiled on first use (what `grad` runs);
- any backend `B`: `over(gate)`, the same over `B.exp`, `B.where`, ... (numpy batches,
  complex step, Dual objects), through `Gate.forward(B, *xs)` / `Gate.backward(B, ...)`;
- dual numbers as plain float code over (value, tangent) pairs, one tangent or a numpy
  array of them: `dual(gate, vector)` (the Hessians of methods/derivatives.py);
- the compiled sweeps of big tapes: `real_trees(gate)` and `substitute` (core/sweep.py);
- Python text for `circuit code`: `parsed(gate)`, `substitute` (render/code.py);
- JavaScript for the page: `parsed(gate)`, `helper(name)` (render/js.py);
- kink and domain notes: `notes(gate)`.

Generated sources are registered with `linecache`, so a traceback through a rule shows
the rule's line. Compiled forms live here, keyed by the gate's texts, never on the
(frozen) `Gate`.

**What a backend object `B` must provide** (for `Gate.forward(B, *xs)` and
`Gate.backward(B, g, out, *xs)`): every primitive of `backend.PRIMITIVES` as an attribute
(`B.exp`, `B.log`, `B.sqrt`, `B.tanh`, `B.sin`, `B.cos`, `B.abs`, `B.floor`, `B.power`,
`B.maximum`, `B.minimum`, `B.ties`, and any primitive added since); the constants `B.inf`
and `B.nan`; and the control of the rule language: `B.where(c, a, b)` (`a if c else b`,
elementwise), the comparisons `B.gt`, `B.ge`, `B.lt`, `B.le`, `B.eq`, `B.ne` (each of
two arguments) and `B.both(a, b)` / `B.either(a, b)` (`and` / `or`). Arithmetic is the
values' own (`+ - * / **`, unary `-`). `backend.numpy_backend()` is the model to copy.

Where a change goes: a gate is one entry in gates.py; a primitive is one entry in
backend.py (its Python, JavaScript and numpy texts); a target is one lowering of
`parsed(gate)` and `helper(name)`.
"""

from __future__ import annotations

import ast
import copy
import linecache
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from . import backend
from .lazy import imported, lazy

if TYPE_CHECKING:
    from .gates import Gate

__all__ = ["Parsed", "RuleError", "dual", "helper", "helper_closure", "notes", "over", "parsed",
           "problem_argument", "real",
           "real_namespace", "real_trees", "register_source", "slopes", "substitute",
           "use_helpers"]

# only forward mode and Hessians lower rules to dual numbers (the vector form over numpy)
duals = lazy("circuitcli.core.dual")
dual_vectors = lazy("circuitcli.core.dual_vector")
numpy = lazy("numpy")

CONSTANTS = ("inf", "nan")


class RuleError(ValueError):
    """A rule text outside the rule language (a mistake in the table, found on first use)."""


# ---- the intermediate form ----------------------------------------------------------------


class Parsed:
    """A gate's rule texts as checked trees (never changed: lowerings work on copies).

    `rule` and `pulls` are expressions; `kink` is (condition, note pieces) or None and
    `problems` a tuple of (condition, note pieces, argument the note is about) where
    note pieces alternate text and expressions ("argument is ", <x>, ...).
    """

    __slots__ = ("kink", "names", "params", "problems", "pulls", "rule", "slopes", "variadic")

    def __init__(self, gate: Gate) -> None:
        where = f"gate {gate.name}"
        self.variadic = gate.arity is None
        self.params = ("xs",) if self.variadic else ("x", "y")[: gate.arity]
        args = set(self.params)
        self.rule = _expression(gate.rule, args, f"{where}: rule")
        each = {"x"} if self.variadic else set()
        written = tuple(_expression(p, args | each | {"g", "out"}, f"{where}: pull")
                        for p in gate.pull)
        # one rule for every target: a pull of exactly 0 passes back exactly 0 (never
        # 0 * inf = nan, never -0.0), as a flat local derivative does
        self.pulls = tuple(_zero_passes_zero(t) for t in written)
        if len(self.pulls) != (1 if self.variadic else gate.arity):
            raise RuleError(f"{where}: {len(self.pulls)} pull rules for arity {gate.arity}")
        self.kink = None
        if gate.kink_rule is not None:
            cond, note = gate.kink_rule
            self.kink = (_expression(cond, args | {"out"}, f"{where}: kink"),
                         _note(note, args | {"out"}, f"{where}: kink note"))
        problems = []
        for problem in gate.problems:
            cond, note = problem[0], problem[1]
            about = problem[2] if len(problem) > 2 else None
            if about is not None and about not in args:
                raise RuleError(f"{where}: a problem about {about!r}, not an argument")
            problems.append((_expression(cond, args, f"{where}: problem"),
                             _note(note, args, f"{where}: problem note"), about))
        self.problems = tuple(problems)
        self.names = frozenset(
            n.id for tree in (self.rule, *self.pulls) for n in ast.walk(tree)
            if isinstance(n, ast.Name))
        found = [_constant_slope(p) for p in written]
        self.slopes = tuple(found) if not self.variadic and None not in found else None


class Helper:
    """A helper's `def` as a checked tree: assignments, then one return."""

    __slots__ = ("name", "names", "params", "tree")

    def __init__(self, name: str, text: str) -> None:
        where = f"helper {name}"
        try:
            module = ast.parse(text)
        except SyntaxError as exc:
            raise RuleError(f"{where}: {exc.msg}") from None
        fn = module.body[0] if len(module.body) == 1 else None
        if not isinstance(fn, ast.FunctionDef) or fn.name != name or fn.decorator_list or (
                fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.defaults):
            raise RuleError(f"{where}: one plain `def {name}(...)`")
        known = {a.arg for a in fn.args.args}
        for k, st in enumerate(fn.body):
            last = k == len(fn.body) - 1
            if last and isinstance(st, ast.Return) and st.value is not None:
                _check(st.value, known, where)
            elif not last and isinstance(st, ast.Assign) and len(st.targets) == 1 and \
                    isinstance(st.targets[0], ast.Name):
                _check(st.value, known, where)
                known.add(st.targets[0].id)
            else:
                raise RuleError(f"{where}: only assignments to a name, then a return")
        self.name = name
        self.tree = fn
        self.params = [a.arg for a in fn.args.args]
        self.names = frozenset(n.id for n in ast.walk(fn) if isinstance(n, ast.Name))


_BIN = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_CMP = (ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq)
_PARTS = (ast.operator, ast.cmpop, ast.boolop, ast.unaryop, ast.expr_context, ast.Expression)


def _callable() -> set[str]:
    return {*backend.names(), *_helpers()}


def _check(tree: ast.AST, allowed: set[str], where: str) -> None:
    """Raise RuleError unless the tree is in the rule language over these names."""
    calls = _callable()
    names = allowed | calls | set(CONSTANTS)
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            if node.id not in names:
                raise RuleError(f"{where}: unknown name {node.id!r}")
        elif kind is ast.Call:
            if not isinstance(node.func, ast.Name) or node.func.id not in calls or node.keywords:
                raise RuleError(f"{where}: calls only primitives and helpers by name")
            for arg in node.args:
                if isinstance(arg, ast.Starred) and not (
                        isinstance(arg.value, ast.Name) and arg.value.id == "xs"):
                    raise RuleError(f"{where}: only *xs may be spread")
        elif kind is ast.Constant:
            if type(node.value) not in (int, float):
                raise RuleError(f"{where}: constant {node.value!r} is not a number")
        elif kind is ast.BinOp:
            if not isinstance(node.op, _BIN):
                raise RuleError(f"{where}: no operator {type(node.op).__name__}")
        elif kind is ast.UnaryOp:
            if not isinstance(node.op, ast.USub):
                raise RuleError(f"{where}: the only unary operator is -")
        elif kind is ast.Compare:
            if len(node.ops) != 1 or not isinstance(node.ops[0], _CMP):
                raise RuleError(f"{where}: one comparison at a time")
        elif kind in (ast.IfExp, ast.BoolOp, ast.Starred) or isinstance(node, _PARTS):
            continue
        else:
            raise RuleError(f"{where}: the rule language has no {kind.__name__}")


def _expression(text: str, allowed: set[str], where: str) -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise RuleError(f"{where}: {exc.msg}: {text!r}") from None
    _check(tree, allowed, where)
    return tree


def _note(note: str, allowed: set[str], where: str) -> tuple:
    """"argument is {x}; ..." -> ("argument is ", <x>, "; ...")."""
    pieces: list[Any] = []
    rest = note
    while True:
        start = rest.find("{")
        if start < 0:
            pieces.append(rest)
            return tuple(pieces)
        end = rest.find("}", start)
        if end < 0:
            raise RuleError(f"{where}: unclosed {{ in {note!r}")
        pieces += [rest[:start], _expression(rest[start + 1:end], allowed, where)]
        rest = rest[end + 1:]


def _zero_passes_zero(pull: ast.expr) -> ast.expr:
    """The pull with the zero rule: `c * g` (c > 0) already gives 0 for g = 0; anything
    else becomes `0.0 if g == 0 else ...` (which reads on as a chain of `if`s)."""
    slope = _constant_slope(pull)
    if slope is not None and slope > 0:
        return pull
    zero = ast.Compare(ast.Name("g", ast.Load()), [ast.Eq()], [ast.Constant(0)])
    return ast.fix_missing_locations(ast.IfExp(zero, ast.Constant(0.0), pull))


def _constant_slope(pull: ast.expr) -> float | None:
    """The slope of a pull that is a number times g (`1.0 * g`, `-1.0 * g`), else None."""
    if not (isinstance(pull, ast.BinOp) and isinstance(pull.op, ast.Mult)
            and isinstance(pull.right, ast.Name) and pull.right.id == "g"):
        return None
    c = pull.left
    sign = 1.0
    if isinstance(c, ast.UnaryOp):
        sign, c = -1.0, c.operand
    if isinstance(c, ast.Constant) and type(c.value) is float:
        return sign * c.value
    return None


# ---- caches: outside the frozen Gate, keyed by its texts -----------------------------------


class _Entry:
    """Everything compiled from one gate's texts, each part made on first use."""

    __slots__ = ("dual", "notes", "over", "parsed", "real")

    def __init__(self) -> None:
        self.dual: dict[bool, tuple[Callable, Callable] | None] = {}
        self.parsed: Parsed | None = None
        self.real: tuple[Callable, Callable] | None = None
        self.over: tuple[Callable, Callable] | None = None
        self.notes: tuple | None = None


_BY_GATE: dict[Gate, _Entry] = {}
_BY_TEXTS: dict[tuple, _Entry] = {}
# the float rules by gate, for the hot loops' one dict lookup
_REAL: dict[Gate, tuple[Callable, Callable]] = {}


def _entry(gate: Gate) -> _Entry:
    found = _BY_GATE.get(gate)
    if found is None:
        key = (gate.name, gate.arity, gate.rule, gate.pull, gate.kink_rule, gate.problems)
        found = _BY_TEXTS.get(key)
        if found is None:
            found = _BY_TEXTS[key] = _Entry()
        _BY_GATE[gate] = found
    return found


def parsed(gate: Gate) -> Parsed:
    """The gate's texts as checked trees (parsed on first use, then kept)."""
    e = _entry(gate)
    if e.parsed is None:
        e.parsed = Parsed(gate)
    return e.parsed


def slopes(gate: Gate) -> tuple[float, ...] | None:
    """Constant local derivatives (add: 1, 1; sub: 1, -1; neg: -1), else None."""
    return parsed(gate).slopes


_HELPERS: dict[tuple[str, str], Helper] = {}
_HELPER_TEXTS: dict[str, str] = {}


def use_helpers(table: dict[str, str]) -> None:
    """The helpers' texts (core/gates.HELPERS, handed over by the table's module, which
    imports this one: the compiler never imports the table). The dict itself is kept, so
    an entry added to it later is seen."""
    global _HELPER_TEXTS
    _HELPER_TEXTS = table


def _helpers() -> dict[str, str]:
    return _HELPER_TEXTS


def helper(name: str) -> Helper:
    """A helper's checked tree (parsed on first use)."""
    key = (name, _helpers()[name])
    found = _HELPERS.get(key)
    if found is None:
        found = _HELPERS[key] = Helper(*key)
    return found


def helper_closure(names: Iterable[str]) -> list[str]:
    """The helpers among `names` and every helper they call, transitively, sorted."""
    table = _helpers()
    found: set[str] = set()
    todo = [n for n in names if n in table]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += [n for n in helper(name).names if n in table and n not in found]
    return sorted(found)


def substitute(tree: ast.AST, names: dict[str, ast.expr],
               star: list[ast.expr] | None = None) -> ast.AST:
    """A copy of the tree with each name of `names` replaced by (a copy of) its tree, and
    `*xs` in a call by the `star` arguments."""

    class Put(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            found = names.get(node.id)
            return node if found is None else copy.deepcopy(found)

        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            if star is not None:
                args: list[ast.expr] = []
                for arg in node.args:
                    args += copy.deepcopy(star) if isinstance(arg, ast.Starred) else [arg]
                node.args = args
            return node

    return ast.fix_missing_locations(Put().visit(copy.deepcopy(tree)))


def register_source(filename: str, source: str) -> None:
    """Let tracebacks show lines of generated code (linecache serves `filename`)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _run(source: str, filename: str, namespace: dict) -> None:
    register_source(filename, source)
    exec(compile(source, filename, "exec"), namespace)  # safe: the gate table's own texts


# ---- lowering: floats ------------------------------------------------------------------------


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
        node.test = self._truth(node.test)
        return node

    def _truth(self, test: ast.expr) -> ast.expr:
        """A test read for its truth only: `x != 0` is x, `x == 0` is `not x`, and so in
        each part of an `and`/`or` (whose truth is that of its parts)."""
        if isinstance(test, ast.BoolOp):
            test.values = [self._truth(v) for v in test.values]
            return test
        if (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value == 0 and type(test.comparators[0].value) is not bool):
            if isinstance(test.ops[0], ast.NotEq):
                return test.left
            if isinstance(test.ops[0], ast.Eq):
                return ast.UnaryOp(ast.Not(), test.left)
        return test


def _faster(tree: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(_Faster().visit(copy.deepcopy(tree)))


def real_trees(gate: Gate) -> tuple[ast.expr, list[ast.expr]]:
    """(value, pulls) as the float rules run them: copies, free to change."""
    p = parsed(gate)
    return _faster(p.rule), [_faster(t) for t in p.pulls]


def real_namespace(names: Iterable[str] | None = None) -> dict:
    """The names float rules see: the primitives and constants (backend.REAL_NAMESPACE,
    which follows the primitive table), and the helpers among `names` (None: every helper)
    with all they call. A circuit without sigmoid or tanh never compiles their helpers."""
    ns = backend.REAL_NAMESPACE
    for name in helper_closure(_helpers() if names is None else names):
        if name not in ns:
            _run(_helpers()[name] + "\n", f"<helper {name}>", ns)
    return ns


def _function(name: str) -> str:
    return name if name.isidentifier() else "gate"


def _real_source(gate: Gate) -> str:
    p = parsed(gate)
    value, pulls = real_trees(gate)
    fn = _function(gate.name)
    params = "*xs" if p.variadic else ", ".join(p.params)
    head = f"g, out, {params}" if params else "g, out"
    if p.variadic:
        back = f"[{ast.unparse(pulls[0])} for x in xs]"
    else:
        back = "(" + "".join(f"{ast.unparse(t)}, " for t in pulls) + ")"
    return (f"def {fn}_forward({params}):\n    return {ast.unparse(value)}\n\n\n"
            f"def {fn}_backward({head}):\n    return {back}\n")


def real(gate: Gate) -> tuple[Callable, Callable]:
    """(forward(*xs), backward(g, out, *xs)) over floats, compiled on first use."""
    found = _REAL.get(gate)
    if found is None:
        e = _entry(gate)
        if e.real is None:
            p = parsed(gate)
            ns = real_namespace(p.names)
            local = dict(ns)
            _run(_real_source(gate), f"<rules {gate.name}>", local)
            fn = _function(gate.name)
            e.real = (local[f"{fn}_forward"], local[f"{fn}_backward"])
        found = _REAL[gate] = e.real
    return found


# ---- lowering: over a backend object B -------------------------------------------------------


class _OverBackend(ast.NodeTransformer):
    """A rule over floats -> the same rule over backend B: calls become B.exp(...), `a if c
    else b` becomes B.where(c, a, b), comparisons B.gt(...), so arrays take both branches."""

    _CMP: ClassVar[dict] = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le",
                            ast.Eq: "eq", ast.NotEq: "ne"}

    @staticmethod
    def _b(name: str) -> ast.Attribute:
        return ast.Attribute(ast.Name("B", ast.Load()), name, ast.Load())

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id  # type: ignore[attr-defined]
        if name in _helpers():  # helpers take B first
            return ast.Call(ast.Name("_h_" + name, ast.Load()),
                            [ast.Name("B", ast.Load()), *node.args], [])
        return ast.Call(self._b(name), node.args, [])

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
        return self._b(node.id) if node.id in CONSTANTS else node


def _over_text(tree: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(_OverBackend().visit(copy.deepcopy(tree))))


_OVER_NS: dict = {}


def _over_namespace(names: Iterable[str]) -> dict:
    ns = _OVER_NS
    for name in helper_closure(names):
        if "_h_" + name not in ns:
            h = helper(name)
            fn = copy.deepcopy(h.tree)
            fn.name = "_h_" + name
            fn.args.args.insert(0, ast.arg("B"))
            fn = ast.fix_missing_locations(_OverBackend().visit(fn))
            _run(ast.unparse(fn) + "\n", f"<helper {name} over B>", ns)
    return ns


def over(gate: Gate) -> tuple[Callable, Callable]:
    """(forward(B, *xs), backward(B, g, out, *xs)) over any backend B (see the module's
    docstring for what B provides), compiled on first use."""
    e = _entry(gate)
    if e.over is None:
        p = parsed(gate)
        fn = _function(gate.name)
        params = "*xs" if p.variadic else ", ".join(p.params)
        head = ", ".join(x for x in ("B", params) if x)
        pulls = [_over_text(t) for t in p.pulls]
        back = f"[{pulls[0]} for x in xs]" if p.variadic else \
            "(" + "".join(f"{t}, " for t in pulls) + ")"
        source = (f"def {fn}_forward({head}):\n    return {_over_text(p.rule)}\n\n\n"
                  f"def {fn}_backward(B, g, out{', ' + params if params else ''}):\n"
                  f"    return {back}\n")
        local = dict(_over_namespace(p.names))
        _run(source, f"<rules {gate.name} over B>", local)
        e.over = (local[f"{fn}_forward"], local[f"{fn}_backward"])
    return e.over


# ---- lowering: dual numbers, as plain float code -------------------------------------------
# core/dual.py runs a rule over Dual objects: every + and * makes an object, and `a if c
# else b` evaluates both branches; over a 100,000-gate tape that is most of a Hessian-vector
# product's time. This lowering writes the same trees as Python over pairs of floats (value,
# tangent) with the Dual class's arithmetic (the same zero rule, the same order of
# operations, the same primitives: dual.d_exp, ...) and the same conditions: a comparison by
# size reads values and its branch is taken lazily; an equality has a value answer and a
# tangent answer (dual.Cond), and then both branches are computed. Where a float operation
# raises (x / 0 in a branch not taken), the caller runs that one gate over Dual objects.

_DUAL_PRIMS = ("exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "floor")
_DZERO = "0.0"


class _Unsupported(Exception):
    """A rule uses something this lowering does not know (the object path runs it)."""


class _DualEmitter:
    """Emits straight-line float code for one rule: each expression becomes (value name,
    tangent name or "0.0" where the tangent is known to be 0)."""

    def __init__(self, vector: bool = False) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.count = 0
        # vector mode: each tangent is a numpy array (one entry per direction), values stay
        # floats; the zero rule and the tangent answer of a condition are taken per entry
        self.vector = vector

    def fresh(self) -> tuple[str, str]:
        self.count += 1
        return f"_v{self.count}", f"_t{self.count}"

    def put(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def expr(self, node: ast.AST, env: dict[str, tuple[str, str]]) -> tuple[str, str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return repr(float(node.value)), _DZERO
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in ("inf", "nan"):
                return f"_{node.id}", _DZERO
            raise _Unsupported(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v, t = self.expr(node.operand, env)
            if isinstance(node.op, ast.UAdd):
                return v, t
            rv, rt = self.fresh()
            self.put(f"{rv} = -{v}")
            if t == _DZERO:
                return rv, _DZERO
            self.put(f"{rt} = -{t}")
            return rv, rt
        if isinstance(node, ast.BinOp):
            return self.binop(node, env)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node, env)
        raise _Unsupported(ast.dump(node)[:40])

    def binop(self, node: ast.BinOp, env) -> tuple[str, str]:
        av, at = self.expr(node.left, env)
        bv, bt = self.expr(node.right, env)
        rv, rt = self.fresh()
        op = node.op
        if isinstance(op, (ast.Add, ast.Sub)):
            sign = "+" if isinstance(op, ast.Add) else "-"
            self.put(f"{rv} = {av} {sign} {bv}")
            if at == _DZERO and bt == _DZERO:
                return rv, _DZERO
            if bt == _DZERO:
                return rv, at
            if at == _DZERO:
                if sign == "+":
                    return rv, bt
                self.put(f"{rt} = -{bt}")
                return rv, rt
            self.put(f"{rt} = {at} {sign} {bt}")
            return rv, rt
        if isinstance(op, ast.Mult):
            self.put(f"{rv} = {av} * {bv}")
            if at == _DZERO and bt == _DZERO:
                return rv, _DZERO
            if self.vector:
                terms = ([f"_vt({av}, {bt})"] if bt != _DZERO else []) + (
                    [f"_vt({bv}, {at})"] if at != _DZERO else [])
                self.put(f"{rt} = {' + '.join(terms)}")
                return rv, rt
            if at == _DZERO:  # float * Dual: o * self.t
                self.put(f"{rt} = {av} * {bt} if {bt} != 0 else 0.0")
            elif bt == _DZERO:
                self.put(f"{rt} = {bv} * {at} if {at} != 0 else 0.0")
            else:
                self.put(f"{rt} = ({av} * {bt} if {bt} != 0 else 0.0) + "
                         f"({at} * {bv} if {at} != 0 else 0.0)")
            return rv, rt
        if isinstance(op, ast.Div):
            self.put(f"{rv} = {av} / {bv}")
            if at == _DZERO and bt == _DZERO:
                return rv, _DZERO
            if self.vector:  # at / b - (bt / b) * r, the scalar path's order
                if bt == _DZERO:
                    self.put(f"{rt} = _vq({at}, {bv}, 1.0)")
                elif at == _DZERO:
                    self.put(f"{rt} = -_vq({bt}, {bv}, {rv})")
                else:
                    self.put(f"{rt} = _vq({at}, {bv}, 1.0) - _vq({bt}, {bv}, {rv})")
                return rv, rt
            if bt == _DZERO:  # Dual / float
                self.put(f"{rt} = {at} / {bv} if {at} != 0 else 0.0")
            elif at == _DZERO:  # float / Dual
                self.put(f"{rt} = -(({bt} / {bv}) * {rv}) if {bt} != 0 else 0.0")
            else:
                self.put(f"{rt} = {at} / {bv} if {at} != 0 else 0.0")
                self.put(f"if {bt} != 0:")
                self.put(f"    {rt} -= ({bt} / {bv}) * {rv}")
            return rv, rt
        raise _Unsupported(type(op).__name__)

    def call(self, node: ast.Call, env) -> tuple[str, str]:
        if not isinstance(node.func, ast.Name) or node.keywords or any(
                isinstance(a, ast.Starred) for a in node.args):
            raise _Unsupported("call")
        name = node.func.id
        args = [self.expr(a, env) for a in node.args]
        rv, rt = self.fresh()
        flat = ", ".join(f"{v}, {t}" for v, t in args)
        pre = "_v" if self.vector else "_"
        if name in _DUAL_PRIMS and len(args) == 1:
            self.put(f"{rv}, {rt} = {pre}d_{name}({flat})")
        elif name == "power" and len(args) == 2:
            self.put(f"{rv}, {rt} = {pre}d_power({flat})")
        elif name in _helpers():
            self.put(f"{rv}, {rt} = {pre}dh_{name}({flat})")
        else:
            raise _Unsupported(name)
        return rv, rt

    def cond(self, node: ast.AST, env) -> tuple[str, str]:
        """(value answer, tangent answer) of a condition, as expressions."""
        if isinstance(node, ast.BoolOp):
            parts = [self.cond(v, env) for v in node.values]
            word = " and " if isinstance(node.op, ast.And) else " or "
            cv = "(" + word.join(p[0] for p in parts) + ")"
            if self.vector and any(p[0] != p[1] for p in parts):
                fn = "_np.logical_and" if isinstance(node.op, ast.And) else "_np.logical_or"
                ct = parts[0][1]
                for p in parts[1:]:
                    ct = f"{fn}({ct}, {p[1]})"
                return cv, ct
            ct = "(" + word.join(p[1] for p in parts) + ")"
            return cv, ct
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            av, at = self.expr(node.left, env)
            bv, bt = self.expr(node.comparators[0], env)
            op = node.ops[0]
            sym = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==",
                   ast.NotEq: "!="}.get(type(op))
            if sym is None:
                raise _Unsupported("comparison")
            cv = f"({av} {sym} {bv})"
            if self.vector and sym in ("==", "!="):
                same = f"_np.logical_and({av} == {bv}, _np.equal({at}, {bt}))"
                return cv, same if sym == "==" else f"_np.logical_not({same})"
            if sym == "==":
                return cv, f"({av} == {bv} and {at} == {bt})"
            if sym == "!=":
                return cv, f"({av} != {bv} or {at} != {bt})"
            return cv, cv
        raise _Unsupported("condition")

    def ifexp(self, node: ast.IfExp, env) -> tuple[str, str]:
        cv, ct = self.cond(node.test, env)
        rv, rt = self.fresh()
        if cv == ct:  # the same answer at the value and along the direction: one branch
            self.put(f"if {cv}:")
            self.depth += 1
            bv, bt = self.expr(node.body, env)
            self.put(f"{rv} = {bv}")
            self.put(f"{rt} = {bt}")
            self.depth -= 1
            self.put("else:")
            self.depth += 1
            ov, ot = self.expr(node.orelse, env)
            self.put(f"{rv} = {ov}")
            self.put(f"{rt} = {ot}")
            self.depth -= 1
            return rv, rt
        bv, bt = self.expr(node.body, env)
        ov, ot = self.expr(node.orelse, env)
        self.put(f"{rv} = {bv} if {cv} else {ov}")
        if self.vector:
            self.put(f"{rt} = _np.where({ct}, {bt}, {ot})")
        else:
            self.put(f"{rt} = {bt} if {ct} else {ot}")
        return rv, rt


def _dual_function(name: str, params: list[str], body: Callable[[_DualEmitter, dict], list[str]],
              vector: bool = False) -> str:
    e = _DualEmitter(vector)
    env = {p: (f"{p}_v", f"{p}_t") for p in params}
    results = body(e, env)
    head = f"def {name}({', '.join(f'{p}_v, {p}_t' for p in params)}):"
    return "\n".join([head, *e.lines, f"    return {', '.join(results)}"])

def _dual_helper_source(name: str, vector: bool) -> str:
    """A helper (sigmoid, dpow, ...) as a function over pairs."""
    fn = helper(name).tree
    params = [a.arg for a in fn.args.args]

    def body(e: _DualEmitter, env: dict) -> list[str]:
        for stmt in fn.body[:-1]:  # assignments to a name (checked), then the return
            env[stmt.targets[0].id] = e.expr(stmt.value, env)  # type: ignore[attr-defined]
        return list(e.expr(fn.body[-1].value, env))  # type: ignore[attr-defined]

    return _dual_function(f"{'_v' if vector else '_'}dh_{name}", params, body, vector)


_DUAL_NS: dict[bool, dict[str, Any]] = {}


def _dual_namespace(names: Iterable[str], vector: bool) -> dict[str, Any] | None:
    """The pair primitives (core/dual.py, core/dual_vector.py: the one place a derivative
    is known) and the helpers among `names` with all they call; None if one of those
    helpers has no lowering (the rules that call it run over Dual objects)."""
    ns = _DUAL_NS.get(vector)
    if ns is None:
        ns = {"_inf": duals._inf, "_nan": duals._nan}
        if vector:
            ns.update(_np=imported(numpy), _vt=dual_vectors.vt, _vq=dual_vectors.vq)
            for name in (*_DUAL_PRIMS, "power"):
                ns[f"_vd_{name}"] = getattr(dual_vectors, f"d_{name}")
        else:
            for name in (*_DUAL_PRIMS, "power"):
                ns[f"_d_{name}"] = getattr(duals, f"d_{name}")
        _DUAL_NS[vector] = ns
    pre = "_vdh_" if vector else "_dh_"
    for name in helper_closure(names):
        if ns.get(pre + name, 0) is None:
            return None
        if pre + name not in ns:
            try:
                source = _dual_helper_source(name, vector)
            except _Unsupported:
                ns[pre + name] = None
                return None
            _run(source + "\n", f"<helper {name} over {'dual vectors' if vector else 'duals'}>",
                 ns)
    return ns


def dual(gate: Gate, vector: bool = False) -> tuple[Callable, Callable] | None:
    """(forward, backward) over (value, tangent) pairs for a one- or two-argument gate, else
    None (max, min: variadic; they run over Dual objects). forward(x_v, x_t[, y_v, y_t]) ->
    (v, t); backward(g_v, g_t, out_v, out_t, x_v, x_t[, y_v, y_t]) -> (p0_v, p0_t[, p1_v,
    p1_t]). With `vector`, every tangent is a numpy array (one entry per direction)."""
    e = _entry(gate)
    if vector in e.dual:
        return e.dual[vector]
    found = None
    p = parsed(gate)
    ns = None if p.variadic else _dual_namespace(p.names, vector)
    if ns is not None:
        params = list(p.params)
        try:
            fwd = _dual_function("forward", params, lambda em, env: list(em.expr(p.rule, env)),
                                 vector)

            def back(em: _DualEmitter, env: dict) -> list[str]:
                out: list[str] = []
                for tree in p.pulls:
                    out += em.expr(tree, env)
                return out

            bwd = _dual_function("backward", ["g", "out", *params], back, vector)
        except _Unsupported:
            pass
        else:
            local = dict(ns)
            what = "dual vectors" if vector else "duals"
            _run(fwd + "\n\n\n" + bwd + "\n", f"<rules {gate.name} over {what}>", local)
            found = local["forward"], local["backward"]
    e.dual[vector] = found
    return found


# ---- lowering: notes -------------------------------------------------------------------------


def _num(x: Any) -> str:
    return str(x) if isinstance(x, int) else f"{x:.6g}"


def notes(gate: Gate) -> tuple[Callable | None, Callable | None]:
    """(kink(out, *xs), problem(*xs)): each gives the first note whose condition holds (or
    None), None for a gate without such notes; compiled on first use."""
    e = _entry(gate)
    if e.notes is None:
        p = parsed(gate)
        kink = _note_function(gate, "kink", [p.kink] if p.kink else [], "out, ")
        problem = _note_function(gate, "problem", [q[:2] for q in p.problems])
        e.notes = (kink, problem)
    return e.notes


def _note_function(gate: Gate, what: str, rules: list, head: str = "") -> Callable | None:
    """(condition, pieces) pairs -> f(*args) giving the first note whose condition holds."""
    if not rules:
        return None
    p = parsed(gate)
    params = head + ("*xs" if p.variadic else ", ".join(p.params))
    parts = []
    used: set[str] = set()
    for cond, pieces in rules:
        texts = [pieces[k] for k in range(0, len(pieces), 2)]
        fields = [f"_num({ast.unparse(e)})" for e in pieces[1::2]]
        parts.append(f"(({ast.unparse(cond)}), ({texts!r}, [{', '.join(fields)}]))")
        used |= {n.id for t in (cond, *pieces[1::2]) for n in ast.walk(t)
                 if isinstance(n, ast.Name)}
    fn = f"{_function(gate.name)}_{what}"
    source = f"def {fn}({params}):\n    return [{', '.join(parts)}]\n"
    local = {**real_namespace(used), "_num": _num}
    _run(source, f"<notes {gate.name} {what}>", local)
    checks = local[fn]

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


_ABOUT: dict[Gate, Callable] = {}


def problem_argument(gate: Gate, *xs: float) -> int | None:
    """Which argument the first domain problem that holds at xs is about (the divisor of
    a division by zero), if its entry says; None otherwise."""
    p = parsed(gate)
    if not any(about for _, _, about in p.problems):
        return None
    found = _ABOUT.get(gate)
    if found is None:
        params = "*xs" if p.variadic else ", ".join(p.params)
        conds = ", ".join(f"({ast.unparse(c)})" for c, _, _ in p.problems)
        source = f"def {_function(gate.name)}_which({params}):\n    return [{conds}]\n"
        local = dict(real_namespace(p.names))
        _run(source, f"<notes {gate.name} which>", local)
        found = _ABOUT[gate] = local[f"{_function(gate.name)}_which"]
    try:
        hits = found(*xs)
    except (ArithmeticError, ValueError, TypeError):
        return None
    for hit, (_, _, about) in zip(hits, p.problems):
        if hit:
            return None if about is None else p.params.index(about)
    return None

