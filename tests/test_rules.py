"""The rule compiler (core/rules.py): one parse per text, one lowering per target.

The acceptance test of issue 19 §2 is here: a gate and a primitive added inside a test
(`softplus` over a new primitive `log1p`), with no other edit, get `grad`, `check`,
`code`, the page's JavaScript table and the 50-digit reference. Expected numbers come
from closed forms (math/mpmath), never from our own output.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import traceback

import mpmath as mp
import pytest
import reference as R
from click.testing import CliRunner

import circuitcli
from circuitcli.cli import main
from circuitcli.core import backend, rules
from circuitcli.core.backend import REAL, numpy_backend
from circuitcli.core.gates import FUNCTIONS, GATES, Gate
from circuitcli.render.code import ninja_code
from circuitcli.render.js import gates_js


@pytest.fixture
def softplus(monkeypatch):
    """softplus(x) = log(1 + e**x), written so that it stays in range at x = +-800, over
    a primitive the table does not have (log1p): one primitive entry, one gate entry."""
    backend.add_primitive("log1p", "math.log1p", "Math.log1p", "np.log1p")
    gate = Gate(name="softplus", arity=1, function=True,
                rule="maximum(x, 0.0) + log1p(exp(-abs(x)))",
                pull=("sigmoid(x) * g",), display="softplus({0})",
                sympy=lambda sp, x: sp.log(1 + sp.exp(x)), stem="sp")
    monkeypatch.setitem(GATES, "softplus", gate)
    monkeypatch.setitem(FUNCTIONS, "softplus", gate)
    yield gate
    backend.remove_primitive("log1p")


def _truth(x: float) -> tuple[float, float]:
    """softplus and its slope (the sigmoid) at x, by mpmath at 50 digits."""
    mp.mp.dps = 50
    x = mp.mpf(x)
    return float(mp.log(1 + mp.exp(x))), float(1 / (1 + mp.exp(-x)))


def _run(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="circuit")


def test_a_gate_and_a_primitive_added_in_a_test_work_everywhere(softplus):
    # grad, against the closed form
    r = _run("grad", "f = softplus(x * y)", "x=0.5", "y=-3", "--json", "--no-session")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    value, slope = _truth(-1.5)
    assert doc["output"]["value"] == pytest.approx(value, rel=1e-15)
    grads = {name: row["grad"] for name, row in doc["inputs"].items()}
    assert grads["x"] == pytest.approx(-3.0 * slope, rel=1e-15)
    assert grads["y"] == pytest.approx(0.5 * slope, rel=1e-15)
    # in saturation, where log(1 + exp(x)) written naively overflows
    far = circuitcli.parse("softplus(x)").grad(x=800.0)
    assert far.output == 800.0 and far.input_grads["x"] == 1.0 and not far.warnings

    # check: every method agrees with the rule, and sympy (from the entry's sympy form) too
    for method in ("central", "forward", "richardson", "complex"):
        r = _run("check", "softplus(x * y) * x", "x=0.5", "y=-3", "--method", method,
                 "--json", "--nodes")
        assert r.exit_code == 0, (method, r.output)
        doc = json.loads(r.stdout)
        assert doc["ok"] and not doc["culprits"]
        assert all(row["rule_ok"] is not False for row in doc["rows"])

    # code: the program runs and prints what grad computes, bit for bit
    c = circuitcli.parse("f = softplus(x * y)")
    source = ninja_code(c, {"x": 0.5, "y": -3.0})
    assert "from math import" in source and "log1p" in source
    printed: dict = {}
    exec(compile(source, "<ninja>", "exec"),  # safe: our own generated program
         {"print": lambda name, v: printed.__setitem__(name.rstrip(" ="), v)})
    result = c.grad(x=0.5, y=-3.0)
    assert printed == {"f": result.output, **{"d" + k: v for k, v in result.input_grads.items()}}

    # the numpy batches run the same rule (the primitive's numpy text)
    B = numpy_backend()
    import numpy as np

    xs = np.array([-800.0, -1.5, 0.0, 2.0, 800.0])
    outs = softplus.forward(B, xs)
    assert list(outs) == [softplus.forward(REAL, x) for x in xs]
    assert list(softplus.backward(B, np.ones(5), outs, xs)[0]) == [
        softplus.backward(REAL, 1.0, softplus.forward(REAL, x), x)[0] for x in xs]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_gate_added_in_a_test_is_in_the_pages_javascript_table(softplus, tmp_path):
    xs = [-800.0, -1.5, 0.0, 0.5, 30.0, 800.0]
    script = gates_js() + f"""
