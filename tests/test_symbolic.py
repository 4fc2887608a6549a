"""sympy's exact derivatives from the gate graph: values at 40 digits, conventions, formulas.

Expected values are hand-derived (the chain rule written out) and evaluated with math.
"""

from __future__ import annotations

import math

import pytest

import circuitcli
from circuitcli.io.bundled import sample_dir
from circuitcli.methods import symbolic


def _grads(text: str, **values: float) -> tuple[circuitcli.Circuit, list]:
    c = circuitcli.parse(text)
    return c, symbolic.at_point(c, c.values_for(values)).grads


def test_chain_rule_values_for_the_notebook_example():
    c, g = _grads("(x+y)*z", x=-2, y=5, z=-4)
    assert [g[c.inputs[n]] for n in "xyz"] == [-4.0, -4.0, 3.0]


def test_neuron_matches_the_hand_derived_sigmoid_gradient():
    c = circuitcli.parse((sample_dir() / "neuron.circuit").read_text())
    g = symbolic.at_point(c, c.values_for()).grads
    s = 1 / (1 + math.exp(-2.0))  # q = a*x + b*y + c = 2 at the notebook's values
    ds = s * (1 - s)
    expected = {"a": ds * -1, "b": ds * 3, "c": ds, "x": ds * 1, "y": ds * 2}
    for name, want in expected.items():
        assert g[c.inputs[name]] == pytest.approx(want, rel=1e-15)
    # d s / d node for an intermediate node is the same pull, ds
    assert g[c.named["axpby"]] == pytest.approx(ds, rel=1e-15)


def test_shared_nodes_accumulate():
    c, g = _grads("q = x * x\nf = q * q + q", x=1.5)
    # f = x^4 + x^2: 4x^3 + 2x
    assert g[c.inputs["x"]] == pytest.approx(4 * 1.5**3 + 2 * 1.5, rel=1e-15)
    assert g[c.named["q"]] == pytest.approx(2 * 1.5**2 + 1, rel=1e-15)


@pytest.mark.parametrize("text, values, want", [
    ("relu(x)", {"x": 0.0}, 0.0),        # our subgradient at 0 is 0, and so is sympy's
    ("abs(x)", {"x": 0.0}, 0.0),
    ("max(x, y)", {"x": 1.0, "y": 1.0}, 0.5),  # a tie splits the pull
])
def test_kink_conventions_agree_with_the_gate_table(text, values, want):
    c, g = _grads(text, **values)
    assert g[c.inputs["x"]] == want


def test_undefined_derivatives_are_none():
    c, g = _grads("sqrt(x) + y", x=0.0, y=1.0)
    assert g[c.inputs["x"]] is None
    assert g[c.inputs["y"]] == 1.0


def test_local_derivatives_come_from_sympy_not_the_gate_rule():
    c = circuitcli.parse("x / y")
    exact = symbolic.at_point(c, {"x": 3.0, "y": 2.0})
    assert exact.local[c.output] == [0.5, -0.75]


def test_formulas_for_inputs_and_nodes():
    c = circuitcli.parse("q = x + y\nf = q * z")
    found = symbolic.formulas(c, [c.inputs["x"], c.inputs["z"], c.named["q"], c.output])
    assert found == {c.inputs["x"]: "z", c.inputs["z"]: "x + y", c.named["q"]: "z",
                     c.output: "1"}


def test_formulas_are_written_over_the_inputs_for_an_inner_node():
    c = circuitcli.parse("q = x * y\nf = sin(q)")
    assert symbolic.formulas(c, [c.named["q"]]) == {c.named["q"]: "cos(x*y)"}


def test_large_circuits_get_numbers_but_no_formulas():
    text = "\n".join(["s0 = x"] + [f"s{k} = s{k - 1} * 0.5 + x" for k in range(1, 200)])
    c = circuitcli.parse(text)
    assert symbolic.formulas(c, [c.inputs["x"]]) == {c.inputs["x"]: None}
    g = symbolic.at_point(c, {"x": 2.0}).grads[c.inputs["x"]]
    # s_k = 0.5 s_{k-1} + x, s_0 = x: ds_k/dx = 2 - 0.5^k
    assert g == pytest.approx(2 - 0.5**199, rel=1e-15)


def test_constants_enter_as_their_decimals():
    c, g = _grads("x * 0.1", x=3.0)
    assert g[c.inputs["x"]] == 0.1


def test_at_the_computed_values_the_derivative_follows_the_float_forward_pass():
    # sin(x * 1e10): the float product x * 1e10 is off by up to 1e10 * 0.3 * eps ~ 1e-6 from
    # the exact one, which moves cos by as much; at the computed values sympy follows the float
    c = circuitcli.parse("sin(x * 1e10)")
    x = 0.3
    vals = circuitcli.core.evaluate.forward(c, {"x": x})
    q = x * 1e10  # the float product, as the circuit computes it
    got = symbolic.at_point(c, {"x": x}, computed=vals).grads[c.inputs["x"]]
    assert got == pytest.approx(1e10 * math.cos(q), rel=1e-12)
    import mpmath

    with mpmath.workdps(50):
        exact = float(mpmath.mpf(10) ** 10 * mpmath.cos(mpmath.mpf(x) * mpmath.mpf(10) ** 10))
    assert symbolic.at_point(c, {"x": x}).grads[c.inputs["x"]] == pytest.approx(exact, rel=1e-12)


def test_scale_sums_the_sizes_of_the_terms_of_each_gradient():
    # d/dx (x*y - x*z) = y - z, made of terms of size |y| + |z|: the float sum's rounding scale
    c = circuitcli.parse("x*y - x*z")
    exact = symbolic.at_point(c, {"x": 2.0, "y": 1.5, "z": 1.25})
    assert exact.grads[c.inputs["x"]] == 0.25
    assert exact.scale[c.inputs["x"]] == pytest.approx(2.75, rel=1e-15)
    assert exact.scale[c.inputs["y"]] == 2.0 and exact.scale[c.output] == 1.0
