"""The gate table on its own: arity, derivatives against mpmath, kinks, zero rules, targets.

Expected derivatives come from each gate's sympy form (a text of its own, not the rules)
differentiated by mpmath at 40 digits; every gate of the table is drawn, so a new gate is
tested here without a new line.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from circuitcli.core.backend import REAL, numpy_backend
from circuitcli.core.gates import FUNCTIONS, GATES, OPERATORS
from circuitcli.render.js import gates_js

COMPUTED = sorted(name for name, g in GATES.items() if g.arity != 0)


def arguments(gate) -> int:
    return gate.arity if gate.arity is not None else 3


def points(gate, rnd: random.Random, n: int = 25):
    """Random points inside the gate's domain, away from its kinks."""
    found = []
    while len(found) < n:
        xs = [rnd.choice([1, -1]) * 10 ** rnd.uniform(-3, 1.3) for _ in range(arguments(gate))]
        if gate.name == "pow":
            xs[0] = abs(xs[0])
        if gate.problem is not None and gate.problem(*xs):
            continue
        out = gate.forward(REAL, *xs)
        if gate.kink is not None and gate.kink(out, *xs):
            continue
        found.append(xs)
    return found


def test_the_table_names_its_operators_and_functions():
    assert set(OPERATORS) == {"+", "-", "*", "/", "**", "neg"}
    assert {g.name for g in OPERATORS.values()} | set(FUNCTIONS) == set(COMPUTED)
    assert "input" not in FUNCTIONS and "const" not in FUNCTIONS
    assert not hasattr(GATES["add"], "precedence")


@pytest.mark.parametrize("name", COMPUTED)
def test_arity_matches_the_rules(name):
    gate = GATES[name]
    assert len(gate.pull) == (1 if gate.arity is None else gate.arity)
    xs = points(gate, random.Random(0), 1)[0]
    out = gate.forward(REAL, *xs)
    assert len(gate.backward(REAL, 1.0, out, *xs)) == len(xs)


@pytest.mark.parametrize("name", COMPUTED)
def test_partials_match_mpmath_derivatives_of_the_sympy_form(name):
    gate = GATES[name]
    mp.mp.dps = 40
    symbols = sp.symbols(f"a0:{arguments(gate)}", real=True)
    expr = gate.sympy(sp, *symbols)
    f = sp.lambdify(symbols, expr, modules="mpmath")
    for xs in points(gate, random.Random(name)):
        out = gate.forward(REAL, *xs)
        ours = gate.partials(REAL, out, *xs)
        for k, p in enumerate(ours):
            def along(t, k=k, xs=xs):
                return f(*[mp.mpf(x) if j != k else t for j, x in enumerate(xs)])

            truth = mp.diff(along, mp.mpf(xs[k]))
            assert math.isclose(p, float(truth), rel_tol=1e-13, abs_tol=1e-300), (xs, k, p)


@pytest.mark.parametrize("name", COMPUTED)
def test_backward_is_the_pull_times_the_partials(name):
    gate = GATES[name]
    for xs in points(gate, random.Random(name + "pull")):
        out = gate.forward(REAL, *xs)
        for g in (2.5, -1e-3):
            for c, p in zip(gate.backward(REAL, g, out, *xs), gate.partials(REAL, out, *xs)):
                assert math.isclose(c, g * p, rel_tol=1e-14)


@pytest.mark.parametrize("name", COMPUTED)
def test_the_numpy_rules_are_the_float_rules(name):
    gate = GATES[name]
    B = numpy_backend()
    rows = points(gate, random.Random(name + "np"))
    columns = [np.array(col) for col in zip(*rows)]
    with np.errstate(all="ignore"):
        outs = np.broadcast_to(gate.forward(B, *columns), (len(rows),))
        backs = gate.backward(B, np.full(len(rows), 0.75), outs, *columns)
    for r, xs in enumerate(rows):
        out = gate.forward(REAL, *xs)
        assert math.isclose(outs[r], out, rel_tol=1e-15)
        for c, p in zip(backs, gate.backward(REAL, 0.75, out, *xs)):
            assert math.isclose(np.broadcast_to(c, (len(rows),))[r], p, rel_tol=1e-15)


