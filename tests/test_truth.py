"""Numerical truth: grad against an independent 50-digit reference (tests/reference.py).

Each defect of issue 11 has its reproducer here, with the expected number from mpmath
at 50 digits or a closed form; then random circuits over every gate, half at stress
points, must give no wrong answer, no nan where the truth is finite, no internal error.
"""

from __future__ import annotations

import json
import math
import random

import mpmath as mp
import pytest
import reference as R
from click.testing import CliRunner

import circuitcli
from circuitcli.cli import main

mp.mp.dps = 50


def ulps(ours: float, truth) -> float:
    """How many units in the last place ours is from the truth."""
    truth = mp.mpf(truth)
    return float(abs(mp.mpf(ours) - truth) / (abs(truth) * 2.0**-52))


def grad_json(*args: str) -> tuple[int, dict, str]:
    r = CliRunner().invoke(main, ["grad", *args, "--json", "--no-nodes"])
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


# ---- 1. saturated sigmoid and tanh --------------------------------------------------------------


@pytest.mark.parametrize("x", [0.5, 20.0, 30.0, 40.0, 700.0, -20.0, -40.0, -700.0])
def test_sigmoid_slope_to_the_last_bits_in_saturation(x):
    e = mp.exp(-abs(mp.mpf(x)))
    truth = e / (1 + e) ** 2
    assert ulps(circuitcli.parse("sigmoid(x)").grad(x=x).input_grads["x"], truth) <= 4


@pytest.mark.parametrize("x", [0.5, 20.0, 30.0, 40.0, 300.0, -20.0, -300.0])
def test_tanh_slope_to_the_last_bits_in_saturation(x):
    truth = 1 / mp.cosh(mp.mpf(x)) ** 2
    assert ulps(circuitcli.parse("tanh(x)").grad(x=x).input_grads["x"], truth) <= 4


def test_sigmoid_slope_past_the_double_range_is_zero_and_the_product_is_kept():
    assert circuitcli.parse("sigmoid(x)").grad(x=-800.0).input_grads["x"] == 0.0
    # e**-800 underflows, but the pull 1e300 brings the product back into range
    g = circuitcli.parse("sigmoid(x) * 1e300").grad(x=800.0).input_grads["x"]
    e = mp.exp(-800)
    assert ulps(g, mp.mpf(1e300) * e / (1 + e) ** 2) <= 4


# ---- 2. underflow inside a local derivative -----------------------------------------------------


def test_division_rule_stays_in_range():
    # log(1 / exp(x)) = -x: the rule -x / y**2 underflowed at y = e**400
    assert circuitcli.parse("log(1/exp(x))").grad(x=400.0).input_grads["x"] == -1.0


def test_a_gradient_that_underflows_is_warned_about():
    # d/dx sigmoid(x) at 720 is about 2.7e-313: subnormal, digits lost
    result = circuitcli.parse("sigmoid(x)").grad(x=720.0)
    assert any("underflows" in w for w in result.warnings)


# ---- 3. 0 * inf in the backward sweep -----------------------------------------------------------


@pytest.mark.parametrize("text, point", [("y ^ relu(y)", {"y": -1.5}),
                                         ("sqrt(-relu(x-1))", {"x": 0.5}),
                                         ("sqrt(x * y)", {"x": 1.0, "y": 0.0})])
def test_a_flat_zero_passes_back_zero_whatever_the_pull(text, point):
    grads = circuitcli.parse(text).grad(**point).input_grads
    first = next(iter(point))
    assert grads[first] == 0.0  # the function is constant in it near the point


# ---- 4. nan in max and min ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["max(exp(x)-exp(x), 1)", "max(1, exp(x)-exp(x))",
                                  "min(exp(x)-exp(x), 1)", "min(1, exp(x)-exp(x))"])
def test_nan_in_max_and_min_gives_nan_with_a_warning_in_either_order(text):
    code, doc, err = grad_json(text, "x=1000")
    assert code == 0, err
    assert doc["output"]["value"] is None and doc["inputs"]["x"]["grad"] is None
    assert any("is inf" in w for w in doc["warnings"])


# ---- 5. overflow in a constant part -------------------------------------------------------------


def test_overflow_in_a_constant_part_is_warned_where_it_appears():
    code, doc, _ = grad_json("exp(1000)+x", "x=1")
    assert code == 0 and doc["output"]["value"] is None
    assert doc["warnings"][0] == "value of exp1 = exp(1000) is inf"
    code, doc, _ = grad_json("2^2^2^2^2^2")
    assert any(w.endswith("is inf") for w in doc["warnings"])


# ---- 6. pow at 0 ** 0 ---------------------------------------------------------------------------


def test_pow_at_zero_to_the_zero_is_a_kink():
    for spelling in ("pow(x, y)", "x ** y", "x ^ y"):
        result = circuitcli.parse(spelling).grad(x=0.0, y=0.0)
        assert "d/dy is undefined" in result.kinks[result.circuit.output], spelling


# ---- the judge itself can fail ------------------------------------------------------------------


