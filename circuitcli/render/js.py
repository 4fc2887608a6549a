"""The gate table as JavaScript, for the live page: the same rule texts `grad` runs.

`gates_js()` returns source that defines

    const GATES = {name: {arity, forward(...xs), partials(out, ...xs), backward(g, out, ...xs),
                          kink(out, ...xs), problem(...xs)}}

for every gate: the rule compiler's JavaScript lowering, from the trees core/rules.py
parsed the table's texts into (gates.py) and the primitives' JS (backend.py), whose
exp, log, pow, sin, cos and tanh are page/libm.js's (render/libm.py picks the build). `backward`
gives what each argument gets from the pull g, with the same ordering and zero rules as
Python; `partials` is backward at g = 1;
`kink` and `problem` give a one-line note or null.
"""

from __future__ import annotations

import ast
import json

from ..core import rules as compiler
from ..core.backend import PRIMITIVES
from ..core.gates import GATES, HELPERS, Gate
from .libm import libm_js

__all__ = ["gates_js", "to_js"]

_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMP = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "===", ast.NotEq: "!=="}


def to_js(node: ast.AST) -> str:
    """One rule expression (a Python ast) as a JavaScript expression, fully parenthesised."""
    if isinstance(node, ast.Expression):
        return to_js(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return repr(node.value) if isinstance(node.value, (int, float)) else json.dumps(node.value)
    if isinstance(node, ast.Name):
        return {"inf": "Infinity", "nan": "NaN"}.get(node.id, node.id)
    if isinstance(node, ast.BinOp):
        return f"({to_js(node.left)} {_BIN[type(node.op)]} {to_js(node.right)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return f"(-{to_js(node.operand)})"
    if isinstance(node, ast.IfExp):
        return f"({to_js(node.test)} ? {to_js(node.body)} : {to_js(node.orelse)})"
    if isinstance(node, ast.Compare):
        (op,), (right,) = node.ops, node.comparators
        return f"({to_js(node.left)} {_CMP[type(op)]} {to_js(right)})"
    if isinstance(node, ast.BoolOp):
        op = " && " if isinstance(node.op, ast.And) else " || "
        return "(" + op.join(to_js(v) for v in node.values) + ")"
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = ", ".join(f"...{to_js(a.value)}" if isinstance(a, ast.Starred) else to_js(a)
                         for a in node.args)
        return f"{node.func.id}({args})"
    raise ValueError(f"the rule language has no {type(node).__name__} in JavaScript")


def _helper(name: str) -> str:
    """A helper's `def` (assignments, then a return) as a JS function."""
    fn = compiler.helper(name).tree
    params = ", ".join(a.arg for a in fn.args.args)
    body = []
    for st in fn.body:
        if isinstance(st, ast.Assign):
            body.append(f"const {st.targets[0].id} = {to_js(st.value)};")
        elif isinstance(st, ast.Return):
            body.append(f"return {to_js(st.value)};")
        else:
            raise ValueError(f"helper {fn.name}: only assignments and a return")
    return f"function {fn.name}({params}) {{ {' '.join(body)} }}"


def _notes(rules, params: str) -> str:
    """(condition, note pieces) pairs as a JS function giving the first note that holds,
    or null."""
    checks = []
    for cond, pieces in rules:
        parts = [json.dumps(p) if k % 2 == 0 else f"num({to_js(p)})"
                 for k, p in enumerate(pieces)]
        checks.append(f"if ({to_js(cond)}) return {' + '.join(parts)};")
    return f"({params}) => {{ {' '.join(checks)} return null; }}"


def _gate(gate: Gate) -> str:
    t = compiler.parsed(gate)
    ps = ", ".join("...xs" if a == "*xs" else a for a in gate.params)
    head = f"g, out{', ' + ps if ps else ''}"
    if gate.arity is None:
        back = f"({head}) => xs.map((x) => {to_js(t.pulls[0])})"
    else:
        back = f"({head}) => [{', '.join(to_js(p) for p in t.pulls)}]"
    forward = f"({ps}) => {to_js(t.rule)}"
    args = f"out{', ' + ps if ps else ''}"
    call = ", ".join(["1", "out", *(["...xs"] if gate.arity is None else gate.params)])
    fields = [
        f"arity: {'null' if gate.arity is None else gate.arity}",
        f"forward: {forward}",
        f"backward: {back}",
        f"partials: ({args}) => GATES[{json.dumps(gate.name)}].backward({call})",
        f"kink: {_notes([t.kink], args) if t.kink else '() => null'}",
        f"problem: {_notes([q[:2] for q in t.problems], ps) if t.problems else '() => null'}",
    ]
    return f"  {json.dumps(gate.name)}: {{\n    " + ",\n    ".join(fields) + ",\n  }"


# Python's f"{x:.6g}", the way kink and domain notes print a number in gates.py's _num
_NUM = r"""function num(x) {
  if (x !== x) return "nan";
  if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return (1 / x < 0) ? "-0" : "0";
  const [m, ex] = x.toExponential(5).split("e");
  const e = Number(ex);
  if (e < -4 || e >= 6) {
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    return mant + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  let f = x.toFixed(Math.max(0, 5 - e));
  if (f.includes(".")) f = f.replace(/0+$/, "").replace(/\.$/, "");
  return f;
}"""


def gates_js() -> str:
    """JavaScript that defines GATES (and the primitives and helpers its rules call)."""
    lines = ["// the gate table of circuitcli, generated from its rule texts (render/js.py)",
             _NUM, libm_js()]  # LIBM: the C library's exp, log, ... (render/libm.py)
    for p in PRIMITIVES.values():
        lines.append(f"const {p.name} = {p.js};")
    for name in HELPERS:
        lines.append(_helper(name))
    lines.append("const GATES = {")
    lines.append(",\n".join(_gate(g) for g in GATES.values()))
    lines.append("};")
    return "\n".join(lines) + "\n"
