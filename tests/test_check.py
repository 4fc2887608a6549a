"""`circuit check` through click: verdicts, exit codes, JSON, kinks, a wrong rule found.

Expected numbers come from the notebook or are derived by hand; a wrong derivative
is planted by replacing one gate's rule in the gate table.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from click.testing import CliRunner
from planting import plant, scaled, wrong

from circuitcli.cli import main
from circuitcli.core.parser import parse
from circuitcli.io.bundled import sample_dir

ROW_KEYS = {"name", "analytic", "numerical", "symbolic", "formula", "abs_err", "rel_err", "ok",
            "kink"}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def doc_of(*args: str) -> tuple[int, dict]:
    r = run(*args, "--json")
    return r.exit_code, json.loads(r.stdout)


def rows_by_name(doc: dict) -> dict[str, dict]:
    return {row["name"]: row for row in doc["rows"]}


# -- the table ----------------------------------------------------------------------------


def test_table_has_a_row_per_input_with_a_verdict():
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "(x+y)*z" in lines[0] and "out = -12" in lines[0]
    cells = {line.split("│")[0].strip(): [c.strip() for c in line.split("│")]
             for line in lines if line.count("│") >= 6}
    assert set(cells) == {"x", "y", "z"}
    # analytic, central, rel err, sympy, rel err, verdict, formula
    assert cells["x"][1] == "-4" and cells["x"][2] == "-4" and cells["x"][4] == "-4"
    assert cells["z"][1] == "3" and cells["z"][6] == "✓" and cells["z"][7] == "x + y"
    assert cells["x"][7] == "z"
    assert "✓ 3 of 3 inputs agree" in r.output


def test_notebook_forward_numbers_in_the_table_and_json():
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--method", "forward", "--h", "0.0001",
            "--digits", "17")
    assert r.exit_code == 0, r.output
    cells = [line.split("│") for line in r.output.splitlines() if line.count("│") >= 6]
    # the table rounds to --digits; at 17 digits it is the notebook's float exactly
    assert [float(c[2]) for c in cells] == [-3.9999999999906777, -3.9999999999906777,
                                            3.000000000010772]
    code, doc = doc_of("check", "neuron.circuit", "--method", "forward", "--h", "0.0001")
    assert code == 0
    assert [row["numerical"] for row in doc["rows"]] == [
        -0.10499758359205913, 0.3149447748351797, 0.10498958734506125, 0.10498958734506125,
        0.2099711788272618]
    # the notebook's analytic gradient (In [20]); its s * (1 - s) loses the last digits, which
    # the stable rule keeps (mpmath: 0.104993585403506517..., 0.314980756210519552...)
    assert [row["analytic"] for row in doc["rows"]] == pytest.approx([
        -0.10499358540350662, 0.31498075621051985, 0.10499358540350662, 0.10499358540350662,
        0.20998717080701323], rel=2e-15)


def test_json_document_schema():
    code, doc = doc_of("check", "sin(x) * y", "x=0.5", "y=2")
    assert code == 0
    assert {"ok", "method", "rtol", "atol", "rows"} <= set(doc)
    assert doc["ok"] is True and doc["method"] == "central"
    # no --rtol/--atol: judged by the method's own error estimate, not a fixed tolerance
    assert doc["rtol"] is None and doc["atol"] is None
    assert doc["judged_by"] == "error estimate"
    for row in doc["rows"]:
        assert set(row) >= ROW_KEYS
        assert isinstance(row["rel_err"], float) and row["rel_err"] < 1e-8
        # central's error is about h^2/6 |f'''| with h ~ 6e-6: the estimate is small
        assert row["reliable"] is True and 0 < row["error_estimate"] < 1e-8
    x = rows_by_name(doc)["x"]
    assert x["formula"] == "y*cos(x)"
    assert x["symbolic"] == pytest.approx(2 * 0.8775825618903728, rel=1e-15)  # 2 cos(0.5)
    assert x["abs_err"] == abs(x["analytic"] - x["numerical"])


def test_relative_error_tells_a_tight_method_from_a_loose_one():
    _, central = doc_of("check", "exp(x)", "x=1", "--method", "central")
    _, forward = doc_of("check", "exp(x)", "x=1", "--method", "forward", "--h", "0.001")
    assert central["rows"][0]["rel_err"] < 1e-9
    assert 1e-4 < forward["rows"][0]["rel_err"] < 1e-3  # about h/2 for exp


def test_tolerances_are_applied_and_reported():
    code, doc = doc_of("check", "exp(x)", "x=1", "--method", "forward", "--h", "0.001",
                       "--rtol", "1e-6", "--atol", "0")
    assert code == 1 and doc["ok"] is False and doc["rtol"] == 1e-6 and doc["atol"] == 0
    code, _ = doc_of("check", "exp(x)", "x=1", "--method", "forward", "--h", "0.001")
    assert code == 0  # the default tolerance follows the step given


def _sample_values(name: str) -> list[str]:
    """NAME=VALUE for the inputs a sample leaves open, from a seeded generator."""
    c = parse((sample_dir() / name).read_text(), name)
    rng = random.Random(name)
    return [f"{k}={rng.uniform(-1, 1)!r}" for k in c.inputs if k not in c.defaults]


SAMPLES = sorted(p.name for p in sample_dir().glob("*.circuit"))


@pytest.mark.parametrize("method", ["central", "forward", "complex", "richardson"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_passes_with_every_method(sample, method):
    code, doc = doc_of("check", sample, *_sample_values(sample), "--method", method,
                       "--no-formula")
    bad = [row for row in doc["rows"] if not row["ok"]]
    assert code == 0 and not bad, bad


def test_nodes_gives_a_row_for_every_node():
    code, doc = doc_of("check", "neuron.circuit", "--nodes")
    assert code == 0
    names = [row["name"] for row in doc["rows"]]
    assert names == ["a", "b", "c", "x", "y", "ax", "by", "axpby", "axpbypc", "s"]
    s = 1 / (1 + 2.718281828459045 ** -2.0)
    assert rows_by_name(doc)["axpby"]["symbolic"] == pytest.approx(s * (1 - s), rel=1e-15)
    assert rows_by_name(doc)["s"]["analytic"] == 1.0


# -- a planted bug -------------------------------------------------------------------------


def _plant(monkeypatch, name: str, *pulls: str) -> None:
    """Replace one gate's pull rules (over g, out, x, y) everywhere the parser may find it."""
    plant(monkeypatch, wrong(name, *pulls))


