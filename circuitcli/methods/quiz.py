"""The quiz: one exercise at a time, from the notebook's circuits to random deeper ones.

An exercise is a circuit, its input values and one question: a node's value, a local
derivative (d of / d node, one gate's own slope) or a gradient (d output / d node). The
same level and seed give the same exercise on every machine: everything is drawn from
random.Random seeded with a string (hashed by SHA-512, never by hash()), and only integer
draws and choices are used.

Levels: 1 the multiply gate; 2 (x + y) * z; 3 the neuron; 4 the ninja patterns (a node
used twice, max, relu, division, the squared chain); 5 and up random circuits, one more
gate each level, and more fan-out (a node feeding several gates) as they grow.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from ..core.circuit import Circuit
from ..core.evaluate import evaluate
from ..core.parser import parse
from ..core.syntax import CircuitError
from .explain import Explanation, explain
from .practice import (
    DEFAULT_TOL,
    Mistake,
    close,
    diagnose,
    local_alternatives,
    local_of,
    matching,
    scale_of,
    value_alternatives,
)

__all__ = ["Answer", "Exercise", "exercise", "grade_answer"]

# the notebook's circuits by level: (text, the inputs' value ranges drawn from)
_NOTEBOOK: dict[int, list[str]] = {
    1: ["f = x * y"],
    2: ["q = x + y\nf = q * z"],
    3: ["ax = a * x\nby = b * y\nq = ax + by + c\nf = sigmoid(q)"],
    4: ["x = a * a",
        "x = a * a + b * b + c * c",
        "x1 = a * b + c\nx = x1 * d",
        "x1 = a * b + c\nx2 = x1 * d\nx = x2 * x2",
        "x = max(a, b)",
        "x = relu(a) * b",
        "x = 1.0 / a",
        "x1 = a + b\nx2 = c + d\nx3 = 1.0 / x2\nx = x1 * x3",
        "q = a * b\nx = q + a"],
}

# gates a random circuit is made of, spelled as the parser reads them
_BINARY = ("+", "-", "*", "max")
_UNARY = ("relu", "sigmoid")


@dataclass(frozen=True)
class Exercise:
    """One question about one circuit at given inputs."""

    level: int
    seed: int
    text: str
    values: dict[str, float]
    kind: str  # "value", "local" or "gradient"
    node: str
    of: str | None  # local: the gate the slope is of; gradient: the output; value: None

    def document(self) -> dict:
        """The stateless JSON exercise, exactly as the quiz's contract says."""
        return {"circuit": self.text, "values": dict(self.values),
                "ask": {"kind": self.kind, "node": self.node, "of": self.of}}

    def question(self) -> str:
        """The question in words."""
        if self.kind == "value":
            return f"What is the value of {self.node}?"
        if self.kind == "local":
            return (f"What is the local derivative d{self.of}/d{self.node} (the slope of "
                    f"{self.of}'s gate with respect to {self.node} alone, no pull)?")
        return f"What is the gradient d{self.of}/d{self.node} (the notebook's d{self.node})?"

    def circuit(self) -> Circuit:
        return parse(self.text)


@dataclass
class Answer:
    """A graded answer: right or not, the truth, and every mistake that gives the number."""

    exercise: Exercise
    answer: float
    right: bool
    truth: float
    mistakes: list[Mistake] = field(default_factory=list)
    explanation: Explanation | None = None
    node: int = -1


def exercise(level: int, seed: int) -> Exercise:
    """The exercise for this level and seed (the same on every machine)."""
    rng = random.Random(f"circuitcli quiz {level} {seed}")
    for _ in range(200):  # redraw the values until no gate sits at a kink or a pole
        text = rng.choice(_NOTEBOOK[level]) if level in _NOTEBOOK else _random_text(rng, level)
        c = parse(text)
        values = {name: float(_draw(rng)) for name in c.inputs}
        try:
            result = evaluate(c, values)
        except CircuitError:  # a division by zero, a log of a negative: draw again
            continue
        if result.kinks or result.warnings or not _tame(result):
            continue
        return _ask(rng, level, seed, text, c, values, result)
    raise RuntimeError(f"no exercise found for level {level}, seed {seed}")


