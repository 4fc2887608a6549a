"""Numerical derivatives: the notebook's numbers exactly, each method's accuracy, kinks, batches.

Expected values come from the notebook, from hand-derived formulas evaluated with
math, or from re-implementing the difference quotient in the test.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

import circuitcli
from circuitcli.core.evaluate import forward
from circuitcli.io.bundled import sample_dir
from circuitcli.methods import numeric
from circuitcli.methods.numeric import (
    METHODS,
    complex_backend,
    derivatives,
    local_partials,
    magnitude,
    tolerances,
)


def _at(text: str, **values: float):
    c = circuitcli.parse(text)
    vals = forward(c, c.values_for(values))
    return c, vals


def _inputs(c) -> list[int]:
    return list(c.inputs.values())


def test_notebook_forward_differences_are_exact():
    # notebook In [8]: h = 0.0001, (f(x+h) - f(x)) / h for f = (x+y)*z at -2, 5, -4
    c, vals = _at("(x+y)*z", x=-2, y=5, z=-4)
    got = [d.value for d in derivatives(c, vals, _inputs(c), "forward", 1e-4)]
    assert got == [-3.9999999999906777, -3.9999999999906777, 3.000000000010772]


def test_notebook_neuron_forward_differences_are_exact():
    # notebook In [23]: the neuron's numerical gradient with h = 0.0001
    c = circuitcli.parse((sample_dir() / "neuron.circuit").read_text())
    vals = forward(c, c.values_for())
    got = [d.value for d in derivatives(c, vals, _inputs(c), "forward", 1e-4)]
    assert got == [-0.10499758359205913, 0.3149447748351797, 0.10498958734506125,
                   0.10498958734506125, 0.2099711788272618]


def _sin_exp(x: float, y: float) -> float:
    return math.sin(x) * math.exp(y)


@pytest.mark.parametrize("method, tol", [("central", 1e-9), ("forward", 1e-7),
                                         ("richardson", 1e-11), ("complex", 1e-15)])
def test_each_method_is_as_accurate_as_its_order(method, tol):
    c, vals = _at("sin(x) * exp(y)", x=0.7, y=-0.3)
    exact = [math.cos(0.7) * math.exp(-0.3), math.sin(0.7) * math.exp(-0.3)]
    got = [d.value for d in derivatives(c, vals, _inputs(c), method)]
    for g, e in zip(got, exact):
        assert abs(g - e) <= tol * abs(e), (method, g, e)


def test_central_default_step_matches_a_hand_written_quotient():
    c, vals = _at("sin(x) * exp(y)", x=3.0, y=0.5)
    h = (2.220446049250313e-16) ** (1 / 3) * 3.0  # cbrt(eps) * max(1, |x|)
    by_hand = (_sin_exp(3.0 + h, 0.5) - _sin_exp(3.0 - h, 0.5)) / (2 * h)
    d = derivatives(c, vals, _inputs(c), "central")[0]
    assert d.step == h
    assert d.value == pytest.approx(by_hand, rel=1e-12)


def test_richardson_combines_two_central_differences():
    c, vals = _at("sin(x) * exp(y)", x=0.25, y=0.0)
    h = 1e-2

    def central(step):
        return (_sin_exp(0.25 + step, 0.0) - _sin_exp(0.25 - step, 0.0)) / (2 * step)

    by_hand = (4 * central(h / 2) - central(h)) / 3
    d = derivatives(c, vals, _inputs(c), "richardson", h)[0]
    assert d.value == pytest.approx(by_hand, rel=1e-12)
    # O(h^4): far better than central at the same h
    assert abs(d.value - math.cos(0.25)) < 1e-9 < abs(central(h) - math.cos(0.25))


def test_complex_step_has_no_cancellation_even_with_a_tiny_step():
    c, vals = _at("exp(x) / (sqrt(x) + 1)", x=1.3)
    s = math.sqrt(1.3)
    exact = math.exp(1.3) / (s + 1) - math.exp(1.3) / (s + 1) ** 2 / (2 * s)
    d = derivatives(c, vals, _inputs(c), "complex")[0]
    assert d.step == pytest.approx(1e-20 * 1.3, rel=1e-15)  # relative to x
    assert d.value == pytest.approx(exact, rel=1e-15)


def test_complex_backend_takes_abs_by_the_real_part():
    B = complex_backend()
    z = np.array([-2 + 1e-20j, 3 + 1e-20j])
    assert np.array_equal(B.abs(z), np.array([2 - 1e-20j, 3 + 1e-20j]))
    c, vals = _at("abs(x) * x + relu(x) + max(x, 2*x)", x=-1.5)
    d = derivatives(c, vals, _inputs(c), "complex")[0]
    # d/dx (-x * x) + 0 + d/dx x  (max picks x when x < 0) = -2x + 1
    assert d.value == 4.0 and not d.crossed


def test_intermediate_nodes_are_perturbed_in_place():
    # d f / d q for f = q * z with q = x + y is z; perturbing q leaves x and y alone
    c, vals = _at("q = x + y\nf = q * z", x=-2, y=5, z=-4)
    q = c.named["q"]
    d = derivatives(c, vals, [q], "central")[0]
    assert d.value == pytest.approx(-4.0, rel=1e-12)


@pytest.mark.parametrize("text, values, left, right", [
    ("relu(x)", {"x": 0.0}, 0.0, 1.0),
    ("abs(x)", {"x": 0.0}, -1.0, 1.0),
    ("max(x, y)", {"x": 1.0, "y": 1.0}, 0.0, 1.0),
])
def test_kinks_are_seen_with_one_sided_derivatives(text, values, left, right):
    c, vals = _at(text, **values)
    for method in METHODS:
        d = derivatives(c, vals, _inputs(c)[:1], method)[0]
        assert d.crossed, method
        assert d.left == pytest.approx(left, abs=1e-9)
        assert d.right == pytest.approx(right, abs=1e-9)


def test_a_kink_more_than_h_away_is_not_a_kink():
    c, vals = _at("relu(x - 0.001)", x=0.0)
    d = derivatives(c, vals, _inputs(c), "central")[0]
    assert not d.crossed and d.value == 0.0
    d = derivatives(c, vals, _inputs(c), "central", 0.01)[0]
    # with a step of 0.01 the kink at 0.001 is within reach: the estimate spans two pieces
    # (no evidence), but the point is not at the kink (the one-sided rule is not for it)
    assert d.near_kink and not d.crossed and d.error == math.inf


def test_a_kink_within_the_default_step_is_stepped_around():
    # sqrt(relu(x)) at 1e-8: h = 6e-6 reaches relu's kink at 0; a smaller step does not.
    # Truth: d/dx sqrt(x) = 1 / (2 sqrt(1e-8)) = 5000 (mpmath below)
    c, vals = _at("sqrt(relu(x))", x=1e-8)
    d = derivatives(c, vals, _inputs(c), "central")[0]
    truth = 1 / (2 * mp.sqrt(mp.mpf(1e-8)))
    assert not d.near_kink and not d.crossed
    assert abs(d.value - truth) <= 10 * d.error and d.error < 1e-6 * truth


def test_max_of_a_node_with_itself_is_not_a_kink():
    c, vals = _at("max(x, x) * 3", x=2.0)
    d = derivatives(c, vals, _inputs(c), "central")[0]
    assert not d.crossed and d.value == pytest.approx(3.0)


def test_outside_the_domain_a_one_sided_difference_is_used_and_named():
    c, vals = _at("sqrt(x)", x=1e-6)  # a step of 6e-6 steps below 0
    d = derivatives(c, vals, _inputs(c), "central", 6e-6)[0]
    assert d.how.startswith("forward")
    h = d.step
    assert d.value == (math.sqrt(1e-6 + h) - math.sqrt(1e-6)) / h
    assert d.error == math.inf  # one-sided, with nothing to measure its error by


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("x", [1e-6, 1e-300])
def test_the_default_step_shrinks_instead_of_crossing_a_domain_edge(method, x):
    c, vals = _at("sqrt(x)", x=x)
    d = derivatives(c, vals, _inputs(c), method)[0]
    exact = 0.5 / math.sqrt(x)
    assert d.how == method and d.step < x
    assert d.value == pytest.approx(exact, rel=1e-3)
    # the error estimate is small and covers the actual error
    assert abs(d.value - exact) <= 10 * d.error <= 1e-2 * exact


def test_complex_step_keeps_the_perturbation_for_a_negative_base():
    # numpy's (-1.5 + ih) ** 100 goes through log, whose angle pi - h/1.5 rounds to pi
    c, vals = _at("x ** 100", x=-1.5)
    d = derivatives(c, vals, _inputs(c), "complex")[0]
    assert d.value == pytest.approx(100 * (-1.5) ** 99, rel=1e-14)
    c, vals = _at("x ** 3", x=-2.0)
    assert derivatives(c, vals, _inputs(c), "complex")[0].value == pytest.approx(12.0, rel=1e-15)


@pytest.mark.parametrize("method, h, order", [
    ("forward", 1e-3, 1), ("central", 1e-2, 2), ("richardson", 5e-2, 4)])
def test_the_error_estimate_follows_the_actual_error(method, h, order):
    # exp at 1 with a large user step: the estimate is within a factor of a few of the truth
    c, vals = _at("exp(x)", x=1.0)
    d = derivatives(c, vals, _inputs(c), method, h)[0]
    actual = abs(d.value - math.e)
    if method == "richardson":  # the table's last difference bounds D(h/2)'s error, not R's
        assert actual <= d.error <= 1e-3
    else:
        assert actual / 5 <= d.error <= 5 * actual


def test_rounding_is_estimated_from_the_circuits_own_magnitudes():
    # (x + 1e8) - 1e8: each evaluation is rounded to ulp(1e8) ~ 1.5e-8, so a step of 1e-6
    # leaves an error of about 1e-2; the estimate says so, from the values and gradients
    c, vals = _at("(x + 1e8) - 1e8", x=0.3)
    d = derivatives(c, vals, _inputs(c), "central", 1e-6,
                    scale=magnitude(c, vals, [1.0] * len(vals)))[0]
    assert abs(d.value - 1.0) <= d.error and d.rounding > d.truncation
    assert 1e-3 < d.error < 1.0


def test_chunked_batches_give_the_same_numbers(monkeypatch):
    text = "\n".join(["s0 = x0"] + [f"s{k} = sin(s{k - 1}) * x{k % 7} + x{(k + 3) % 7}"
                                    for k in range(1, 60)])
    c = circuitcli.parse(text)
    vals = forward(c, {f"x{k}": 0.1 * k + 0.05 for k in range(7)})
    targets = list(range(len(c)))
    whole = derivatives(c, vals, targets, "central")
    monkeypatch.setattr(numeric, "_BUDGET", 16)
    chunked = derivatives(c, vals, targets, "central")
    assert [d.value for d in whole] == [d.value for d in chunked]


def test_local_partials_check_one_gate_at_a_time():
    c, vals = _at("x * y + x / y", x=3.0, y=2.0)
    found = local_partials(c, vals, [i for i, a in enumerate(c.args) if a], "central")
    mul, div = [i for i, g in enumerate(c.gates) if g.name in ("mul", "div")]
    assert [p for p, _, _ in found[mul]] == pytest.approx([2.0, 3.0], rel=1e-9)
    assert [p for p, _, _ in found[div]] == pytest.approx([0.5, -0.75], rel=1e-9)
    # each with its own error estimate, small for these smooth gates
    assert all(0 <= e < 1e-8 for p in found.values() for _, _, e in p)


def test_tolerances_default_per_method_and_loosen_with_a_large_step():
    assert tolerances("central") == (1e-6, 1e-8)
    assert tolerances("complex") == (1e-10, 1e-12)
    assert tolerances("forward", 1e-4) == (pytest.approx(1e-3), pytest.approx(1e-3))
    assert tolerances("central", 1e-9) == (1e-6, 1e-8)  # a small step never tightens them
