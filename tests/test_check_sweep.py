"""`check --sweep-h`: each method's error against h (issue 22). The errors are checked
against closed forms (central differences of exp at 1 are off by sinh(h)/h - 1, forward ones
by (e^h - 1)/h - 1), not against our own output."""

from __future__ import annotations

import json
import math

import mpmath as mp
import pytest
from click.testing import CliRunner

from circuitcli.cli import main
from circuitcli.methods.numeric import METHODS

mp.mp.dps = 50


@pytest.fixture(scope="module")
def doc() -> dict:
    r = CliRunner().invoke(main, ["check", "exp(x)", "x=1", "--sweep-h", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_the_grid_spans_1e_20_to_1_at_four_steps_a_decade(doc):
    steps = doc["steps"]
    assert steps[0] == pytest.approx(1e-20) and steps[-1] == pytest.approx(1.0)
    assert len(steps) == 81 and doc["per_decade"] == 4


def test_the_truncation_arm_is_the_closed_form(doc):
    row = doc["inputs"][0]
    assert row["reference_from"] == "sympy" and row["error"] == "relative"
    central, forward = row["methods"]["central"], row["methods"]["forward"]
    for h, ec, ef in zip(doc["steps"], central["errors"], forward["errors"]):
        if 1e-3 <= h <= 0.5:  # truncation dominates by orders of magnitude here
            hh = mp.mpf(h)
            assert ec == pytest.approx(float(mp.sinh(hh) / hh - 1), rel=1e-3)
            assert ef == pytest.approx(float(mp.expm1(hh) / hh - 1), rel=1e-3)


def test_the_v_has_the_slopes_of_the_orders(doc):
    methods = doc["inputs"][0]["methods"]
    for name in ("central", "forward", "richardson"):
        m = methods[name]
        assert m["right_slope"] == pytest.approx(METHODS[name].order, abs=0.3), name
        assert m["left_slope"] == pytest.approx(-1.0, abs=0.4), name
        # the bottom of the V is where truncation and rounding meet: h* ~ eps^(1/(order+1))
        assert abs(math.log10(m["best_h"] / METHODS[name].best ** (1 / METHODS[name].order))) \
            <= 1.5, name
        assert m["default_sits"] == "at the bottom"
        assert m["default_error"] < 100 * METHODS[name].best


def test_complex_step_has_no_rounding_arm(doc):
    m = doc["inputs"][0]["methods"]["complex"]
    small = [e for h, e in zip(doc["steps"], m["errors"]) if h <= 1e-8]
    assert max(small) <= 4 * 2.0**-52  # as good at 1e-20 as at 1e-8
    assert m["left_slope"] is None or abs(m["left_slope"]) < 0.3


def test_the_plot_has_honest_axes_and_marks_the_default_and_your_h():
    r = CliRunner().invoke(main, ["check", "exp(x)", "x=1", "--sweep-h", "--h", "0.01"],
                           env={"COLUMNS": "100"})
    assert r.exit_code == 0
    out = r.stdout
    for tick in ("1e-20", "1e-10", "1e-5", "1e-11 ┤", "1e-1 ┤", "     0 │"):
        assert tick in out, tick
    assert "┊" in out and "┆" in out  # the default steps, and --h
    assert "c central, order 2" in out and "r richardson, order 4" in out
    # decades are one row each: the rows between 1e-1 and 1e-11 are exactly ten apart
    lines = out.splitlines()
    top = next(k for k, line in enumerate(lines) if line.startswith("  1e-1 ┤"))
    assert lines[top + 10].startswith(" 1e-11 ┤")


def test_without_sympy_the_reference_is_complex_step_and_says_so():
    r = CliRunner().invoke(main, ["check", "sin(x)*x", "x=2", "--sweep-h", "--json",
                                  "--no-sympy"])
    row = json.loads(r.stdout)["inputs"][0]
    assert row["reference_from"] == "complex-step"
    assert row["reference"] == pytest.approx(float(mp.sin(2) + 2 * mp.cos(2)), rel=1e-14)


def test_a_constant_circuit_has_nothing_to_sweep():
    r = CliRunner().invoke(main, ["check", "3", "--sweep-h"])
    assert r.exit_code == 0 and "nothing to sweep" in r.stdout