def test_a_wrong_mul_rule_fails_and_is_pinned_on_the_mul_nodes(monkeypatch):
    # the notebook's own slip in Ex-4: da = db * dx instead of b * dx
    _plant(monkeypatch, "mul", "y * g", "(x + 1.0) * g")
    code, doc = doc_of("check", "neuron.circuit")
    assert code == 1 and doc["ok"] is False
    assert {row["name"] for row in doc["rows"] if not row["ok"]} == {"x", "y"}
    code, doc = doc_of("check", "neuron.circuit", "--nodes")
    assert code == 1
    assert {row["name"] for row in doc["rows"] if row["rule_ok"] is False} == {"ax", "by"}
    assert {c["name"] for c in doc["culprits"]} == {"ax", "by"}
    assert all(c["gate"] == "mul" for c in doc["culprits"])
    r = run("check", "neuron.circuit", "--nodes")
    marked = {line.split()[0] for line in r.output.splitlines() if "✗ rule" in line}
    assert marked == {"ax", "by"}


def test_without_sympy_the_numerical_estimate_pins_the_wrong_rule(monkeypatch):
    _plant(monkeypatch, "mul", "y * g", "(x + 1.0) * g")
    code, doc = doc_of("check", "neuron.circuit", "--nodes", "--no-sympy")
    assert code == 1
    assert {row["name"] for row in doc["rows"] if row["rule_ok"] is False} == {"ax", "by"}


