"""The gate table's rule texts lowered to dual numbers as plain float code, for speed.

core/dual.py runs a rule over Dual objects: every + and * makes an object, and a rule's
`a if c else b` evaluates both branches. Over a 100,000-gate tape that is most of the
time of a Hessian-vector product. Here the same texts are rewritten once per gate into
Python over pairs of floats (value, tangent), with the same arithmetic as the Dual class
(the same zero rule, the same order of operations, the same primitives: dual.d_exp, ...)
and the same conditions: a comparison by size reads values and the branch is taken
lazily; an equality test has a value answer and a tangent answer (dual.Cond), and then
both branches are computed. Where a float operation raises (x / 0 in a branch not
taken), the caller runs that one gate over Dual objects instead, which never raise.

Gates that are not two-argument or one-argument texts (max, min: variadic; a rule a test
plants as a function) have no lowering here: the sweeps call them over Dual objects.
The generated source holds only the gate table's texts and names of our own.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from . import dual
from .gates import HELPERS, Gate

__all__ = ["lowered"]

_PRIMS = {"exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "floor"}
_ZERO = "0.0"


class _Unsupported(Exception):
    """A rule uses something this lowering does not know (the object path runs it)."""


class _Emitter:
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
            return repr(float(node.value)), _ZERO
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in ("inf", "nan"):
                return f"_{node.id}", _ZERO
            raise _Unsupported(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v, t = self.expr(node.operand, env)
            if isinstance(node.op, ast.UAdd):
                return v, t
            rv, rt = self.fresh()
            self.put(f"{rv} = -{v}")
            if t == _ZERO:
                return rv, _ZERO
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
            if at == _ZERO and bt == _ZERO:
                return rv, _ZERO
            if bt == _ZERO:
                return rv, at
            if at == _ZERO:
                if sign == "+":
                    return rv, bt
                self.put(f"{rt} = -{bt}")
                return rv, rt
            self.put(f"{rt} = {at} {sign} {bt}")
            return rv, rt
        if isinstance(op, ast.Mult):
            self.put(f"{rv} = {av} * {bv}")
            if at == _ZERO and bt == _ZERO:
                return rv, _ZERO
            if self.vector:
                terms = ([f"_vt({av}, {bt})"] if bt != _ZERO else []) + (
                    [f"_vt({bv}, {at})"] if at != _ZERO else [])
                self.put(f"{rt} = {' + '.join(terms)}")
                return rv, rt
            if at == _ZERO:  # float * Dual: o * self.t
                self.put(f"{rt} = {av} * {bt} if {bt} != 0 else 0.0")
            elif bt == _ZERO:
                self.put(f"{rt} = {bv} * {at} if {at} != 0 else 0.0")
            else:
                self.put(f"{rt} = ({av} * {bt} if {bt} != 0 else 0.0) + "
                         f"({at} * {bv} if {at} != 0 else 0.0)")
            return rv, rt
        if isinstance(op, ast.Div):
            self.put(f"{rv} = {av} / {bv}")
            if at == _ZERO and bt == _ZERO:
                return rv, _ZERO
            if self.vector:  # at / b - (bt / b) * r, the scalar path's order
                if bt == _ZERO:
                    self.put(f"{rt} = _vq({at}, {bv}, 1.0)")
                elif at == _ZERO:
                    self.put(f"{rt} = -_vq({bt}, {bv}, {rv})")
                else:
                    self.put(f"{rt} = _vq({at}, {bv}, 1.0) - _vq({bt}, {bv}, {rv})")
                return rv, rt
            if bt == _ZERO:  # Dual / float
                self.put(f"{rt} = {at} / {bv} if {at} != 0 else 0.0")
            elif at == _ZERO:  # float / Dual
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
        if name in _PRIMS and len(args) == 1:
            self.put(f"{rv}, {rt} = {pre}d_{name}({flat})")
        elif name == "power" and len(args) == 2:
            self.put(f"{rv}, {rt} = {pre}d_power({flat})")
        elif name in HELPERS:
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


def _function(name: str, params: list[str], body: Callable[[_Emitter, dict], list[str]],
              vector: bool = False) -> str:
    e = _Emitter(vector)
    env = {p: (f"{p}_v", f"{p}_t") for p in params}
    results = body(e, env)
    head = f"def {name}({', '.join(f'{p}_v, {p}_t' for p in params)}):"
    return "\n".join([head, *e.lines, f"    return {', '.join(results)}"])


def _helper_source(name: str, vector: bool = False) -> str:
    """A helper (sigmoid, dsigmoid, dtanh) as a function over pairs."""
    fn = ast.parse(HELPERS[name]).body[0]
    assert isinstance(fn, ast.FunctionDef)
    params = [a.arg for a in fn.args.args]

    def body(e: _Emitter, env: dict) -> list[str]:
        for stmt in fn.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                    stmt.targets[0], ast.Name):
                env[stmt.targets[0].id] = e.expr(stmt.value, env)
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                v, t = e.expr(stmt.value, env)
                return [v, t]
            else:
                raise _Unsupported("helper statement")
        raise _Unsupported("helper without return")

    return _function(f"{'_v' if vector else '_'}dh_{name}", params, body, vector)


_NS: dict[str, Any] | None = None


def _namespace() -> dict[str, Any]:
    global _NS
    if _NS is None:
        ns: dict[str, Any] = {"_inf": dual._inf, "_nan": dual._nan}
        for name in _PRIMS:
            ns[f"_d_{name}"] = getattr(dual, f"d_{name}")
        ns["_d_power"] = dual.d_power
        for name in HELPERS:
            try:
                code = _helper_source(name)
            except _Unsupported:
                continue  # rules that call it are not lowered (the object path runs them)
            exec(compile(code, f"<dual helper {name}>", "exec"), ns)  # safe: our own text
        _NS = ns
    return _NS


_VNS: dict[str, Any] | None = None


def _vector_namespace() -> dict[str, Any]:
    """The vector lowering's names: numpy, the primitives over (value, tangent array)."""
    global _VNS
    if _VNS is None:
        import numpy as np

        from . import dual_vector

        ns: dict[str, Any] = {"_inf": dual._inf, "_nan": dual._nan, "_np": np,
                              "_vt": dual_vector.vt, "_vq": dual_vector.vq}
        for name in (*_PRIMS, "power"):
            ns[f"_vd_{name}"] = getattr(dual_vector, f"d_{name}")
        for name in HELPERS:
            try:
                code = _helper_source(name, vector=True)
            except _Unsupported:
                continue
            exec(compile(code, f"<dual vector helper {name}>", "exec"), ns)  # safe: ours
        _VNS = ns
    return _VNS


