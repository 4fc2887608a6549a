"""Every sample reproduces the numbers the seed notebook printed (or a hand calculation).

Expected values are copied from the notebook's printed cells, or worked out by hand
from the backprop-ninja rules written next to each sample: never from circuitcli's output.
"""

from __future__ import annotations

import math

import pytest

import circuitcli
from circuitcli.io.bundled import sample_dir

REL = 1e-12


def sample(name: str) -> circuitcli.Circuit:
    path = sample_dir() / f"{name}.circuit"
    return circuitcli.parse(path.read_text(encoding="utf-8"), str(path))


def close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def test_multiply_gate_forward():
    # In [2]: forMulGate(-1.99, 2.99) -> -5.950100000000001
    r = sample("mul_gate").forward(x=-1.99, y=2.99)
    assert r.output == -5.950100000000001


def test_multiply_gate_gradient_is_the_other_input():
    # analytic gradient: x_gradient = y, y_gradient = x (In [68])
    r = sample("mul_gate").grad()
    assert r.input_grads == {"x": 3.0, "y": -2.0}


def test_chain_rule_example():
    # In [3]: x=-2, y=5, z=-4 -> f = -12; derivatives -4 -4 3
    r = sample("chain").grad()
    assert r.output == -12.0
    assert r.input_grads == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert r.value("q") == 3.0


def test_chain_rule_expression_form():
    r = circuitcli.parse("(x+y)*z").grad(x=-2, y=5, z=-4)
    assert (r.output, r.input_grads) == (-12.0, {"x": -4.0, "y": -4.0, "z": 3.0})


NEURON_GRADS = {
    "a": -0.10499358540350662,
    "b": 0.31498075621051985,
    "c": 0.10499358540350662,
    "x": 0.10499358540350662,
    "y": 0.20998717080701323,
}


@pytest.mark.parametrize("name", ["neuron", "ex5_neuron"])
def test_neuron(name):
    # In [14]/[20]: s = 0.8807970779778823 and the five gradients
    r = sample(name).grad()
    assert close(r.output, 0.8807970779778823)
    for k, v in NEURON_GRADS.items():
        assert close(r.input_grads[k], v), k


def test_neuron_intermediate_values():
    # the notebook's Unit prints: -1.0, 6.0, 5.0, 2.0 for ax, by, axpby, axpbypc
    r = sample("neuron").grad()
    assert [r.value(n) for n in ("ax", "by", "axpby", "axpbypc")] == [-1.0, 6.0, 5.0, 2.0]


def test_neuron_as_one_expression():
    r = circuitcli.parse("sigmoid(a*x + b*y + c)").grad(a=1, b=2, c=-3, x=-1, y=3)
    assert close(r.output, 0.8807970779778823)
    for k, v in NEURON_GRADS.items():
        assert close(r.input_grads[k], v), k


def test_neuron_after_one_notebook_step():
    # In [19]: after value += 0.01 * grad the neuron outputs 0.8825501816218984
    c = sample("neuron")
    r = c.grad()
    moved = {k: v + 0.01 * r.input_grads[k] for k, v in r.inputs.items()}
    assert close(c.forward(**moved).output, 0.8825501816218984)


def test_chain_after_one_notebook_step():
    # In [7]: -2.04 4.96 -3.97, then q = 2.92 and f = -11.5924
    c = sample("chain")
    r = c.grad()
    moved = {k: v + 0.01 * r.input_grads[k] for k, v in r.inputs.items()}
    assert [moved[k] for k in "xyz"] == [-2.04, 4.96, -3.97]
    assert close(c.forward(**moved).output, -11.5924)


# The ninja examples, with the gradients worked out by hand from the rules in each file.
# (a, b, c, d) = (3, -2, 5, 0.5) unless the file says otherwise.
@pytest.mark.parametrize(
    ("name", "output", "grads"),
    [
        ("ex1_mul", -6.0, {"a": -2.0, "b": 3.0}),  # da = b, db = a
        ("ex2_add", 1.0, {"a": 1.0, "b": 1.0}),
        ("ex3_add3", 6.0, {"a": 1.0, "b": 1.0, "c": 1.0}),
        ("ex4_mul_add", -1.0, {"a": -2.0, "b": 3.0, "c": 1.0}),  # the corrected rule
        ("ex6_square", 9.0, {"a": 6.0}),  # 2 * a
        ("ex7_sum_squares", 38.0, {"a": 6.0, "b": -4.0, "c": 10.0}),
        # x1 = -1, x2 = -0.5, x = 0.25; dx2 = 2*x2 = -1; dd = x1*dx2 = 1; dx1 = d*dx2 = -0.5
        ("ex8_square_chain", 0.25, {"a": 1.0, "b": -1.5, "c": -0.5, "d": 1.0}),
        ("ex8_reciprocal", 0.25, {"a": -1.0 / 16}),  # -1/(a*a) * dx
        # x1 = 1, x2 = 5.5, x3 = 1/5.5; dx1 = x3; dx2 = -1/x2**2 * x1
        ("ex8_division", 1 / 5.5, {"a": 1 / 5.5, "b": 1 / 5.5, "c": -1 / 30.25, "d": -1 / 30.25}),
        ("ex8_max", 3.0, {"a": 1.0, "b": 0.0}),
        ("ex8_relu", 1.5, {"a": 1.0}),
        # score a*x + b*y + c at a=1, b=-2, c=-1, x=1.2, y=0.7: 1.2 - 1.4 - 1
        ("svm", 1.2 - 1.4 - 1, {"a": 1.2, "b": 0.7, "c": 1.0, "x": 1.0, "y": -2.0}),
    ],
)
def test_ninja_examples(name, output, grads):
    r = sample(name).grad()
    assert close(r.output, output)
    assert set(r.input_grads) == set(grads)
    for k, v in grads.items():
        assert close(r.input_grads[k], v), (k, r.input_grads[k], v)


def test_relu_and_max_rules_on_the_other_side():
    # da = 1.0 * dx if a > 0 else 0.0
    assert sample("ex8_relu").grad(a=-1.5).input_grads == {"a": 0.0}
    assert sample("ex8_max").grad(a=-3).input_grads == {"a": 0.0, "b": 1.0}


def test_every_sample_runs_and_is_listed():
    from circuitcli.io.bundled import samples

    found = samples()
    assert len(found) >= 16
    for name, (_path, about) in found.items():
        assert about, f"{name} has no description line"
        circuit = sample(name)
        if set(circuit.inputs) - set(circuit.defaults):
            continue  # a model whose features come from data (circuit train)
        r = circuit.grad()
        assert math.isfinite(r.output)