def test_a_tight_tolerance_fails_rows_but_blames_no_gate():
    code, doc = doc_of("check", "exp(x) * y", "x=1", "y=2", "--method", "forward", "--h",
                       "0.001", "--rtol", "1e-6", "--atol", "0", "--nodes")
    assert code == 1 and not doc["culprits"]
    assert all(row["rule_ok"] is not False for row in doc["rows"])
    assert "sympy agrees" in rows_by_name(doc)["x"]["note"]
    code, doc = doc_of("check", "exp(x) * y", "x=1", "y=2", "--method", "forward", "--h",
                       "0.001", "--rtol", "1e-6", "--atol", "0", "--nodes", "--no-sympy")
    assert code == 1 and not doc["culprits"]


def test_a_wrong_sigmoid_rule_is_pinned_on_the_sigmoid_node_only(monkeypatch):
    _plant(monkeypatch, "sigmoid", "out * (1.0 + out) * g")
    code, doc = doc_of("check", "neuron.circuit", "--nodes")
    assert code == 1
    assert [row["name"] for row in doc["rows"] if row["rule_ok"] is False] == ["s"]
    # every node below it inherits the wrong pull, but is not blamed for it
    assert {row["name"] for row in doc["rows"] if not row["ok"]} == {
        "a", "b", "c", "x", "y", "ax", "by", "axpby", "axpbypc", "s"}


def test_a_subgradient_outside_the_one_sided_derivatives_fails(monkeypatch):
    _plant(monkeypatch, "relu", "1.5 * g")
    code, doc = doc_of("check", "relu(x) * y", "x=0", "y=2")
    x = rows_by_name(doc)["x"]
    assert code == 1 and x["kink"] and not x["ok"]
    assert (x["left"], x["right"]) == (pytest.approx(0.0), pytest.approx(2.0))


# -- kinks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, values, left, right", [
    ("relu(x) * y", ["x=0", "y=2"], 0.0, 2.0),
    ("abs(x) + y", ["x=0", "y=2"], -1.0, 1.0),
    ("max(x, y) * 3", ["x=1", "y=1"], 0.0, 3.0),
])
@pytest.mark.parametrize("method", ["central", "forward", "complex", "richardson"])
def test_kinks_are_reported_not_failed(text, values, left, right, method):
    code, doc = doc_of("check", text, *values, "--method", method)
    x = rows_by_name(doc)["x"]
    assert code == 0, doc
    assert x["kink"] is True and x["ok"] is True
    assert x["left"] == pytest.approx(left, abs=1e-9)
    assert x["right"] == pytest.approx(right, abs=1e-9)
    assert left <= x["analytic"] <= right


@pytest.mark.parametrize("method", ["central", "forward", "complex", "richardson"])
def test_a_subgradient_at_the_end_of_the_interval_allows_for_one_sided_error(method):
    # left derivative (e^-h - 1)/h = -1 + h/2: the analytic -1 is its limit, not inside it
    code, doc = doc_of("check", "relu(x) - exp(x)", "x=0", "--method", method)
    x = rows_by_name(doc)["x"]
    assert code == 0 and x["kink"] and x["analytic"] == -1.0


def test_kink_rows_say_so_in_the_table():
    r = run("check", "relu(x) * y", "x=0", "y=2")
    assert r.exit_code == 0
    assert "kink ✓" in r.output
    assert "kink at x: one-sided derivatives 0 (left), 2 (right)" in r.output


@pytest.mark.parametrize("args", [["sqrt(x) + y", "x=0", "y=1"], ["x ** y", "x=-2", "y=3"]])
@pytest.mark.parametrize("sympy", [[], ["--no-sympy"]])
def test_no_finite_derivative_anywhere_is_not_a_failure(args, sympy):
    # d/dx sqrt(x) at 0 is infinite; d/dy x**y at x < 0 does not exist in the reals
    code, doc = doc_of("check", *args, *sympy)
    assert code == 0
    undefined = [row["name"] for row in doc["rows"] if row["undefined"]]
    assert undefined == [("x" if "sqrt" in args[0] else "y")]


def test_a_constant_circuit_has_nothing_to_check():
    r = run("check", "2*3")
    assert r.exit_code == 0 and "nothing to check" in r.output


# -- options ------------------------------------------------------------------------------