const xs = {json.dumps(xs)};
console.log(JSON.stringify(xs.map((x) => {{ const out = GATES.softplus.forward(x);
  return [out, GATES.softplus.backward(0.75, out, x)[0]]; }})));
"""
    path = tmp_path / "gates.js"
    path.write_text(script)
    res = json.loads(subprocess.run(["node", str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    for x, (out, back) in zip(xs, res, strict=True):
        value, slope = _truth(x)
        assert out == pytest.approx(value, rel=1e-15, abs=1e-300)
        assert back == pytest.approx(0.75 * slope, rel=1e-15, abs=1e-300)
        assert out == softplus.forward(REAL, x)  # and the very bits Python computes
        assert back == softplus.backward(REAL, 0.75, out, x)[0]


def test_a_gate_added_in_a_test_passes_the_reference(softplus, monkeypatch):
    """The 50-digit reference needs the new gate's closed forms (its own, written here:
    never the rule text); random circuits over every gate then include softplus."""
    forward, partials = R._forward, R._partials

    def _forward(name, xs):
        return mp.log(1 + mp.exp(xs[0])) if name == "softplus" else forward(name, xs)

    def _partials(name, xs):
        return [1 / (1 + mp.exp(-xs[0]))] if name == "softplus" else partials(name, xs)

    monkeypatch.setattr(R, "_forward", _forward)
    monkeypatch.setattr(R, "_partials", _partials)
    monkeypatch.setattr(R, "FORMS", R._spellings())
    assert "softplus" in R.FORMS
    rnd = random.Random(19)
    found: dict[str, list] = {}
    seen = 0
    for k in range(400):
        c, point = R.random_case(rnd, stress=k % 2 == 1)
        if not any(g.name == "softplus" for g in c.gates):
            continue
        seen += 1
        verdict = R.classify(c, point)
        found.setdefault(verdict.kind, []).append((c.text, point, verdict.detail))
    assert seen >= 40
    for kind in ("wrong", "nan-where-finite", "error"):
        assert not found.get(kind), (kind, found[kind][:5])
    assert len(found.get("ok", [])) >= 0.5 * seen, {k: len(v) for k, v in found.items()}


# ---- one parse, checked ----------------------------------------------------------------------


@pytest.mark.parametrize("rule, pull, why", [
    ("x * z", ("g",), "unknown name 'z'"),
    ("x.real", ("g",), "no Attribute"),
    ("__import__('os')", ("g",), "calls only primitives and helpers"),
    ("x", ("g", "g"), "2 pull rules for arity 1"),
    ("x if 0 < x < 1 else 0.0", ("g",), "one comparison at a time"),
    ("'x'", ("g",), "is not a number"),
    ("x", ("g +",), "pull"),
])
def test_a_rule_outside_the_language_is_refused_naming_the_gate(rule, pull, why):
    bad = Gate(name="bad", arity=1, rule=rule, pull=pull, display="bad({0})",
               sympy=lambda sp, x: x, stem="bad")
    with pytest.raises(rules.RuleError, match=why) as err:
        bad.forward(REAL, 1.0)
    assert str(err.value).startswith("gate bad")


def test_each_text_is_parsed_once_and_kept_outside_the_gate(monkeypatch):
    gate = Gate(name="twice", arity=2, rule="x * y + x", pull=("(y + 1.0) * g", "x * g"),
                display="twice({0}, {1})", sympy=lambda sp, x, y: x * y + x, stem="tw")
    parses = []
    real_parse = rules.ast.parse
    monkeypatch.setattr(rules.ast, "parse",
                        lambda text, *a, **k: parses.append(text) or real_parse(text, *a, **k))
    assert gate.forward(REAL, 2.0, 3.0) == 8.0
    assert list(gate.backward(numpy_backend(), 1.0, 8.0, 2.0, 3.0)) == [4.0, 2.0]
    assert gate.partials(REAL, 8.0, 2.0, 3.0) == (4.0, 2.0)
    gates_js()
    rule_texts = [t for t in parses if t in (gate.rule, *gate.pull)]
    assert sorted(rule_texts) == sorted([gate.rule, *gate.pull])  # once each, for all targets
    assert not hasattr(gate, "__dict__")  # the frozen entry holds texts only


def test_a_traceback_through_a_rule_shows_the_rule():
    gate = Gate(name="frail", arity=2, rule="x / y", pull=("g / y", "g * x"),
                display="frail({0}, {1})", sympy=lambda sp, x, y: x / y, stem="fr")
    with pytest.raises(ZeroDivisionError):
        try:
            gate.forward(REAL, 1.0, 0.0)
        except ZeroDivisionError:
            text = traceback.format_exc()
            raise
    assert 'File "<rules frail>"' in text and "return x / y" in text


def test_the_numpy_primitives_come_from_the_same_table_as_the_float_ones():
    B = numpy_backend()
    for name in backend.names():
        assert callable(getattr(B, name)) and callable(getattr(REAL, name)), name
    assert set(backend.PRIMITIVES) == set(backend.names())
    import numpy as np

    two = np.array([2.0, 2.0])
    assert math.isnan(B.maximum(two, np.array([1.0, math.nan]))[1])
    assert list(B.ties(two, two, np.array([1.0, 2.0]), two)) == [2.0, 3.0]


# ---- issue 22's rule-level fixes: truths from mpmath at 50 digits or a formula ---------------


def _grad(text: str, **point: float) -> dict[str, float]:
    return circuitcli.parse(text).grad(**point).input_grads


def _ulps(ours: float, truth) -> float:
    truth = mp.mpf(truth)
    return float(abs(mp.mpf(ours) - truth) / (abs(truth) * 2.0**-52))


@pytest.mark.parametrize("text, x, truth", [
    ("x**2", 1e-300, lambda x: 2 * x),           # out underflows to 0
    ("x**2", 1e300, lambda x: 2 * x),            # out overflows to inf
    ("pow(x, 2)", 1e-160, lambda x: 2 * x),      # out is subnormal
    ("x**3", -1e-120, lambda x: 3 * x**2),       # a negative base: the sign of x**(y-1)
    ("pow(x, -2) * abs(x)", 1e150, lambda x: -1 / x**2),  # once the wrong sign
    ("x**2.5", 1e-200, lambda x: mp.mpf(2.5) * x**1.5),
])
def test_pow_keeps_every_step_in_range_where_the_derivative_is(text, x, truth):
    mp.mp.dps = 50
    assert _ulps(_grad(text, x=x)["x"], truth(mp.mpf(x))) <= 4


def test_a_pull_of_zero_passes_back_zero_in_every_target(tmp_path):
    # relu(-exp(x)) + x at 800: exp overflows, relu is flat there: d/dx = 1 (by hand)
    c = circuitcli.parse("relu(-exp(x)) + x")
    assert c.grad(x=800.0).input_grads["x"] == 1.0
    assert _grad("0*x**(-0.5)", x=1e-300)["x"] == 0.0  # 0 * anything: flat, truth 0
    # code: the printed program gives the same 1.0
    printed: dict = {}
    exec(compile(ninja_code(c, {"x": 800.0}), "<ninja>", "exec"),  # safe: our own program
         {"print": lambda name, v: printed.__setitem__(name.rstrip(" ="), v)})
    assert printed["dx"] == 1.0
    # the numpy rules: the exp gate pulled by exactly 0 passes back exactly 0, not nan
    import numpy as np

    exp = GATES["exp"]
    with np.errstate(all="ignore"):  # numpy computes both branches: 0 * inf is its nan
        pulled = exp.backward(numpy_backend(), np.array([0.0, 1.0]), np.array([math.inf] * 2),
                              np.array([800.0] * 2))[0]
    assert list(pulled) == [0.0, math.inf]
    # the page's JavaScript: the same rule
    if shutil.which("node"):
        path = tmp_path / "zero.js"
        path.write_text(gates_js() + "console.log(JSON.stringify([GATES.exp.backward(0, "
                        "Infinity, 800)[0], GATES.neg.backward(0, -0, 1)[0],"
                        " 1 / GATES.neg.backward(0, -0, 1)[0]]));\n")
        res = json.loads(subprocess.run(["node", str(path)], capture_output=True, text=True,
                                        check=True).stdout)
        assert res == [0, 0, None]  # 1 / +0 is Infinity (JSON null): +0, never -0


def test_code_prints_the_zero_grad_prints_not_minus_zero():
    r = _run("code", "relu(-x)", "x=1", "--values")
    printed: dict = {}
    exec(compile(r.stdout, "<ninja>", "exec"),  # safe: our own generated program
         {"print": lambda name, v: printed.__setitem__(name.rstrip(" ="), v)})
    assert math.copysign(1.0, printed["dx"]) == 1.0  # +0.0, as grad gives
    assert math.copysign(1.0, _grad("relu(-x)", x=1.0)["x"]) == 1.0


def test_overflow_is_a_warning_where_it_first_appears_whatever_follows():
    for text in ("exp(x) * 1", "cos(exp(x))", "sin(exp(x)) * 2", "pow(-2, exp(x))"):
        r = _run("grad", text, "x=800", "--no-session")
        assert r.exit_code == 0, (text, r.output)
        assert "warning: value of exp1 = exp(x) is inf" in r.stderr, text


def test_division_by_zero_names_the_divisors_node():
    r = _run("grad", "(a+b)/(c-c)", "a=1", "b=1", "c=1", "--no-session")
    assert r.exit_code == 2
    assert "at node sub1 = c - c" in r.output and "add1 = a + b" not in r.output.split(
        "at node")[1]


@pytest.mark.parametrize("text, x, f", [
    # the issue's zero-pull examples; the truth is mpmath's derivative of the same function
    ("relu(-exp(x)) + x", 800.0, lambda x: max(mp.mpf(0), -mp.exp(x)) + x),  # 1
    ("0*x**(-0.5)", 1e-300, lambda x: 0 * x**-0.5),                        # 0
])
def test_the_zero_pull_examples_against_mpmath(text, x, f):
    mp.mp.dps = 50
    truth = mp.diff(f, mp.mpf(x), h=mp.mpf(x) * mp.mpf(10) ** -20)
    ours = _grad(text, x=x)["x"]
    assert ours == float(truth) and math.copysign(1.0, ours) == 1.0


def test_pow_of_a_tiny_base_has_its_second_derivative_in_range():
    # sin(z) ** z at z = 1e-300: f = e^(z log sin z), f'' = f * (u'^2 + u'') with
    # u' = log sin z + z cot z and u'' = 2 cot z - z csc^2 z (by hand), at 50 digits
    from circuitcli.methods.derivatives import hessian_of

    mp.mp.dps = 50
    z = mp.mpf(1e-300)
    u1 = mp.log(mp.sin(z)) + z * mp.cot(z)
    u2 = 2 * mp.cot(z) - z * mp.csc(z) ** 2
    truth = mp.sin(z) ** z * (u1**2 + u2)
    c = circuitcli.parse("sin(z) ** z")
    _, H = hessian_of(c, c.values_for({"z": 1e-300}))
    assert _ulps(H[0][0], truth) <= 1e3  # ~1e300 where the pull's own slope overflowed
    # x ** 2 at 1e-300 (its value underflows): f'' = 2 exactly
    c = circuitcli.parse("x ** 2")
    assert hessian_of(c, c.values_for({"x": 1e-300})) == ([2e-300], [[2.0]])


def test_the_dual_lowering_is_the_rule_compilers():
    # one parse of the texts for every target: the dual lowering runs the checked trees
    # (the zero-pull rule included) and lists its source for tracebacks
    import linecache

    _, back = rules.dual(GATES["exp"])
    # a pull of exactly 0 (its tangent too) passes back 0 under an infinite slope
    assert back(0.0, 0.0, math.inf, math.inf, 800.0, 1.0) == (0.0, 0.0)
    # a pull of 0 moving at speed 1 still moves by the slope (e^1)
    assert back(0.0, 1.0, math.e, math.e, 1.0, 1.0) == (0.0, math.e)
    assert any("g_v == 0.0" in line for line in linecache.getlines("<rules exp over duals>"))
    assert rules.dual(GATES["max"]) is None  # variadic: run over Dual objects
