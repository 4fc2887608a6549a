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

The per-gate slips are pull rules in the gate table's language (over the pull `g`, the
gate's value `out`, its arguments `x`, `y`): each is the gate's entry with one wrong pull,
compiled by the one rule compiler (core/rules.py) for Python, and lowered by it to
JavaScript for the live page (render/practice_js.py). Nothing here parses or runs text.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from ..core import rules
from ..core.backend import REAL
from ..core.circuit import Circuit
from ..core.evaluate import Result, evaluate
from ..core.gates import GATES, Gate
from ..core.syntax import CircuitError, suggest
from .explain import Explanation, Use, explain

__all__ = ["DEFAULT_TOL", "KINDS", "SLIPS", "VALUE_SLIPS", "WORDS", "Mistake", "Slip", "Verdict",
           "check_answers", "close", "diagnose", "local_alternatives", "local_of", "matching",
           "resolve", "scale_of", "slip_gate", "use_slips", "value_alternatives", "value_slip_gate"]

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
    "wrong-gate": "another gate's rule (a sum for a product)",
}

@dataclass(frozen=True, slots=True)
class Slip:
    """One slip in a gate's own rule: what a use passes back when the learner makes it.

    `pull` is written in the gate table's pull language (the pull `g`, the gate's value
    `out`, its arguments `x`, `y`; for max and min `x` is the use's own argument) and is
    compiled by the rule compiler (core/rules.py) like any pull rule, for Python and for
    the page. `swapped`: the other argument's gradient stands where its value belongs.
    """

    kind: str
    slot: str  # the argument it is about: "0", "1", or "*" for every argument
    pull: str
    words: str
    swapped: bool = False


_EX4 = ("d{by}/d{node} taken as the gradient of {other} ({gother}) instead of {other}'s "
        "value ({vother}), as the notebook's Ex-4 writes {ex4}")
SLIPS: dict[str, tuple[Slip, ...]] = {
    "mul": (Slip("ex4", "0", "y * g", _EX4.replace("{ex4}", "da = db * dx"), swapped=True),
            Slip("ex4", "1", "x * g", _EX4.replace("{ex4}", "db = da * dx"), swapped=True)),
    "sigmoid": (Slip("sigmoid-s", "0", "out * g",
                     "sigmoid's slope is s(1 - s) = {local}, not s = {out}"),
                Slip("sigmoid-1-s", "0", "(1.0 - out) * g",
                     "sigmoid's slope is s(1 - s) = {local}, not 1 - s = {one_minus}")),
    "div": (Slip("division", "1", "-(1.0 / y) * out",
                 "the notebook's division slip: -x/y² = {local} alone, as in "
                 "da = -(1.0)/(a*a); it needs the pull from above, × {pull}"),
            Slip("division", "1", "-(g / y)",
                 "d(x/y)/dy is -x/y², not -1/y: the divisor is squared"),
            Slip("division", "0", "g * y",
                 "d(x/y)/dx is 1/y = {local}, not y: divide by the divisor")),
    "max": (Slip("routing", "*", "0.0 if x == out else g",
                 "max passes the pull to the argument that won ({out}), and 0 to the others"),),
    "min": (Slip("routing", "*", "0.0 if x == out else g",
                 "min passes the pull to the argument that won ({out}), and 0 to the others"),),
    "relu": (Slip("routing", "0", "0.0 if x > 0 else g",
                  "relu passes the pull through when its input is above 0 (here {x}), "
                  "and 0 otherwise"),),
}

# slips in a gate's value, for a question about a node's value: the forward rule a learner
# uses by mistake, in the gate table's language (compiled by core/rules.py as any rule)
VALUE_SLIPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "max": (("routing", "minimum(*xs)", "max takes the largest argument ({truth}), not the "
             "smallest ({value})"),),
    "min": (("routing", "maximum(*xs)", "min takes the smallest argument ({truth}), not the "
             "largest ({value})"),),
    "relu": (("routing", "x", "relu passes its input through only when it is above 0; "
              "here it is {x}, so relu gives {truth}"),),
    "sigmoid": (("sign", "sigmoid(-x)", "sigmoid(x) is 1/(1 + e^-x) = {truth}; {value} is "
                 "1/(1 + e^x), the sign in the exponent flipped"),
                ("sigmoid-1-s", "1.0 - sigmoid(x)", "sigmoid(x) is {truth}; {value} is "
                 "1 - s, the other side of the curve")),
    "div": (("division", "y / x", "x / y divides the first argument by the second: {truth}, "
             "not {value} (upside down)"),
            ("division", "x * y", "x / y divides by {y}; multiplying by it gives {value}")),
    "sub": (("sign", "y - x", "x - y takes the second argument from the first: {truth}, "
             "not {value}"),),
    "mul": (("wrong-gate", "x + y", "a product multiplies its arguments: {truth}, not "
             "their sum {value}"),),
    "add": (("wrong-gate", "x * y", "a sum adds its arguments: {truth}, not their "
             "product {value}"),),
}