def test_the_judge_calls_the_old_answers_wrong():
    s = 1 / (1 + math.exp(-30.0))  # the old rule out * (1 - out), in floats
    cases = [("sigmoid(x)", {"x": 40.0}, 0.0), ("tanh(x)", {"x": 20.0}, 0.0),
             ("log(1/exp(x))", {"x": 400.0}, 0.0), ("sigmoid(x)", {"x": 30.0}, s * (1 - s))]
    for text, point, old in cases:
        c = circuitcli.parse(text)
        assert R.judge(c, point, {"x": old}).kind == "wrong", text
        assert R.judge(c, point, c.grad(**point).input_grads).kind == "ok", text
    c = circuitcli.parse("y ^ relu(y)")
    assert R.judge(c, {"y": -1.5}, {"y": math.nan}).kind == "nan-where-finite"


def test_a_sum_of_pulls_that_cancels_counts_in_the_condition():
    # found by bench_truth (stress, seed 3): z's gradient is 0.25·slope (the add path, by
    # hand -0.148...) plus g/z - g·1/z from z / z, about 9.4e8 each way. The float sum keeps
    # only their ulp (1.2e-7) of the small pull, whatever the rules; the judge must see that
    # as conditioning, not call it wrong, and still call a wrong rule wrong there.
    text = "(cos(max(x, z / z, cos(700)))) ** (abs(y + z) * y)"
    point = {"x": -1.0, "z": 1e-10, "y": 0.25}
    c = circuitcli.parse(text)
    ours = c.grad(**point).input_grads
    mp.mp.dps = 50
    b, e = mp.cos(1), abs(mp.mpf(0.25) + mp.mpf(1e-10)) * mp.mpf(0.25)
    truth_z = b**e * mp.log(b) * mp.mpf(0.25)  # d/dz: only the exponent's z counts
    assert abs(mp.mpf(ours["z"]) - truth_z) > 1e-9  # the float sum really lost digits
    assert abs(mp.mpf(ours["z"]) - truth_z) < 1e-6  # but no more than the terms' ulps
    assert R.judge(c, point, ours).kind == "ill-conditioned"
    assert R.judge(c, point, {**ours, "y": ours["y"] * 1.5}).kind == "wrong"
    # with one pull (no z / z) the same point is well-conditioned and judged ok
    plain = circuitcli.parse("(cos(max(x, 1, cos(700)))) ** (abs(y + z) * y)")
    assert R.classify(plain, point).kind == "ok"


def test_a_point_fifty_digits_cannot_resolve_is_not_confirmed():
    # found by bench_verdicts --stress (seed 12): base = (y / y) / exp(y) at y = 1e-300 is
    # 1 at 50 digits, so the 50-digit d/dz of base ** z was 0 and our 0 was "confirmed".
    # The truth (by hand, 700 digits): base ** z · log(base) = -y · e^(-y·z), about -1e-300,
    # and no double base can hold 1 - 1e-300: ill-conditioned, not a confirmed answer.
    c = circuitcli.parse("((y / y) / exp(y)) ** z")
    point = {"y": 1e-300, "z": 709.0}
    with mp.workdps(700):
        y = mp.mpf(1e-300)
        truth = -y * mp.exp(-y * 709)
        assert mp.mpf(-1.0000001e-300) < truth < mp.mpf(-0.9999999e-300)
    assert c.grad(**point).input_grads["z"] == 0.0
    verdict = R.classify(c, point)
    assert (verdict.kind, verdict.detail) == ("ill-conditioned", "50 digits cannot resolve it")
    # one that 50 digits do resolve is still judged on its merits
    assert R.classify(circuitcli.parse("(y / exp(y)) ** z"), {"y": 0.5, "z": 3.0}).kind == "ok"


def test_the_generator_draws_every_gate():
    assert set(R.FORMS) == {n for n, g in R.GATES.items() if g.arity != 0}


# ---- random circuits ----------------------------------------------------------------------------


def _run(n: int, seed: int) -> dict[str, list]:
    rnd = random.Random(seed)
    found: dict[str, list] = {}
    for k in range(n):
        c, point = R.random_case(rnd, stress=k % 2 == 1)
        verdict = R.classify(c, point)
        found.setdefault(verdict.kind, []).append((c.text, point, verdict.detail))
    return found


def _assert_truthful(found: dict[str, list]) -> None:
    for kind in ("wrong", "nan-where-finite", "error"):
        assert not found.get(kind), (kind, found[kind][:5])
    # most answers must be judged (not ill-conditioned, undefined or out of range): a
    # classifier that called everything lenient would pass the lines above vacuously
    total = sum(map(len, found.values()))
    assert len(found.get("ok", [])) >= 0.6 * total, {k: len(v) for k, v in found.items()}


def test_random_circuits_are_right_wherever_the_truth_is():
    _assert_truthful(_run(300, seed=11))


@pytest.mark.slow
def test_many_random_circuits_are_right_wherever_the_truth_is():
    _assert_truthful(_run(2000, seed=2026))
