"""Random circuits over every gate of the gate table (read from it, so a new gate is covered).

Each gate is spelled the way the parser reads it: its operator if it has one, else its
function name, with as many arguments as its arity (two or three for variadic gates).
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

from circuitcli.core.gates import FUNCTIONS, GATES, OPERATORS

VARS = ("x", "y", "z")
CONSTS = ("0.5", "1.5", "2", "3")
_SYMBOL = {gate.name: symbol for symbol, gate in OPERATORS.items()}
GATE_NAMES = [name for name, gate in GATES.items() if gate.arity != 0]


def spell(name: str, args: list[str]) -> str:
    """The text of gate `name` over argument texts."""
    symbol = _SYMBOL.get(name)
    if symbol == "neg":
        return f"-({args[0]})"
    if symbol is not None:
        return f"({args[0]}) {symbol} ({args[1]})"
    assert name in FUNCTIONS, name
    return f"{name}({', '.join(args)})"


def arity(name: str, pick) -> int:
    n = GATES[name].arity
    return n if n is not None else pick


def expressions(max_leaves: int = 8):
    """A hypothesis strategy: expression text over x, y, z and a few constants."""
    leaves = st.one_of(st.sampled_from(VARS), st.sampled_from(CONSTS))

    def extend(children):
        return st.sampled_from(GATE_NAMES).flatmap(
            lambda name: st.lists(children, min_size=arity(name, 2), max_size=arity(name, 3)).map(
                lambda args: spell(name, args)))

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def every_gate_once(rng: random.Random) -> list[str]:
    """One small random expression per gate, each gate at its top (for the browser tests)."""
    out = []
    for name in GATE_NAMES:
        n = arity(name, rng.choice([2, 3]))
        args = []
        for _ in range(n):
            a, b = rng.choice(VARS), rng.choice(VARS + CONSTS)
            args.append(f"{a} * {b}" if rng.random() < 0.5 else f"{a} + {b}")
        out.append(spell(name, args))
    return out


def point(rng: random.Random) -> dict[str, float]:
    """Input values away from 0 and from saturation, where doubles agree to the last bits."""
    return {v: round(rng.uniform(0.2, 1.8) * rng.choice([-1, 1]), 6) for v in VARS}


def random_expression(rng: random.Random, depth: int = 3) -> str:
    """A random expression tree of gates from the table, `depth` levels at most."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(VARS) if rng.random() < 0.75 else rng.choice(CONSTS)
    name = rng.choice(GATE_NAMES)
    return spell(name, [random_expression(rng, depth - 1)
                        for _ in range(arity(name, rng.choice([2, 3])))])