@cache
def slip_gate(gate: str, index: int) -> Gate:
    """The gate `gate` with slip `index` of SLIPS[gate] as its pull rule (at the slip's slot;
    the other slots pass 0): compiled by the rule compiler, as the true rules are."""
    base = GATES[gate]
    slip = SLIPS[gate][index]
    if base.arity is None or slip.slot == "*":
        pulls = (slip.pull,) * (1 if base.arity is None else base.arity)
    else:
        pulls = tuple(slip.pull if str(k) == slip.slot else "0.0" for k in range(base.arity))
    return dataclasses.replace(base, name=f"{gate}_slip_{index}", pull=pulls)


@cache
def value_slip_gate(gate: str, index: int) -> Gate:
    """The gate `gate` with the forward rule of VALUE_SLIPS[gate][index]."""
    return dataclasses.replace(GATES[gate], name=f"{gate}_value_slip_{index}",
                               rule=VALUE_SLIPS[gate][index][1])


def _slip_value(gate: Gate, slot: int, g: float, out: float, xs: list[float]) -> float:
    """What the slip gate passes back to argument `slot` (nan where its rule fails)."""
    try:
        return float(rules.real(gate)[1](g, out, *xs)[slot])
    except (ArithmeticError, ValueError):
        return math.nan


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
    scale = _once(ex, "scale", lambda: scale_of(result))  # O(nodes): once per explanation
    verdict = Verdict(name or labels[node], node, labels[node], answer, truth,
                      close(answer, truth, tol, scale))
    if verdict.right:
        return verdict
    verdict.mistakes = matching(alternatives(ex, node), answer, truth, tol, scale)
    return verdict


def matching(candidates: Sequence[Mistake], answer: float, truth: float, tol: float,
             scale: float) -> list[Mistake]:
    """The candidates that give the learner's number (and not the truth), each text once."""
    found: list[Mistake] = []
    for m in candidates:
        if (close(answer, m.value, tol, scale) and not close(m.value, truth, tol, scale)
                and all(f.text != m.text for f in found)):
            found.append(m)
    return found


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
    # the gradient of another node (nodes with the same gradient: one mistake); the nodes
    # grouped by gradient once per explanation, not once per answer (5,000 answers)
    for value, bucket in _once(ex, "buckets", lambda: _gradient_buckets(ex)).items():
        if node in bucket:  # the truth itself: never a mistake (matching drops it)
            continue
        names = [labels[j] for j in itertools.islice(bucket, 6)]
        shown = ", ".join(names) + (f" and {len(bucket) - 6} more" if len(bucket) > 6 else "")
        found.append(Mistake("wrong-node", value, WORDS["wrong-node"].format(
            value=_n(value), names=shown, name=name)))
    return found