_CACHE: dict[tuple, tuple[Callable, Callable] | None] = {}


def lowered(gate: Gate, vector: bool = False) -> tuple[Callable, Callable] | None:
    """(forward, backward) over pairs for a one- or two-argument gate of plain texts, else
    None. forward(x_v, x_t[, y_v, y_t]) -> (v, t); backward(g_v, g_t, out_v, out_t, x_v,
    x_t[, y_v, y_t]) -> (p0_v, p0_t[, p1_v, p1_t])."""
    # a rule given as a function rather than texts (the table before its rule compiler) is
    # run over Dual objects
    planted = bool(getattr(gate, "_generic", {}).get("planted", False))
    key = (gate.name, gate.rule, gate.pull, planted, vector)
    if key in _CACHE:
        return _CACHE[key]
    found = None
    if gate.arity in (1, 2) and not planted:
        params = ["x", "y"][: gate.arity]
        try:
            fwd = _function("forward", params,
                            lambda e, env: list(e.expr(ast.parse(gate.rule, mode="eval").body,
                                                       env)), vector)

            def back(e: _Emitter, env: dict) -> list[str]:
                out: list[str] = []
                for text in gate.pull:
                    out += e.expr(ast.parse(text, mode="eval").body, env)
                return out

            bwd = _function("backward", ["g", "out", *params], back, vector)
            ns = dict(_vector_namespace() if vector else _namespace())
            exec(compile(fwd + "\n\n" + bwd + "\n", f"<dual gate {gate.name}>", "exec"),
                 ns)  # safe: the gate table's own rule texts
            found = ns["forward"], ns["backward"]
        except (_Unsupported, SyntaxError):
            found = None
    _CACHE[key] = found
    return found
