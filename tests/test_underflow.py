"""Values that lose precision are warned about where they first do (issue 22).

The truth of every example is mpmath's at 50 digits: a warning must come exactly where the
double we computed differs from it because the value fell below the normal range, and
nowhere else (an exact 0 such as x - x, relu(-1) or log(1) is no loss).
"""

from __future__ import annotations

import random

import mpmath as mp
import pytest
from click.testing import CliRunner

import circuitcli
from circuitcli.cli import main
from circuitcli.core import evaluate as evaluate_module
from circuitcli.core.gates import GATES

mp.mp.dps = 50
TINY = 2.2250738585072014e-308


def underflow_warnings(text: str, **point: float) -> list[str]:
    result = circuitcli.parse(text).grad(**point)
    return [w for w in result.warnings if "underflows to" in w and w.startswith("value")]


def test_log_sigmoid_at_minus_740_is_off_and_says_so():
    ours = circuitcli.parse("log(sigmoid(x))").grad(x=-740.0).output
    truth = -mp.log(1 + mp.exp(740))
    assert abs(mp.mpf(ours) - truth) / abs(truth) > 1e-6  # the loss is real
    (warning,) = underflow_warnings("log(sigmoid(x))", x=-740.0)
    assert warning.startswith("value of sig1 = sigmoid(x) underflows to 4.2e-322")


def test_sqrt_of_a_square_that_underflows_says_where():
    ours = circuitcli.parse("sqrt(x*x)").grad(x=1e-200).output
    assert ours == 0.0 and mp.sqrt(mp.mpf(1e-200) ** 2) > 0
    assert underflow_warnings("sqrt(x*x)", x=1e-200) == [
        "value of mul1 = x * x underflows to 0 from non-zero arguments: every digit is lost, "
        "and everything computed from it"]


@pytest.mark.parametrize("text, point", [
    ("exp(x)", {"x": -800.0}), ("sigmoid(x)", {"x": -800.0}), ("x / y", {"x": 1e-200, "y": 1e200}),
    ("pow(x, 2)", {"x": 1e-170}), ("x * y", {"x": 1e-170, "y": 1e-170})])
def test_every_gate_that_can_underflow_to_zero_is_caught(text, point):
    c = circuitcli.parse(text)
    result = c.grad(**point)
    assert result.output == 0.0
    assert len(underflow_warnings(text, **point)) == 1


@pytest.mark.parametrize("text, point", [
    ("x - y", {"x": 1.0, "y": 1.0}), ("relu(x)", {"x": -1.0}), ("log(x)", {"x": 1.0}),
    ("x * y", {"x": 0.0, "y": 3.0}), ("max(x, y)", {"x": -1.0, "y": 0.0}),
    ("sigmoid(x)", {"x": -700.0}), ("x * y", {"x": 1e-150, "y": 1e-150}),
    ("exp(x)", {"x": -700.0})])
def test_exact_zeros_and_normal_values_are_not_warned(text, point):
    assert underflow_warnings(text, **point) == []


def test_the_loss_is_named_once_where_it_starts_not_downstream():
    # x*x is subnormal; (x*x)*2 and (x*x)*2 + 0 inherit it
    warnings = underflow_warnings("(x*x)*2 + 0", x=1e-160)
    assert len(warnings) == 1 and "mul1 = x * x" in warnings[0]


def test_grad_prints_the_warning_on_stderr_and_in_json():
    r = CliRunner().invoke(main, ["grad", "sqrt(x*x)", "x=1e-200", "--no-nodes"])
    assert "mul1 = x * x underflows to 0" in r.stderr
    r = CliRunner().invoke(main, ["grad", "sqrt(x*x)", "x=1e-200", "--json"])
    assert "underflows to 0" in r.stdout


def test_a_big_tape_finds_the_same_nodes_at_array_speed(monkeypatch):
    rnd = random.Random(5)
    lines = []
    for k in range(60):
        pick = rnd.choice(["x * y", "x - x", "relu(-x)", "exp(-800 * y)", "x * 3", "x * x * x"])
        lines.append(f"t{k} = {pick}")
    lines.append("out = " + " + ".join(f"t{k}" for k in range(60)))
    text = "\n".join(lines)
    point = {"x": 1e-110, "y": 1e-250}
    slow = underflow_warnings(text, **point)
    monkeypatch.setattr(evaluate_module, "_NUMPY_FROM", 0)
    fast = underflow_warnings(text, **point)
    assert slow == fast and slow
    # each warned node is one whose exact value is non-zero and below the normal range
    c = circuitcli.parse(text)
    vals = c.grad(**point).values
    for w in slow:
        if w.startswith("..."):
            continue
        name = w.split(" = ")[0].removeprefix("value of ")
        v = vals[c.named[name]]
        assert abs(v) < TINY


def test_every_gate_with_a_seam_picks_an_argument_or_zero():
    # _underflowed trusts this: relu, abs, max and min compute exactly
    rnd = random.Random(2)
    for gate in GATES.values():
        if gate.kink is None or not gate.seam:
            continue
        n = gate.arity or 3
        for _ in range(200):
            xs = [rnd.choice([-1, 1]) * 10 ** rnd.uniform(-300, 300) for _ in range(n)]
            out = gate.forward(evaluate_module.REAL, *xs)
            assert out == 0 or out in xs or -out in xs, gate.name


def zero_gradient_warnings(text: str, **point: float) -> list[str]:
    result = circuitcli.parse(text).grad(**point)
    return [w for w in result.warnings if w.startswith("gradient") and "underflows to 0" in w]


@pytest.mark.parametrize("text, point, wrt, truth", [
    # d/dx of x * 1e-200 * 1e-200 is 1e-400, by hand; sigmoid'(-800) = e**-800 / (1 + ...)**2
    ("x*1e-200*1e-200", {"x": 1e300}, "x", mp.mpf("1e-200") ** 2),
    ("sigmoid(x)", {"x": -800.0}, "x", mp.exp(-800) / (1 + mp.exp(-800)) ** 2),
    ("y * (x * 1e-300)", {"x": 1.0, "y": 1e-30}, "x", mp.mpf("1e-330")),
])
def test_a_gradient_that_underflows_to_zero_says_so(text, point, wrt, truth):
    result = circuitcli.parse(text).grad(**point)
    assert result.grad(wrt) == 0.0 and truth != 0  # the loss is real
    (warning,) = zero_gradient_warnings(text, **point)
    assert warning.startswith(f"gradient of {wrt} = input underflows to 0")


@pytest.mark.parametrize("text, point", [
    ("relu(x) * y", {"x": -1.0, "y": 2.0}),  # a flat piece: exactly 0
    ("x * y", {"x": 0.0, "y": 3.0}),  # d/dy = x = 0 exactly
    ("x - x + y", {"x": 1.0, "y": 2.0}),  # 1 - 1: exactly 0
    ("exp(x)", {"x": -800.0}),  # the value underflowed (warned there); the gradient inherits
    ("max(x, y) * 1e-200", {"x": 1.0, "y": 2.0}),  # max passes its pull or nothing
])
def test_an_exact_zero_gradient_is_not_an_underflow(text, point):
    assert zero_gradient_warnings(text, **point) == []


def test_a_zero_gradient_underflow_is_found_at_array_speed_on_big_tapes(monkeypatch):
    monkeypatch.setattr(evaluate_module, "_NUMPY_FROM", 0)
    assert len(zero_gradient_warnings("x*1e-200*1e-200", x=1e300)) == 1
    assert zero_gradient_warnings("relu(x) * y", x=-1.0, y=2.0) == []