def _once(ex: Explanation, key: str, make):
    """What `make` gives, computed once per explanation (every answer asks the same)."""
    cache = vars(ex).setdefault("_practice_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _gradient_buckets(ex: Explanation) -> dict[float, dict[int, None]]:
    """Each gradient -> the nodes that have it, in node order (answerable nodes only)."""
    c = ex.result.circuit
    grads = ex.result.grads
    used = c.used()
    buckets: dict[float, dict[int, None]] = {}
    for j in range(len(c)):
        if c.live[j] and (c.args[j] or c.is_input(j)) and used[j]:
            buckets.setdefault(grads[j], {})[j] = None
    return buckets


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
        partials = gate.partials(REAL, out, *xs)
        for slot, j in enumerate(args):
            if slot != u.slot and j != node:
                found.append(("wrong-node", partials[slot] * g, WORDS["other-argument"].format(
                    user=user, other=labels[j], partial=_n(partials[slot]), name=name,
                    local=_n(u.local))))
    # the gate's own slips, from the table
    for index, slip in enumerate(SLIPS.get(gate.name, ())):
        if slip.slot not in ("*", str(u.slot)):
            continue
        other = args[1 - u.slot] if len(args) == 2 else node
        reads = list(xs)
        if slip.swapped:  # the other argument's gradient in place of its value
            reads[1 - u.slot] = grads[other]
        value = _slip_value(slip_gate(gate.name, index), u.slot, g, out, reads)
        fill = {"by": user, "node": name, "other": labels[other], "gother": _n(grads[other]),
                "vother": _n(vals[other]), "local": _n(u.local), "out": _n(out),
                "one_minus": _n(1.0 - out), "pull": _n(g), "x": _n(xs[u.slot])}
        found.append((slip.kind, value, slip.words.format(**fill)))
    return found


# ---- the quiz's other questions: a node's value, one gate's local derivative ----------------


def value_alternatives(ex: Explanation, node: int) -> list[Mistake]:
    """Every mistake's number for node's *value*, computed on this circuit: the sign
    flipped, an argument's sign flipped on the way in, the gate's own value slips
    (VALUE_SLIPS: max taken as min, relu letting a negative through, x / y upside down, ...)
    and another node's value."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    vals = result.values
    name, truth = labels[node], vals[node]
    found = [Mistake("sign", -truth, f"the sign is flipped: {name} is {_n(truth)}, "
                                     f"not {_n(-truth)}")]
    gate, args = c.gates[node], c.args[node]
    xs = [vals[j] for j in args]
    for slot, j in enumerate(args):
        if xs[slot] == 0 or args.index(j) != slot:
            continue
        reads = [-x if k == j else x for k, x in zip(args, xs)]
        value = _value_of(gate, reads)
        found.append(Mistake("sign", value, f"{labels[j]} is {_n(vals[j])}; with its sign "
                             f"flipped, {name} = {c.formula(node)} gives {_n(value)}, "
                             f"not {_n(truth)}"))
    for index, (kind, _, words) in enumerate(VALUE_SLIPS.get(gate.name, ())):
        value = _value_of(value_slip_gate(gate.name, index), xs)
        fill = {"truth": _n(truth), "value": _n(value), "x": _n(xs[0]) if xs else "",
                "y": _n(xs[1]) if len(xs) > 1 else ""}
        found.append(Mistake(kind, value, f"{name} = {c.formula(node)}: "
                             + words.format(**fill)))
    others: dict[float, list[str]] = {}
    used = c.used()
    for j in range(len(c)):
        if j != node and (c.args[j] or c.is_input(j)) and used[j]:
            others.setdefault(vals[j], []).append(labels[j])
    for value, names in others.items():
        found.append(Mistake("wrong-node", value, f"{_n(value)} is the value of "
                             f"{', '.join(names[:6])}, not of {name}"))
    return found


def _value_of(gate: Gate, xs: list[float]) -> float:
    try:
        return float(rules.real(gate)[0](*xs))
    except (ArithmeticError, ValueError):
        return math.nan


def local_of(result: Result, node: int, by: int) -> float:
    """d by / d node, one gate's own slope: summed over the slots where `by` reads node
    (a * a: 2a)."""
    c = result.circuit
    args = c.args[by]
    partials = c.gates[by].partials(REAL, result.values[by], *[result.values[j] for j in args])
    total = 0.0
    for j, p in zip(args, partials):
        if j == node:
            total += p
    return total


def local_alternatives(ex: Explanation, node: int, by: int) -> list[Mistake]:
    """Every mistake's number for the local derivative d by / d node, computed on this
    circuit: the sign; the chain brought in where only the gate's own slope is asked (the
    whole gradient of node, or this use's local × pull); one of the slots of a gate that
    reads node twice left out; each slot done wrong as in `use_slips` (a value for the
    slope, the other argument's slope, the gate's own slips), at a pull of 1; and the
    slope of another gate that reads node."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    name, user = labels[node], labels[by]
    truth = local_of(result, node, by)
    uses = [u for u in ex.uses[node] if u.by == by]
    found = [Mistake("sign", -truth, f"the sign is flipped: d{user}/d{name} is {_n(truth)}, "
                                     f"not {_n(-truth)}")]
    grad = result.grads[node]
    found.append(Mistake("chain", grad, f"{_n(grad)} is the whole gradient of {name} (the "
                         f"chain through the output), not {user}'s local slope alone"))
    if uses:
        pull = uses[0].pull
        product = 0.0
        for u in uses:
            product += u.contribution
        found.append(Mistake("chain", product, f"{_n(product)} is d{user}/d{name} × the pull "
                             f"d{user} = {_n(pull)}: the local slope is {_n(truth)} alone, "
                             "before the chain multiplies it by the pull"))
    if len(uses) > 1:
        parts = ", ".join(_n(u.local) for u in uses)
        for u in uses:
            found.append(Mistake("fan-out", truth - u.local, f"{user} = {c.formula(by)} reads "
                                 f"{name} {len(uses)} times; its slope adds each one's "
                                 f"({parts}), in all {_n(truth)}; this leaves one out"))
    for u in uses:
        unit = Use(u.by, u.slot, u.local, 1.0, u.local)
        rest = truth - u.local
        for kind, value, words in use_slips(ex, node, unit):
            found.append(Mistake(kind, rest + value, words))
    for u in ex.uses[node]:
        if u.by != by:
            other = local_of(result, node, u.by)
            found.append(Mistake("wrong-node", other, f"{_n(other)} is d{labels[u.by]}/"
                                 f"d{name}, the slope of another gate that reads {name}, "
                                 f"not d{user}/d{name}"))
    return found
