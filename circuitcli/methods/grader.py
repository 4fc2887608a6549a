"""A learner's backward pass, graded line by line: `circuit check CIRCUIT --backward FILE`.

The file is written the way the notebook writes a backward pass, one assignment a line:

    dq = z * dout
    dx = 1.0 * dq
    da += 2 * a * dx      # += accumulates, for a node used more than once

`dNAME` is the gradient of node NAME, `dout` (or d and the output's name) the pull on the
output; every other name reads a node's value, or a helper the file assigned earlier. Each
right-hand side is parsed by circuitcli's own parser (core.circuit.parse: the expression
language, never eval) and computed with the gate table. The lines run in order; after
each, the gradient it gives is compared with the truth at that point of the sweep: the
full gradient after the last line that assigns it, one of the sums of its uses' products
before. The first wrong line stops the grading, with its diagnosis (methods/practice.py).
A line that reads a gradient which a later line still adds to (the notebook's warning
about +=) is caught there, before any number is compared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

from ..core.circuit import Circuit
from ..core.evaluate import evaluate, forward
from ..core.parser import parse
from ..core.syntax import CircuitError, suggest
from .explain import Explanation, explain
from .practice import DEFAULT_TOL, Mistake, Verdict, close, diagnose, scale_of, use_slips

__all__ = ["Graded", "LineResult", "Wrong", "grade", "read_lines"]

_HEAD = re.compile(r"[ \t]*([^\W\d]\w*)[ \t]*(\+=|=)[ \t]*")
# a use count up to this many: a partial sum is checked against every subset of uses
_SUBSETS_UP_TO = 12


@dataclass(frozen=True, slots=True)
class Line:
    """One assignment: where it is in the file, what it assigns, and its expression."""

    number: int
    start: int  # offsets into the file's text
    end: int
    target: str
    op: str  # "=" or "+="
    expr_start: int
    expr: Circuit


@dataclass
class LineResult:
    """A line that ran: the value it gave its target, and the truth it was held to."""

    number: int
    text: str
    target: str
    value: float
    truth: float | None  # None: a helper name or a partial sum (no single truth)
    right: bool


@dataclass
class Wrong:
    """The first wrong line: what is wrong, where (file offsets), and what was expected."""

    number: int
    start: int
    end: int
    message: str
    expected: float | None
    verdict: Verdict | None = None
    mistakes: list[Mistake] = field(default_factory=list)
    hint: str | None = None  # the name of the node whose explain lines help (no mistake fit)


@dataclass
class Graded:
    """The whole grading: each line that ran, the first wrong one, gradients never given."""

    explanation: Explanation
    text: str
    source: str
    lines: list[LineResult]
    wrong: Wrong | None
    missing: list[str]

    @property
    def ok(self) -> bool:
        return self.wrong is None


def read_lines(text: str, source: str = "") -> list[Line]:
    """The file's assignments, each right-hand side parsed by the expression parser.

    Comments (#) and blank lines are skipped; `;` separates assignments on one line.
    A mistake points at its column in the file (CircuitError, exit 2).
    """
    found: list[Line] = []
    offset = 0
    for number, raw in enumerate(text.split("\n"), 1):
        body = raw.split("#", 1)[0]
        pos = 0
        for piece in body.split(";"):
            start = offset + pos
            pos += len(piece) + 1
            if not piece.strip():
                continue
            m = _HEAD.match(piece)
            if m is None:
                lead = len(piece) - len(piece.lstrip())
                raise CircuitError("expected an assignment, `dNAME = expression` or "
                                   "`dNAME += expression`", text, start + lead,
                                   start + len(piece.rstrip()), source)
            expr_start = start + m.end()
            expr_text = piece[m.end():]
            if not expr_text.strip():
                raise CircuitError(f"nothing after '{m.group(1)} {m.group(2)}': give an "
                                   "expression", text, start + m.start(2), source=source)
            try:
                expr = parse(expr_text)
            except CircuitError as err:  # point into the file, not into the expression
                shift = expr_start
                raise CircuitError(err.message, text,
                                   None if err.start is None else err.start + shift,
                                   None if err.end is None else err.end + shift,
                                   source) from None
            found.append(Line(number, start + m.start(1), start + len(piece.rstrip()),
                              m.group(1), m.group(2), expr_start, expr))
        offset += len(raw) + 1
    return found


def grade(circuit: Circuit, values: Mapping[str, float], text: str, source: str = "",
          tol: float = DEFAULT_TOL, pull: float = 1.0) -> Graded:
    """Run the learner's lines in order against the circuit's true backward sweep."""
    lines = read_lines(text, source)
    ex = explain(evaluate(circuit, values, pull=pull))
    result = ex.result
    labels = circuit.labels()
    scale = scale_of(result)
    nodes: dict[str, int] = {label: i for i, label in enumerate(labels)}
    nodes.update(circuit.named)
    out_names = {"dout", "d" + labels[circuit.output]}

    def gradient_of(name: str) -> int | None:
        """The node `dNAME` is the gradient of, or None (a value or a helper)."""
        if name in nodes or not name.startswith("d") or len(name) < 2:
            return None
        if name in out_names:
            return circuit.output
        return nodes.get(name[1:])

    targets = [gradient_of(line.target) for line in lines]
    last: dict[str, int] = {}
    for k, line in enumerate(lines):
        last[line.target] = k
    known: dict[str, float] = {}  # the learner's gradients and helpers so far
    assigned_by: dict[str, list[int]] = {}
    graded: list[LineResult] = []
    wrong: Wrong | None = None

    for k, line in enumerate(lines):
        node = targets[k]
        if node is None and line.target in nodes:
            pass  # a forward line: checked against the node's value below
        elif node is None and line.target.startswith("d"):
            raise CircuitError(f"{line.target}: no node {line.target[1:]!r} to be the "
                               f"gradient of{suggest(line.target, _d_names(nodes))} (a name "
                               "that starts with d is a gradient; call a helper otherwise)",
                               text, line.start, line.start + len(line.target), source)
        # the names the right-hand side reads
        env: dict[str, float] = {}
        for name in line.expr.inputs:
            span = _find_name(text, line, name)
            g = gradient_of(name)
            if name in known:
                env[name] = known[name]
                if g is not None and last.get(name, -1) > k:
                    later = lines[last[name]]
                    wrong = Wrong(line.number, *span, (
                        f"{name} is read here before it is complete: line {later.number} "
                        f"still adds to it. A node used more than once collects every use's "
                        f"gradient before its own gradient is passed on; move this line "
                        f"below line {later.number}"), _truth_of(result, node))
                    break
            elif g is not None and g == circuit.output and name in out_names:
                env[name] = result.pull
            elif name in nodes:
                env[name] = result.values[nodes[name]]
            elif g is not None:
                later = next((ln for ln in lines[k + 1:] if ln.target == name), None)
                after = (f"; line {later.number} gives it one: move this line below it"
                         if later else "; no line gives it one")
                wrong = Wrong(line.number, *span, (
                    f"{name} is read before any line gives it a value{after}"),
                    _truth_of(result, node))
                break
            else:
                raise CircuitError(f"{name}: not a node of the circuit, a gradient or a "
                                   f"name assigned above{suggest(name, [*nodes, *known])}",
                                   text, span[0], span[1], source)
        if wrong is not None:
            break
        try:
            value = _value(line.expr, env)
        except CircuitError as err:  # 1/0, log(-1): point into the file, not the expression
            raise CircuitError(err.message, text,
                               line.expr_start if err.start is None else
                               line.expr_start + err.start,
                               None if err.end is None else line.expr_start + err.end,
                               source) from None
        before = known.get(line.target, 0.0) if line.op == "+=" else 0.0
        total = before + value
        known[line.target] = total
        text_of = text[line.start:line.end]
        if node is None:
            if line.target in nodes:  # a forward line: the node's value
                truth = result.values[nodes[line.target]]
                ok = close(total, truth, tol, max(scale, 1e-300))
                graded.append(LineResult(line.number, text_of, line.target, total, truth, ok))
                if not ok:
                    wrong = Wrong(line.number, line.expr_start, line.end, (
                        f"{line.target} is a node of the circuit whose value is {_n(truth)}; "
                        f"this gives {_n(total)}"), truth)
                    break
            else:
                graded.append(LineResult(line.number, text_of, line.target, total, None, True))
            continue
        truth = result.grads[node]
        overwrites = line.op == "=" and assigned_by.get(line.target)
        assigned_by.setdefault(line.target, []).append(line.number)
        if last[line.target] == k:  # the last line for this gradient: all of it
            ok = close(total, truth, tol, scale)
            graded.append(LineResult(line.number, text_of, line.target, total, truth, ok))
            if not ok:
                verdict = diagnose(ex, node, total, tol, line.target)
                message = f"{line.target} = {_n(total)}, but the gradient of {labels[node]} " \
                          f"is {_n(truth)}"
                if overwrites:
                    message += (f"; this line's `=` replaces what line "
                                f"{assigned_by[line.target][-2]} gave {line.target}: "
                                f"a node used more than once adds its uses' gradients, `+=`")
                wrong = Wrong(line.number, line.expr_start, line.end, message, truth, verdict,
                              list(verdict.mistakes), None if verdict.mistakes else labels[node])
                break
            continue
        # a partial sum: some of the node's uses, not yet all
        parts = [u.contribution for u in ex.uses[node]] if node != circuit.output else []
        if _is_partial(total, parts, tol, scale):
            graded.append(LineResult(line.number, text_of, line.target, total, None, True))
            continue
        graded.append(LineResult(line.number, text_of, line.target, total, None, False))
        mistakes = _partial_mistakes(ex, node, value, tol, scale)
        listed = ", ".join(_n(p) for p in parts)
        wrong = Wrong(line.number, line.expr_start, line.end, (
            f"{line.target} = {_n(total)} is none of the sums of what {labels[node]}'s uses "
            f"pass back ({listed}; all of them: {_n(truth)})"), truth, None, mistakes,
            None if mistakes else labels[node])
        break
    given = {targets[k] for k in range(len(lines)) if targets[k] is not None}
    missing = [name for name, i in circuit.inputs.items()
               if i not in given and circuit.used()[i]]
    return Graded(ex, text, source, graded, wrong, missing if wrong is None else [])


def _truth_of(result, node: int | None) -> float | None:
    """What the blamed line's target should end up as (None for a helper)."""
    return None if node is None else result.grads[node]


def _n(x: float) -> str:
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


def _d_names(nodes: Mapping[str, int]) -> list[str]:
    return [f"d{name}" for name in nodes]


def _find_name(text: str, line: Line, name: str) -> tuple[int, int]:
    """Where `name` first stands in the line's expression (for the caret)."""
    m = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text[line.expr_start:line.end])
    if m is None:
        return line.expr_start, line.end
    return line.expr_start + m.start(), line.expr_start + m.end()