def test_no_sympy_never_imports_sympy():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom circuitcli.cli import main\n"
            "r = CliRunner().invoke(main, ['check', 'sin(x)*y', 'x=1', 'y=2', '--no-sympy'])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in ('sympy', 'mpmath') if m in sys.modules))\n")
    env = {**os.environ, "CIRCUIT_SESSION": "off"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_sympy_json_has_null_symbolic():
    code, doc = doc_of("check", "x*y", "x=1", "y=2", "--no-sympy")
    assert code == 0
    assert all(row["symbolic"] is None and row["formula"] is None for row in doc["rows"])


def test_no_formula_hides_formulas_but_keeps_values():
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--no-formula")
    assert r.exit_code == 0 and "x + y" not in r.output
    code, doc = doc_of("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--no-formula")
    assert code == 0
    assert doc["rows"][0]["formula"] is None and doc["rows"][0]["symbolic"] == -4.0


def test_long_tables_keep_failures_and_say_what_was_left_out():
    text = "\n".join(["s0 = x"] + [f"s{k} = s{k - 1} * 0.5 + x" for k in range(1, 60)])
    r = run("check", text, "x=1", "--nodes", "--no-sympy")
    assert r.exit_code == 0
    assert "rows left out" in r.output and "✓ 119 of 119 nodes agree" in r.output


@pytest.mark.parametrize("args, message", [
    (["x +", "x=1"], "error"),
    (["x*y", "x=1"], "no value for y"),
    (["log(x)", "x=-1"], "log"),
    (["x*y", "x=1", "y=2", "--h", "0"], "positive"),
    (["x*y", "x=1", "y=2", "--h", "nan"], "not a finite number"),
    (["x*y", "x=1", "y=2", "--rtol", "-1"], ">= 0"),
    (["x*y", "x=1", "y=2", "--method", "secant"], "secant"),
    (["x*y", "x=1", "y=2", "--of", "nope"], "nope"),
])
def test_bad_input_exits_2_with_one_message(args, message):
    r = run("check", *args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_domain_error_points_at_the_gate():
    r = run("check", "log(x - y)", "x=1", "y=2")
    assert r.exit_code == 2
    assert "^" in r.output


def test_without_a_circuit_the_current_one_is_checked():
    first = run("check", "x*y", "x=3", "y=4", "--json")
    assert first.exit_code == 0
    assert run("set", "x*y", "x=3", "y=4").exit_code == 0  # check only reads the session
    again = run("check", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["rows"] == json.loads(first.stdout)["rows"]


def test_without_a_circuit_or_session_it_says_how_to_give_one():
    r = run("check", "--no-session")
    assert r.exit_code == 2
    assert "expression" in r.output


def test_user_text_never_reaches_sympy_parsing(monkeypatch):
    # sympify hands any string to parse_expr (imported at call time); sympy parses some
    # strings of its own, so refuse only those holding the user's names
    from sympy.parsing import sympy_parser

    original = sympy_parser.parse_expr

    def guarded(text, *args, **kwargs):
        assert not any(name in str(text) for name in ("xx", "yy", "qq")), text
        return original(text, *args, **kwargs)

    monkeypatch.setattr(sympy_parser, "parse_expr", guarded)
    code, doc = doc_of("check", "qq = sin(xx) * yy\nf = qq / (1 + qq)", "xx=0.5", "yy=2",
                       "--nodes")
    assert code == 0
    q = 2 * 0.479425538604203  # yy sin(xx)
    assert rows_by_name(doc)["qq"]["symbolic"] == pytest.approx(1 / (1 + q) ** 2, rel=1e-15)
    assert rows_by_name(doc)["qq"]["formula"] == "(yy*sin(xx) + 1)**(-2)"


def test_a_thousand_gate_circuit_checks_every_node():
    # s_k = s_{k-1} * 0.5 + x: ds_k/dx = 2 - 0.5^k, and d s_500 / d s_k = 0.5^(500-k)
    text = "\n".join(["s0 = x"] + [f"s{k} = s{k - 1} * 0.5 + x" for k in range(1, 501)])
    code, doc = doc_of("check", text, "x=1", "--nodes", "--method", "complex")
    assert code == 0 and len(doc["rows"]) == 1001
    rows = rows_by_name(doc)
    assert rows["x"]["symbolic"] == pytest.approx(2.0, rel=1e-15)
    assert rows["s400"]["symbolic"] == pytest.approx(0.5**100, rel=1e-15)
    assert rows["s400"]["numerical"] == pytest.approx(0.5**100, rel=1e-13)


def test_a_cut_table_keeps_the_failing_rows(monkeypatch):
    _plant(monkeypatch, "sin", "cos(x) * 2.0 * g")
    # only x feeds the (wrong) sine; y feeds the 60 agreeing gates after it
    text = "\n".join(["s0 = sin(x)"] + [f"s{k} = s{k - 1} + y" for k in range(1, 61)])
    r = run("check", text, "x=0.3", "y=1", "--nodes", "--no-sympy")
    assert r.exit_code == 1
    assert "rows left out" in r.output
    shown = {line.split()[0] for line in r.output.splitlines() if "│" in line}
    assert "s0" in shown
    assert [line.split()[0] for line in r.output.splitlines() if "✗ rule" in line] == ["s0"]
    assert any(line.startswith("▸ x") and "✗" in line for line in r.output.splitlines())


# -- verdicts by evidence (issue 11) --------------------------------------------------------

METHOD_NAMES = ["central", "forward", "complex", "richardson"]


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("args", [
    ["sqrt(x)", "x=1e-7"], ["log(x)", "x=1e-7"], ["x**0.5", "x=1e-7"],  # a step would cross 0
    ["exp(x)", "x=700"], ["(x+1e8)-1e8", "x=0.3"], ["1/(x-1)", "x=1.0000001"],
    ["sin(1000*x)", "x=0.3"], ["max(x,x,x)", "x=1"], ["sqrt(x)", "x=1e-300"],
    ["x**100", "x=-1.5"], ["sqrt(x-1)", "x=1.0000001"],
])
@pytest.mark.parametrize("sympy", [[], ["--no-sympy"]])
def test_correct_gradients_at_hard_points_pass(args, method, sympy):
    code, doc = doc_of("check", *args, "--method", method, "--nodes", *sympy)
    assert code == 0, doc
    assert not doc["culprits"]


def test_the_hard_points_are_estimated_well_not_only_passed():
    # d/dx sqrt(x) at 1e-7 is 0.5/sqrt(1e-7); 1/(x-1) at 1 + 1e-7 is -1/(x-1)^2
    for args, exact in [(["sqrt(x)", "x=1e-7"], 0.5 / 1e-7 ** 0.5),
                        (["1/(x-1)", "x=1.0000001"], -1 / (1.0000001 - 1) ** 2),
                        (["sqrt(x)", "x=1e-300"], 0.5e150)]:
        for method in METHOD_NAMES:
            _, doc = doc_of("check", *args, "--method", method)
            x = doc["rows"][0]
            assert x["reliable"] and x["numerical"] == pytest.approx(exact, rel=1e-3), method
            # and the error estimate covers the actual error
            assert abs(x["numerical"] - exact) <= 10 * x["error_estimate"], method


def test_a_tie_is_judged_by_the_subgradient_not_heaviside():
    # sympy's Max differentiates to Heaviside(0) = 1/2 per argument: 1.5 for max(x, x, x)
    code, doc = doc_of("check", "max(x,x,x)", "x=1")
    x = rows_by_name(doc)["x"]
    assert code == 0 and x["analytic"] == 1.0
    assert x["numerical"] == pytest.approx(1.0, rel=1e-9)
    assert x["symbolic"] is None and "Heaviside" in x["note"]


def test_complex_step_notes_never_suggest_complex_step():
    r = run("check", "exp(x)", "x=1", "--method", "complex", "--rtol", "1e-30", "--atol", "0")
    assert "--method complex" not in r.output


@pytest.mark.parametrize("scale", ["1e-9", "1", "1e9"])
@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("sympy", [[], ["--no-sympy"]])
def test_a_wrong_rule_is_caught_at_every_scale(monkeypatch, scale, method, sympy):
    # mul's rule times 1.5: d(x*y)/dx is y, the rule says 1.5 y, whatever the size of y
    plant(monkeypatch, scaled("mul", 1.5))
    code, doc = doc_of("check", "x*y", f"x={scale}", f"y={scale}", "--method", method, *sympy)
    assert code == 1
    assert [c["gate"] for c in doc["culprits"]] == ["mul"]
    assert all(not row["ok"] for row in doc["rows"])


def test_a_sign_flip_is_caught_and_pinned(monkeypatch):
    _plant(monkeypatch, "sin", "-cos(x) * g")
    code, doc = doc_of("check", "sin(x) * exp(y)", "x=0.3", "y=1e-9", "--nodes")
    assert code == 1
    assert [c["computes"] for c in doc["culprits"]] == ["sin(x)"]


def test_an_unreliable_estimate_says_why_and_lets_the_rule_check_decide():
    # a user's large step across the pole: the two steps disagree wildly
    code, doc = doc_of("check", "1/(x-1)", "x=1.001", "--h", "0.01", "--no-sympy")
    x = doc["rows"][0]
    assert code == 0 and not x["reliable"]
    assert x["note"].startswith("numerical estimate unreliable here (")
    assert "per-gate check decides" in x["note"]
    code, doc = doc_of("check", "1/(x-1)", "x=1.001", "--h", "0.01")
    assert code == 0 and "sympy decides" in doc["rows"][0]["note"]


def test_a_rule_is_blamed_by_what_its_error_does_to_the_gradient(monkeypatch):
    # off by 1e-30 beside terms of size 0.2: no gradient changes; off by 1e-6 relative: wrong
    _plant(monkeypatch, "sigmoid", "(dsigmoid(x, 1.0) + 1e-30) * g")
    code, doc = doc_of("check", "sigmoid(x) * y", "x=0.5", "y=2", "--nodes")
    assert code == 0 and not doc["culprits"]
    _plant(monkeypatch, "sigmoid", "dsigmoid(x, 1.0) * (1 + 1e-6) * g")
    code, doc = doc_of("check", "sigmoid(x) * y", "x=0.5", "y=2", "--nodes")
    assert code == 1 and [c["gate"] for c in doc["culprits"]] == ["sigmoid"]


def test_warnings_go_to_stderr_in_table_and_json(run):
    # exp(1000) overflows: the warning names the node, on stderr, never in the table or JSON
    for extra in ([], ["--json"]):
        r = run("check", "exp(x)*y", "x=1000", "y=0", "--no-session", *extra)
        assert "warning: value of exp1 = exp(x) is inf" in r.stderr
        assert "warning:" not in r.stdout.replace('"warnings"', "")


@pytest.mark.parametrize("text, x", [("tanh(x)", 168.0), ("tanh((2*x) ** exp(2))", 1.0),
                                     ("tanh(x) * 1e200", -300.0)])
def test_sympy_reference_keeps_a_tiny_tanh_slope(text, x):
    """sympy's d/dx tanh = 1 - tanh(x)**2 cancels to 0 at 40 digits once tanh(x) rounds to
    1 (x = 168: the slope is 6e-146): check then blamed a correct tanh rule. The reference
    here is mpmath at 400 digits of the slope's stable form 4e / (1 + e)**2, e = exp(-2|u|)."""
    import mpmath

    from circuitcli.methods.check import check

    c = parse(text)
    report = check(c, {"x": x}, formulas=False)
    assert report.ok, [r for r in report.rows if not r.ok]
    with mpmath.workdps(400):
        u = mpmath.mpf(x) if "2*x" not in text else (2 * mpmath.mpf(x)) ** mpmath.exp(2)
        e = mpmath.exp(-2 * abs(u))
        slope = 4 * e / (1 + e) ** 2
        if "2*x" in text:
            slope *= mpmath.exp(2) * (2 * mpmath.mpf(x)) ** (mpmath.exp(2) - 1) * 2
        if "1e200" in text:
            slope *= mpmath.mpf("1e200")
        expected = float(slope)
    (row,) = report.rows
    assert row.analytic == pytest.approx(expected, rel=1e-12)
