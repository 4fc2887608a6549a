"""The learner's turn: a gradient derived by hand, checked against the circuit, and the
common mistake that explains a wrong one.

A diagnosis is never looked up in a list of answers. For the node asked about, the
mistakes a learner makes are *computed on this circuit*: the gradient with its sign
flipped, the fan-out sum with one use left out, each use's local derivative without the
pull (the chain forgotten), a value in place of a local derivative, the slips of the
gates' own rules (sigmoid's slope as s or 1 - s, the notebook's Ex-4 and division slips,
max and relu routing the pull the wrong way), and the gradient of another node. Every
alternative that gives the learner's number is named, so a number two mistakes share
is explained both ways.

The per-gate slips are rule texts in the gate table's language (over the pull `g`, the
gate's value `out`, its arguments `x`, `y`, and `gx`, `gy`, the arguments' true
gradients), so the live page runs the very same texts in JavaScript (render/practice.py).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from ..core.circuit import Circuit
from ..core.evaluate import Result, evaluate
from ..core.syntax import CircuitError, suggest
from .explain import Explanation, Use, explain

__all__ = ["DEFAULT_TOL", "KINDS", "SLIPS", "WORDS", "Mistake", "Verdict", "check_answers", "close",
           "diagnose", "resolve", "scale_of", "use_slips"]

# an answer is right when |answer - truth| <= tol * max(|truth|, scale): three significant
# digits by default, what a learner types from a hand calculation (-0.105 for -0.10499...)
DEFAULT_TOL = 1e-3

# every kind of mistake, with the words a message starts from
KINDS: dict[str, str] = {
    "sign": "the sign is flipped",
    "fan-out": "a path into a node used more than once is missing",
    "chain": "the chain is forgotten (the local derivative without the pull from above)",
    "value-for-local": "a value in place of the local derivative",
    "sigmoid-s": "sigmoid's slope taken as s instead of s(1 - s)",
    "sigmoid-1-s": "sigmoid's slope taken as 1 - s instead of s(1 - s)",
    "ex4": "the notebook's Ex-4 slip: the other argument's gradient in place of its value",
    "division": "a division slip",
    "routing": "the pull routed to the wrong argument",
    "wrong-node": "the derivative with respect to the wrong node",
}

# gate -> argument slot ("*": every slot) -> (kind, what that use passes back, words)
SLIPS: dict[str, dict[str, tuple[tuple[str, str, str], ...]]] = {
    "mul": {
        "0": (("ex4", "gy * g", "d{by}/d{node} taken as the gradient of {other} ({gother}) "
               "instead of {other}'s value ({vother}), as the notebook's Ex-4 writes "
               "da = db * dx"),),
        "1": (("ex4", "gx * g", "d{by}/d{node} taken as the gradient of {other} ({gother}) "
               "instead of {other}'s value ({vother}), as the notebook's Ex-4 writes "
               "db = da * dx"),),
    },
    "sigmoid": {
        "0": (("sigmoid-s", "out * g", "sigmoid's slope is s(1 - s) = {local}, not s = {out}"),
              ("sigmoid-1-s", "(1.0 - out) * g",
               "sigmoid's slope is s(1 - s) = {local}, not 1 - s = {one_minus}")),
    },
    "div": {
        "1": (("division", "-(1.0 / y) * out",
               "the notebook's division slip: -x/y² = {local} alone, as in "
               "da = -(1.0)/(a*a); it needs the pull from above, × {pull}"),
              ("division", "-(g / y)",
               "d(x/y)/dy is -x/y², not -1/y: the divisor is squared")),
        "0": (("division", "g * y", "d(x/y)/dx is 1/y = {local}, not y: divide by the divisor"),),
    },
    "max": {"*": (("routing", "0.0 if x == out else g",
                   "max passes the pull to the argument that won ({out}), "
                   "and 0 to the others"),)},
    "min": {"*": (("routing", "0.0 if x == out else g",
                   "min passes the pull to the argument that won ({out}), "
                   "and 0 to the others"),)},
    "relu": {"0": (("routing", "0.0 if x > 0 else g",
                    "relu passes the pull through when its input is above 0 "
                    "(here {x}), and 0 otherwise"),)},
}


# the words of each message, filled in by name (str.format here, the same templates in the
# page's practice.js), so that the terminal and the page say the very same sentence
WORDS: dict[str, str] = {
    "sign": "the sign is flipped: the gradient of {name} is {truth}, not {flipped}",
    "fan-out": "{name} is used {count} times and its gradient adds up what every use passes "
               "back: {told}, in all {truth}; this leaves out {which} {by} ({contribution})",
    "one-use": "the use by",
    "alike-uses": "one of the {alike} uses by",
    "chain": "the chain is forgotten: {total} is the local derivative d{users}/d{name} "
             "alone; each use's local derivative must be multiplied by the pull from above "
             "({pulls})",
    "gate-value": "{user}'s value ({out}) is used in place of its local derivative "
                  "d{user}/d{name} = {local}",
    "own-value": "{name}'s own value ({value}) is used in place of the local derivative "
                 "d{user}/d{name} = {local}",
    "other-argument": "d{user}/d{other} = {partial} is used where d{user}/d{name} = {local} "
                      "belongs (the other argument)",
    "in-use": "{text} (in the use by {by})",
    "wrong-node": "{value} is the gradient of {names}, not of {name}",
}


@dataclass(frozen=True, slots=True)
class Mistake:
    """One mistake that gives the learner's number: its kind, that number, in words."""

    kind: str
    value: float
    text: str


