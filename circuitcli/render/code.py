"""Circuit -> straight-line Python in the notebook's "backprop ninja" style.

Forward lines first (`q = x + y`), then the backward lines in reverse order
(`df = 1.0`, `dq = z * df`, ...): the gradient of node n is always `dn`, and a
node used twice collects `+=`. Every line is a gate's own rule (its `rule` forward, its
`pull` backward) as the rule compiler parsed it (core/rules.py), with node names put in:
this module is the compiler's Python-text lowering. The primitives and helpers those
rules call are defined at the top from the very text `grad` runs. So the program
computes what `grad` computes, bit for bit, inf and nan included, and a new gate needs
no change here.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

from ..core import rules as compiler
from ..core.backend import PRIMITIVES
from ..core.circuit import Circuit
from ..core.gates import HELPERS, Gate, format_number

__all__ = ["ninja_code", "python_names"]

# a local derivative that parses to one of these needs no parentheses before `* dout`
_FOLD = {ast.Add: lambda x, y: x + y, ast.Sub: lambda x, y: x - y,
         ast.Mult: lambda x, y: x * y}
_COMMENT_COLUMN = 44


def ninja_code(circuit: Circuit, values: Mapping[str, float] | None = None, pull: float = 1.0,
               title: str = "") -> str:
    """The program as text; with `values` it assigns the inputs and prints the gradients."""
    c = circuit
    out = c.output
    args = c.args
    live = c.live
    candidates = _Candidates({c.gates[i] for i in range(out + 1) if args[i]})
    names = python_names(c, candidates.names)
    labels = c.labels()
    rules = _Rules(c)

    inputs = list(c.inputs.values())
    body: list[tuple[str, str]] = []
    if values is not None:
        body.append(("# inputs", ""))
        for i in inputs:
            body.append((f"{names[i]} = {_number(float(values[labels[i]]), repr)}", "input"))
        body.append(("", ""))
    body.append(("# forward pass", ""))
    forward: dict[int, str] = {}
    for i in range(out + 1):
        if args[i]:
            forward[i] = rules.forward(i, names)
            body.append((f"{names[i]} = {forward[i]}", c.gates[i].name))
    if not forward:
        body.append((f"# (nothing to compute: the output is {names.get(out, labels[out])})", ""))

    body.append(("", ""))
    body.append(("# backward pass: dn is how hard the output pulls on node n", ""))
    grad = {i: "d" + n for i, n in names.items()}
    done = bytearray(len(c))
    if out in names:
        body.append((f"{grad[out]} = {_number(float(pull), repr)}",
                     "the pull on the output from above"))
        done[out] = 1
    used = c.used()
    for i in inputs:
        if not used[i]:
            body.append((f"{grad[i]} = 0.0", f"the output does not depend on {names[i]}"))
            done[i] = 1
    signed: set[int] = set()  # nodes whose first pull may be -0.0
    for i in range(out, -1, -1):
        a = args[i]
        if not a or not done[i] or not live[i]:
            continue
        why = f"{c.gates[i].name}: {names[i]} = {forward[i]}"
        for k, j in enumerate(a):
            if live[j]:
                d = rules.backward(i, names, grad[i], k)
                if not done[j] and (i in signed or not _plain(d, grad[i])):
                    signed.add(j)
                body.append((f"{grad[j]} {'+=' if done[j] else '='} {d}", why))
                done[j] = 1
    # grad adds every pull to a 0.0, so a first pull of -0.0 (cos at 0) sums to 0.0 there;
    # here it was assigned, so the inputs it can reach are summed with 0.0 once, at the end
    fix = [grad[i] for i in inputs if i in signed]
    if fix:
        body.append(("; ".join(f"{d} += 0.0" for d in fix), "so that -0.0 reads 0.0, as in grad"))

    if values is not None:
        body.append(("", ""))
        if out in names:
            body.append((f'print("{names[out]} =", {names[out]})', ""))
        for i in inputs:
            body.append((f'print("{grad[i]} =", {grad[i]})', ""))

    title = " ".join(title.split())
    head = [f"# {title}: backprop ninja code from circuitcli" if title
            else "# backprop ninja code from circuitcli"]
    if values is None and inputs:
        listed = ", ".join(names[i] for i in inputs)
        head.append(f"# inputs: {listed} (assign them first, or use circuit code --values)")
    needed = set(rules.free)
    given = [float(values[labels[i]]) for i in inputs] if values is not None else []
    if not all(math.isfinite(v) for v in (*given, float(pull))):
        needed.add("math")
    return "\n".join([*head, "", *candidates.preamble(needed), *_aligned(body)]) + "\n"


class _Rules:
    """Forward and backward lines, from each gate's rules run once per shape and cached.

    A shape is a gate plus which arguments are constants (written inline, so
    `2 - 1` folds); node names go into the finished template in one pass.
    """

    _SLOT = re.compile(r"__(?:a\d+|o|g)__")

    def __init__(self, c: Circuit) -> None:
        self.c = c
        self.cache: dict[tuple, tuple[str, list[str]]] = {}
        self.free: set[str] = set()
        self.seen: set[str] = set()
        self.spelling = {node: word for word, node in c.consts.items()}

    def literal(self, i: int, floating: bool = False) -> str:
        """A constant as the user wrote it (1.0 stays 1.0), if Python reads it the same.

        `floating`: where nothing else makes the arithmetic float (`-0`, `pow(10, 400)`,
        `max(0, x)` returning the int), a whole number is written as a float (`-0.0` is
        -0.0 as in grad; int `-0` is 0, and int powers never overflow to inf)."""
        word = self.spelling.get(i)
        value = self.c.base[i]
        if word is not None and math.isfinite(value):
            try:
                read = ast.literal_eval(word)
                if float(read) == value and (isinstance(read, float) or not floating):
                    return word
            except (ValueError, SyntaxError, OverflowError):
                pass
        return _number(value, repr) if floating else _number(value)

    def _shape(self, i: int) -> tuple[str, list[str]]:
        c = self.c
        gate = c.gates[i]
        a = c.args[i]
        inline = [not (c.live[j] or c.args[j]) for j in a]
        floating = all(inline) or gate.arity is None  # no float beside it; max returns it
        consts = tuple(self.literal(j, floating) if k else None for j, k in zip(a, inline))
        key = (gate, consts)
        found = self.cache.get(key)
        if found is None:
            slots = [f"__a{k}__" if v is None else v for k, v in enumerate(consts)]
            p = compiler.parsed(gate)
            forward = _rendered(gate, p.rule, slots)
            if gate.arity is None:
                backward = [_rendered(gate, p.pulls[0], slots, each=s) for s in slots]
            else:
                backward = [_rendered(gate, rule, slots) for rule in p.pulls]
            found = self.cache[key] = (forward, backward)
        return found

    def _use(self, template: str) -> str:
        """Note the names a template that goes into the program needs (math, sigmoid)."""
        if template not in self.seen:
            self.seen.add(template)
            self.free |= {n for n in _free_names(template) if not self._SLOT.fullmatch(n)}
        return template

    def _fill(self, template: str, i: int, names: dict[int, str], pull: str = "") -> str:
        a = self.c.args[i]

        def slot(m: re.Match) -> str:
            word = m.group(0)
            if word == "__o__":
                return names[i]
            if word == "__g__":
                return pull
            return names[a[int(word[3:-2])]]

        return self._SLOT.sub(slot, template)

    def forward(self, i: int, names: dict[int, str]) -> str:
        return self._fill(self._use(self._shape(i)[0]), i, names)

    def backward(self, i: int, names: dict[int, str], pull: str, k: int) -> str:
        """What node i passes back to its k-th argument, given its pull (its gate's rule)."""
        return self._fill(self._use(self._shape(i)[1][k]), i, names, pull)


def _plain(pull: str, g: str) -> bool:
    """A pull that is `g` times a positive number (add's `1.0 * dout`): never -0.0, as no
    gradient is once summed."""
    m = re.fullmatch(r"(\d+(?:\.\d*)?(?:e[-+]?\d+)?) \* " + re.escape(g), pull)
    return pull == g or (m is not None and float(m[1]) > 0)


def python_names(c: Circuit, reserved: frozenset[str] | set[str] = frozenset()) -> dict[int, str]:
    """A Python name for every input and gate node (constants are written inline).

    The circuit's own names are kept where Python allows them; a keyword or a
    name the program needs (math, sigmoid, print) gets a trailing '_'. Names are
    also chosen so that no value is called `dn` for another node n, and no `dn`
    is a keyword (`def` for a node `ef`).
    """
    labels = c.labels()
    blocked = set(reserved) | set(keyword.kwlist) | {"math", "print"}
    names: dict[int, str] = {}
    taken: set[str] = set()

    def fresh(base: str) -> str:
        name = base
        while name in taken or name in blocked:
            name += "_"
        return name

    for i, label in enumerate(labels):
        if c.args[i] or c.is_input(i):
            ok = label.isidentifier() and unicodedata.normalize("NFKC", label) == label
            name = fresh(label if ok else f"n{i}")
            names[i] = name
            taken.add(name)
    changed = True
    while changed:  # each rename lengthens a name, so this ends
        changed = False
        owner = {n: i for i, n in names.items()}
        for i, n in names.items():
            g = "d" + n
            victim = i if g in blocked else owner.get(g)
            if victim is not None:
                taken.discard(names[victim])
                names[victim] = fresh(names[victim] + "_")
                taken.add(names[victim])
                changed = True
                break
    return names


def _number(value: float, spell=format_number) -> str:
    """A number as Python source (2 for a constant, 2.0 for an input); inf and nan from math."""
    if math.isfinite(value):
        return spell(value)
    return "math.nan" if value != value else ("math.inf" if value > 0 else "-math.inf")


def _rendered(gate: Gate, rule: ast.expr, slots: Sequence[str], each: str | None = None) -> str:
    """A parsed rule over slot names (`__a0__`, `__o__` for out, `__g__` for the pull) or
    literals, with arithmetic on literals folded (`2 - 1` reads 1: the same float)."""
    params = ["x", "y"] if gate.arity is not None else []
    given = {**dict(zip(params, slots)), "out": "__o__", "g": "__g__"}
    if each is not None:
        given["x"] = each
    nodes = {name: ast.parse(text, mode="eval").body for name, text in given.items()}
    star = [ast.parse(text, mode="eval").body for text in slots]
    tree = _Fold().visit(compiler.substitute(rule, nodes, star))
    return _checked(ast.unparse(ast.fix_missing_locations(tree)), gate)


class _Fold(ast.NodeTransformer):
    """Folds `2 - 1` to 1, `0.5 != 0` to True and `a if True else b` to a: the same numbers,
    fewer symbols (Python would compute the same float at run time)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        x, y = _constant(node.left), _constant(node.right)
        fold = _FOLD.get(type(node.op))
        if fold is not None and x is not None and y is not None:
            value = fold(float(x), float(y))  # as grad computes it: in doubles
            if type(x) is int and type(y) is int and value == int(value) != 0 \
                    and abs(value) < 2.0**53:
                value = int(value)  # 2 - 1 reads 1: the same double, a plainer word
            return ast.UnaryOp(ast.USub(), ast.Constant(-value)) if value < 0 else \
                ast.Constant(value)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        x, y = _constant(node.left), _constant(node.comparators[0])
        if len(node.ops) == 1 and x is not None and y is not None:
            return ast.Constant(_COMPARE[type(node.ops[0])](x, y))
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        settles = isinstance(node.op, ast.Or)  # True settles an `or`, False an `and`
        rest = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, bool):
                if v.value is settles:
                    return ast.Constant(settles)
                continue
            rest.append(v)
        if not rest:
            return ast.Constant(not settles)
        return rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and isinstance(node.test.value, bool):
            return node.body if node.test.value else node.orelse
        return node


_COMPARE = {ast.Gt: lambda x, y: x > y, ast.GtE: lambda x, y: x >= y,
            ast.Lt: lambda x, y: x < y, ast.LtE: lambda x, y: x <= y,
            ast.Eq: lambda x, y: x == y, ast.NotEq: lambda x, y: x != y}


def _constant(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None


def _checked(text: str, gate: Gate) -> str:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        raise RuntimeError(f"gate {gate.name}'s display or code rule is not Python: {text!r}"
                           ) from None
    return text


def _free_names(program: str) -> set[str]:
    """Names the program reads but never assigns: math, sigmoid, max, ..."""
    loaded, stored = set(), set()
    for node in ast.walk(ast.parse(program)):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
    return loaded - stored


def _aligned(body: Sequence[tuple[str, str]]) -> list[str]:
    """Code with its comments lined up in one column (past it for long lines)."""
    width = min(max((len(code) for code, note in body if note), default=0), _COMMENT_COLUMN)
    return [f"{code.ljust(width)}  # {note}" if note else code for code, note in body]


class _Candidates:
    """The names the used gates' rules may need: reserved before nodes are named.

    `preamble` then writes what the program really reads: `import math`, `from math
    import log` for primitives that are math's own, and the `def` of every other
    primitive (backend.py) and helper (gates.py), from the text `grad` runs.
    """

    def __init__(self, gates: set[Gate]) -> None:
        free: set[str] = set()
        for gate in gates:
            free |= compiler.parsed(gate).names
        self.names = _closure(free) | {"math", "inf", "nan"}

    def preamble(self, needed: set[str]) -> list[str]:
        needed = _closure(needed)
        imports: set[str] = set()
        from_math: set[str] = {n for n in ("inf", "nan") if n in needed}
        defs: list[str] = []
        for name in sorted(needed):
            prim = PRIMITIVES.get(name)
            if name == "math":
                imports.add("import math")
            elif prim is not None and prim.python.startswith("math."):
                from_math.add(name)
            elif prim is not None and prim.python.startswith("def "):
                defs.append(prim.python)
                imports.add("import math")
            elif prim is not None or name in ("inf", "nan", "print"):
                continue  # a builtin (abs), or from math above
            elif name not in HELPERS:
                raise RuntimeError(f"the generated code uses {name}, which Python does not define")
        defs += [HELPERS[name] for name in sorted(needed) if name in HELPERS]
        lines = sorted(imports)
        if from_math:
            lines.append(f"from math import {', '.join(sorted(from_math))}")
        for text in defs:
            lines += ["", "", text]
        if not lines:
            return []
        return [*lines, "", ""] if defs else [*lines, ""]


def _closure(names: set[str]) -> set[str]:
    """The primitives and helpers among the names, plus all the helpers call, transitively."""
    known = {*PRIMITIVES, *HELPERS, "inf", "nan", "math"}
    helpers = compiler.helper_closure(names)
    found = {n for n in names if n in known} | set(helpers)
    for name in helpers:
        found |= compiler.helper(name).names & known
    return found