def _value(expr: Circuit, env: Mapping[str, float]) -> float:
    """The expression's value at these names, by the gate table (core.evaluate.forward)."""
    vals = forward(expr, {name: env[name] for name in expr.inputs})
    return vals[expr.output]


def _is_partial(total: float, parts: list[float], tol: float, scale: float) -> bool:
    """Whether `total` is the sum of some (not all) of the uses' products."""
    if len(parts) > _SUBSETS_UP_TO:
        return True  # too many to try: the last line's full check still holds
    for size in range(1, len(parts)):
        for chosen in combinations(parts, size):
            s = 0.0
            for p in chosen:
                s += p
            if close(total, s, tol, scale):
                return True
    return False


def _partial_mistakes(ex: Explanation, node: int, value: float, tol: float,
                      scale: float) -> list[Mistake]:
    """What one use done wrong would give: the line's own number against each use."""
    found: list[Mistake] = []
    c = ex.result.circuit
    labels = c.labels()
    for u in ex.uses[node] if node != c.output else []:
        candidates = [Mistake("sign", -u.contribution,
                              f"the sign is flipped: the use by {labels[u.by]} passes back "
                              f"{_n(u.contribution)}, not {_n(-u.contribution)}"),
                      Mistake("chain", u.local,
                              f"the chain is forgotten: {_n(u.local)} is d{labels[u.by]}/"
                              f"d{labels[node]} alone, without the pull d{labels[u.by]} = "
                              f"{_n(u.pull)}")]
        candidates += [Mistake(kind, v, words) for kind, v, words in use_slips(ex, node, u)]
        for m in candidates:
            if (math.isfinite(m.value) and close(value, m.value, tol, scale)
                    and not close(m.value, u.contribution, tol, scale)
                    and all(x.text != m.text for x in found)):
                found.append(m)
    return found