@dataclass
class Verdict:
    """One answer: the node, the learner's number, the truth, and what explains a wrong one."""

    name: str  # as the learner wrote it (dq, q, x)
    node: int
    label: str
    answer: float
    truth: float
    right: bool
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(m.kind for m in self.mistakes))


def scale_of(result: Result) -> float:
    """The smallest size a gradient is compared at: a truth of 0 is answered within
    tol × this (1e-12 of the circuit's largest finite gradient)."""
    grads = result.grads or []
    live = result.circuit.live
    big = max((abs(g) for i, g in enumerate(grads) if live[i] and math.isfinite(g)),
              default=0.0)
    return max(1e-12 * big, 1e-300)


def close(answer: float, target: float, tol: float, scale: float) -> bool:
    """Whether `answer` is `target` within tol relative to the target's size."""
    if not (math.isfinite(answer) and math.isfinite(target)):
        return answer == target or (answer != answer and target != target)
    return abs(answer - target) <= tol * max(abs(target), scale)


def resolve(circuit: Circuit, name: str) -> int:
    """The node a learner names: a node's name or label, or the notebook's `dNAME`
    (`dout`, or d and the output's name, is the output)."""
    named = circuit.named
    if name in named:
        return named[name]
    labels = circuit.labels()
    if name in labels:
        return labels.index(name)
    if name.startswith("d") and len(name) > 1:
        rest = name[1:]
        if rest in named:
            return named[rest]
        if rest in labels:
            return labels.index(rest)
    choices = [*named, *(f"d{n}" for n in named), *labels]
    raise CircuitError(f"--expect {name}: no node of that name{suggest(name, choices)} "
                       f"(the nodes: {', '.join(_listed(circuit))})")


def _listed(circuit: Circuit) -> list[str]:
    labels = circuit.labels()
    return [labels[i] for i, a in enumerate(circuit.args)
            if (a or circuit.is_input(i)) and circuit.used()[i]][:20]


def check_answers(circuit: Circuit, values: Mapping[str, float],
                  answers: Sequence[tuple[str, float]], tol: float = DEFAULT_TOL,
                  pull: float = 1.0) -> tuple[Explanation, list[Verdict]]:
    """Each (name, number) against the true gradient, wrong ones diagnosed."""
    ex = explain(evaluate(circuit, values, pull=pull))
    nodes = [resolve(circuit, name) for name, _ in answers]
    return ex, [diagnose(ex, node, answer, tol, name)
                for node, (name, answer) in zip(nodes, answers)]


def diagnose(ex: Explanation, node: int, answer: float, tol: float = DEFAULT_TOL,
             name: str | None = None) -> Verdict:
    """The verdict on one answer for node's gradient, with every mistake that gives it."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    truth = result.grads[node]
    scale = scale_of(result)
    verdict = Verdict(name or labels[node], node, labels[node], answer, truth,
                      close(answer, truth, tol, scale))
    if verdict.right:
        return verdict
    for mistake in alternatives(ex, node):
        if (close(answer, mistake.value, tol, scale)
                and not close(mistake.value, truth, tol, scale)
                and all(m.text != mistake.text for m in verdict.mistakes)):
            verdict.mistakes.append(mistake)
    return verdict


def _n(x: float) -> str:
    """A number inside a message: short, as a learner writes it."""
    if x != x:
        return "nan"
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


def alternatives(ex: Explanation, node: int) -> list[Mistake]:
    """Every mistake's number for node's gradient, computed on this circuit."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    grads = result.grads
    name = labels[node]
    truth = grads[node]
    found: list[Mistake] = [Mistake("sign", -truth, WORDS["sign"].format(
        name=name, truth=_n(truth), flipped=_n(-truth)))]
    uses: list[Use] = [] if node == c.output else ex.uses[node]

    def by(u: Use) -> str:
        return f"{labels[u.by]} = {c.formula(u.by)}"

    # the fan-out sum with one use left out (uses alike, as a * a's two, are one mistake)
    if len(uses) > 1:
        told = ", ".join(f"{by(u)} ({_n(u.contribution)})" for u in uses)
        seen = set()
        for u in uses:
            if (u.by, u.contribution) in seen:
                continue
            seen.add((u.by, u.contribution))
            alike = sum(1 for v in uses if (v.by, v.contribution) == (u.by, u.contribution))
            which = WORDS["alike-uses" if alike > 1 else "one-use"].format(alike=alike)
            found.append(Mistake("fan-out", truth - u.contribution, WORDS["fan-out"].format(
                name=name, count=len(uses), told=told, truth=_n(truth), which=which,
                by=by(u), contribution=_n(u.contribution))))
    # the chain forgotten, for every use at once (a single use: its local alone)
    if uses:
        total_local = 0.0
        for u in uses:
            total_local += u.local
        pulls = ", ".join(f"d{labels[u.by]} = {_n(u.pull)}" for u in uses)
        found.append(Mistake("chain", total_local, WORDS["chain"].format(
            total=_n(total_local), users="/".join(dict.fromkeys(labels[u.by] for u in uses)),
            name=name, pulls=pulls)))
    # one use done wrong, the others right
    for u in uses:
        rest = truth - u.contribution
        for kind, value, text in use_slips(ex, node, u):
            found.append(Mistake(kind, rest + value if len(uses) > 1 else value,
                                 WORDS["in-use"].format(text=text, by=by(u))
                                 if len(uses) > 1 else text))
    # the gradient of another node (nodes with the same gradient: one mistake)
    others: dict[float, list[str]] = {}
    used = c.used()
    for j in range(len(c)):
        if j != node and c.live[j] and (c.args[j] or c.is_input(j)) and used[j]:
            others.setdefault(grads[j], []).append(labels[j])
    for value, names in others.items():
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        found.append(Mistake("wrong-node", value, WORDS["wrong-node"].format(
            value=_n(value), names=shown, name=name)))
    return found