def test_kinks_are_noted_at_the_kink_only():
    notes = {
        "relu": ((0.0,), (0.5,)), "abs": ((0.0,), (-0.5,)), "max": ((1.0, 1.0, 0.0), (1.0, 2.0)),
        "min": ((0.0, 0.0), (0.0, 1.0)), "pow": ((0.0, 0.0), (0.0, 2.0)),
    }
    assert set(notes) == {n for n, g in GATES.items() if g.kink is not None}
    for name, (at, away) in notes.items():
        gate = GATES[name]
        assert gate.kink(gate.forward(REAL, *at), *at) is not None, name
        assert gate.kink(gate.forward(REAL, *away), *away) is None, name


@pytest.mark.parametrize("name, xs, k", [("mul", (3.0, 0.0), 0), ("relu", (-1.0,), 0),
                                         ("max", (1.0, 2.0), 0), ("div", (0.0, 2.0), 1),
                                         ("pow", (2.0, 0.0), 0), ("pow", (0.0, 2.0), 1),
                                         ("pow", (1.0, 2.0), 1), ("abs", (0.0,), 0)])
def test_a_flat_zero_passes_back_exactly_zero_whatever_the_pull(name, xs, k):
    gate = GATES[name]
    out = gate.forward(REAL, *xs)
    for g in (math.inf, -math.inf, math.nan, 0.0):
        assert gate.backward(REAL, g, out, *xs)[k] == 0.0, (name, g)


def test_a_zero_pull_passes_back_zero_at_an_infinite_slope():
    assert GATES["sqrt"].backward(REAL, 0.0, 0.0, 0.0) == (0.0,)
    assert GATES["pow"].backward(REAL, 0.0, 0.0, 0.0, 0.5)[0] == 0.0
    assert GATES["sqrt"].backward(REAL, 2.0, 0.0, 0.0) == (math.inf,)


def test_domain_problems_are_explained():
    assert "divisor is 0" in GATES["div"].problem(1.0, 0.0)
    assert "positive" in GATES["log"].problem(-3.0)
    assert "fractional power" in GATES["pow"].problem(-8.0, 1 / 3)
    assert GATES["pow"].problem(-8.0, 3.0) is None
    assert GATES["sqrt"].problem(0.0) is None


def test_nan_in_max_and_min_gives_nan_in_either_order():
    for name in ("max", "min"):
        gate = GATES[name]
        for xs in ((math.nan, 1.0), (1.0, math.nan)):
            out = gate.forward(REAL, *xs)
            assert out != out
            assert all(c != c for c in gate.backward(REAL, 1.0, out, *xs))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_table_computes_what_python_does(tmp_path):
    rnd = random.Random(3)
    cases = {name: points(GATES[name], rnd, 5) for name in COMPUTED}
    script = gates_js() + f"""
const cases = {json.dumps(cases)};
const res = {{}};
for (const [n, pts] of Object.entries(cases)) {{
  res[n] = pts.map((xs) => {{ const out = GATES[n].forward(...xs);
    return [out, GATES[n].backward(0.5, out, ...xs), GATES[n].partials(out, ...xs),
            GATES[n].kink(out, ...xs), GATES[n].problem(...xs), GATES[n].arity]; }});
}}
console.log(JSON.stringify(res));
"""
    path = tmp_path / "gates.js"
    path.write_text(script)
    res = json.loads(subprocess.run(["node", str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    for name, rows in res.items():
        gate = GATES[name]
        for xs, (out, back, parts, kink, problem, arity) in zip(cases[name], rows, strict=True):
            assert arity == gate.arity
            assert math.isclose(out, gate.forward(REAL, *xs), rel_tol=1e-14)
            for a, b in zip(back, gate.backward(REAL, 0.5, gate.forward(REAL, *xs), *xs),
                            strict=True):
                assert math.isclose(a, b, rel_tol=1e-14)
            assert len(parts) == len(xs) and kink is None and problem is None
