"""Properties of `circuit check` on random smooth circuits built from the gate table.

Complex-step has no cancellation, so it must match reverse mode to rounding
(1e-13, relative to max(|reference|, 1)); central differences within their own
error estimate. Every check passes, with and without sympy. Gates with
a kink rule are left out: the expressions are smooth by construction.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from planting import plant, scaled

import circuitcli
from circuitcli import CircuitError
from circuitcli.core.gates import FUNCTIONS, OPERATORS
from circuitcli.methods.check import SAFETY, check

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# read from the table: every smooth one-argument function and two-argument operator
UNARY = sorted(name for name, g in FUNCTIONS.items() if g.arity == 1 and g.kink is None)
# pow is smooth but at 0 ** 0, where its kink rule notes that d/dy is undefined
BINARY = sorted(op for op, g in OPERATORS.items()
                if g.arity == 2 and (g.kink is None or g.name == "pow"))


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
        # pole at pi/2 has an error far above any fixed 1e-7), where they call it reliable
        # (a gradient of 1e-16 beside values of 1 is below what any step can resolve)
        if crow.reliable:
            assert abs(crow.analytic - crow.numerical) <= SAFETY * crow.error + 1e-9 * abs(
                crow.numerical), (text, crow)
    assert exact.ok and central.ok


# -- every gate's mutated rule is blamed, and only it ----------------------------------------

# a circuit per gate that uses it with a non-zero pull and non-zero local derivatives
USES = {
    "add": "(x + y) * sin(z)", "sub": "(x - y) * sin(z)", "mul": "sin(x * y) + z",
    "div": "sin(x / y) * z", "neg": "exp(-x) * y + z", "pow": "sin(x ** y) + z",
    "sigmoid": "sigmoid(x * y) * z", "tanh": "tanh(x * y) + z", "relu": "relu(x * y) * z",
    "exp": "exp(x * y) * z", "log": "log(x + y) * z", "sqrt": "sqrt(x * y) + z",
    "abs": "abs(x - y) * z", "sin": "sin(x * y) * z", "cos": "cos(x * y) * z",
    "max": "max(x, y * z) * x", "min": "min(x, y * z) * x",
}


def _plant(monkeypatch, name: str, factor: float) -> None:
    """The gate's local derivatives times `factor`, everywhere the parser finds the gate."""
    plant(monkeypatch, scaled(name, factor))


def test_every_gate_with_a_rule_has_a_circuit_here():
    from circuitcli.core.gates import GATES

    assert set(USES) == {name for name, g in GATES.items() if g.arity != 0}


@pytest.mark.parametrize("name", sorted(USES))
@pytest.mark.parametrize("factor", [1.5, -1.0])
@pytest.mark.parametrize("use_sympy", [True, False])
def test_a_mutated_rule_is_blamed_on_its_gate_only(monkeypatch, name, factor, use_sympy):
    values = {"x": 0.7, "y": 1.3, "z": 0.9}
    circuit = circuitcli.parse(USES[name])
    clean = check(circuit, values, use_sympy=use_sympy)
    assert clean.ok and not clean.culprits
    _plant(monkeypatch, name, factor)
    result = check(circuitcli.parse(USES[name]), values, use_sympy=use_sympy)
    assert not result.ok
    assert {result.circuit.gates[i].name for i in result.culprits} == {name}


@pytest.mark.slow
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(EXPRESSIONS, POINTS, st.sampled_from(["central", "forward", "complex", "richardson"]))
def test_no_false_alarm_on_smooth_circuits_with_any_method(text, point, method):
    circuit = circuitcli.parse(text)
    values = {k: v for k, v in point.items() if k in circuit.inputs}
    try:
        with_sympy = check(circuit, values, method=method, formulas=False)
    except CircuitError:
        assume(False)
    live = circuit.live
    values_ok = all(v != 0 and abs(v) < 1e6 for i, v in enumerate(with_sympy.result.values)
                    if live[i])
    assume(values_ok and all(math.isfinite(r.analytic) for r in with_sympy.rows))
    assert with_sympy.ok, (text, [r for r in with_sympy.rows if not r.ok])
    assert check(circuit, values, method=method, use_sympy=False).ok, text