def use_slips(ex: Explanation, node: int, u: Use) -> list[tuple[str, float, str]]:
    """What one use passes back under each local slip: (kind, number, words)."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    vals, grads = result.values, result.grads
    gate = c.gates[u.by]
    args = c.args[u.by]
    name, user = labels[node], labels[u.by]
    g, out = u.pull, vals[u.by]
    xs = [vals[j] for j in args]
    found: list[tuple[str, float, str]] = []
    # a value in place of the local derivative: the gate's own value, or this node's
    if gate.name not in ("add", "sub"):  # not an add's constant slope: no value stands for it
        found.append(("value-for-local", out * g, WORDS["gate-value"].format(
            user=user, out=_n(out), name=name, local=_n(u.local))))
        found.append(("value-for-local", vals[node] * g, WORDS["own-value"].format(
            name=name, value=_n(vals[node]), user=user, local=_n(u.local))))
    # the local derivative with respect to another argument of the same gate
    if len(args) > 1:
        partials = gate.partials(_real(), out, *xs)
        for slot, j in enumerate(args):
            if slot != u.slot and j != node:
                found.append(("wrong-node", partials[slot] * g, WORDS["other-argument"].format(
                    user=user, other=labels[j], partial=_n(partials[slot]), name=name,
                    local=_n(u.local))))
    # the gate's own slips, from the table
    table = SLIPS.get(gate.name, {})
    for kind, rule, words in (*table.get("*", ()), *table.get(str(u.slot), ())):
        env = _env(g, out, xs, u.slot, [grads[j] for j in args], gate.arity is None)
        value = _rule(rule)(**env)
        other = args[1 - u.slot] if len(args) == 2 else node
        fill = {"by": user, "node": name, "other": labels[other], "gother": _n(grads[other]),
                "vother": _n(vals[other]), "local": _n(u.local), "out": _n(out),
                "one_minus": _n(1.0 - out), "pull": _n(g), "x": _n(xs[u.slot])}
        found.append((kind, value, words.format(**fill)))
    return found


def _env(g: float, out: float, xs: list[float], slot: int, gs: list[float],
         variadic: bool) -> dict[str, float]:
    """The names a slip rule reads: x is the use's own argument for a variadic gate."""
    if variadic:
        return {"g": g, "out": out, "x": xs[slot], "y": 0.0, "gx": gs[slot], "gy": 0.0}
    y = xs[1] if len(xs) > 1 else 0.0
    gy = gs[1] if len(gs) > 1 else 0.0
    return {"g": g, "out": out, "x": xs[0], "y": y, "gx": gs[0], "gy": gy}


def _real():
    from ..core.backend import REAL

    return REAL


_RULE_NAMES = ("g", "out", "x", "y", "gx", "gy")


@cache
def _rule(text: str) -> Callable[..., float]:
    """A slip rule as a function. The texts are this module's own (SLIPS); each is checked
    to use only arithmetic, comparisons and the names above before it is compiled."""
    tree = ast.parse(text, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare, ast.Name,
               ast.Constant, ast.Load, ast.operator, ast.unaryop, ast.cmpop)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name)
                                             and node.id not in _RULE_NAMES):
            raise ValueError(f"slip rule {text!r}: only arithmetic over {_RULE_NAMES}")
    code = compile(f"lambda {', '.join(_RULE_NAMES)}: {text}", "<slip>", "eval")
    fn = eval(code, {"__builtins__": {}})  # safe: SLIPS' own text, checked above

    def run(**env: float) -> float:
        try:
            return float(fn(**env))
        except ArithmeticError:
            return math.nan

    return run