def _draw(rng: random.Random) -> int:
    """A small nonzero integer, as the notebook's examples use."""
    return rng.choice([-4, -3, -2, -1, 1, 2, 3, 4, 5])


def _tame(result) -> bool:
    """Numbers a learner can work with by hand: finite, not huge."""
    return all(math.isfinite(v) and abs(v) < 1e4 for v in result.values) and all(
        math.isfinite(g) and abs(g) < 1e4 for g in result.grads)


def _random_text(rng: random.Random, level: int) -> str:
    """A random circuit of level - 3 gates over two to four inputs, every node used; from
    level 6 on, an argument is more and more often a node already used (fan-out)."""
    gates = level - 3
    inputs = ["a", "b", "c", "d"][: min(4, 2 + (gates - 1) // 2)]
    pool = list(inputs)  # every node so far
    fresh = list(inputs)  # nodes no gate uses yet
    share = min(0.6, 0.15 * (level - 5))
    lines = []
    for k in range(gates):
        left = gates - k  # gates still to make, this one included
        # a free gate may leave one more unused node; the gates left must still join them all
        must = len(fresh) >= left
        op = rng.choice(_BINARY) if must or len(fresh) < 2 else rng.choice(_BINARY + _UNARY)
        args: list[str] = []
        for _ in range(1 if op in _UNARY else 2):
            options = [n for n in fresh if n not in args]
            if options and (must or not pool or rng.random() >= share):
                pick = options[rng.randrange(len(options))]
                fresh.remove(pick)
            else:
                pick = rng.choice([n for n in pool if n not in args])
                if pick in fresh:
                    fresh.remove(pick)
            args.append(pick)
        name = "f" if k == gates - 1 else f"n{k + 1}"
        if op in _UNARY:
            expr = f"{op}({args[0]})"
        elif op == "max":
            expr = f"max({args[0]}, {args[1]})"
        else:
            expr = f"{args[0]} {op} {args[1]}"
        lines.append(f"{name} = {expr}")
        pool.append(name)
        fresh.append(name)
    return "\n".join(lines)


def _ask(rng: random.Random, level: int, seed: int, text: str, c: Circuit,
         values: dict[str, float], result) -> Exercise:
    """Pick the question: a value, a local derivative or a gradient, of a named node."""
    labels = c.labels()
    used = c.used()
    named = [i for i in range(len(c)) if c.names[i] is not None and used[i]]
    gates = [i for i in named if c.args[i]]
    kinds = ["value", "local", "gradient"] if level > 1 else ["value", "gradient", "local"]
    kind = rng.choice(kinds)
    out = labels[c.output]
    if kind == "value":
        return Exercise(level, seed, text, values, kind, labels[rng.choice(gates)], None)
    pairs = [(j, i) for i in gates for j in dict.fromkeys(c.args[i])
             if c.names[j] is not None and c.live[j]]
    if kind == "local" and pairs:  # (x = a*a + b*b has no gate over named nodes alone)
        j, i = rng.choice(pairs)
        return Exercise(level, seed, text, values, kind, labels[j], labels[i])
    live = [i for i in named if c.live[i] and i != c.output]
    return Exercise(level, seed, text, values, kind, labels[rng.choice(live)], out)


def grade_answer(ex: Exercise, answer: float, tol: float = DEFAULT_TOL) -> Answer:
    """The answer against the truth; a wrong one with every mistake that gives it, from the
    mistakes of its own kind of question (methods/practice.py computes each on the
    circuit)."""
    c = ex.circuit()
    explanation = explain(evaluate(c, ex.values))
    result = explanation.result
    node = c.named[ex.node]
    if ex.kind == "gradient":
        verdict = diagnose(explanation, node, answer, tol, ex.node)
        return Answer(ex, answer, verdict.right, verdict.truth, verdict.mistakes, explanation,
                      node)
    if ex.kind == "value":
        truth = result.values[node]
        scale = max(abs(truth), 1.0) * 1e-12
        candidates = value_alternatives(explanation, node)
    else:
        by = c.named[ex.of]
        truth = local_of(result, node, by)
        scale = scale_of(result)
        candidates = local_alternatives(explanation, node, by)
    right = close(answer, truth, tol, scale)
    mistakes = [] if right else matching(candidates, answer, truth, tol, scale)
    return Answer(ex, answer, right, truth, mistakes, explanation, node)
