"""Forward mode, Jacobians and Hessians (issue 20), against hand calculation, sympy at high
precision and the 50-digit reference; the commands' contract."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import mpmath as mp
import pytest
import reference as R
import sympy as sp
from conftest import invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from random_circuits import expressions, point, spell

import circuitcli
from circuitcli.core.dual import DUAL, Dual
from circuitcli.core.gates import FUNCTIONS, GATES, Gate
from circuitcli.core.syntax import CircuitError
from circuitcli.methods.derivatives import (
    classify,
    dual_values,
    forward_mode,
    hessian,
    hessian_of,
    hvp,
    jacobian,
)

NEURON = dict(a=1.0, b=2.0, c=-3.0, x=-1.0, y=3.0)


# ---- the notebook's circuits, by hand --------------------------------------------------------


def test_the_hessian_of_x_plus_y_times_z_is_zeros_and_ones():
    # f = (x+y)z: f_xz = f_yz = 1, every other second derivative 0, at any point
    c = circuitcli.parse("(x+y)*z")
    for p in ({"x": -2, "y": 5, "z": -4}, {"x": 0.3, "y": 1e10, "z": -7}):
        h = hessian(c, p)
        assert h.inputs == ["x", "y", "z"]
        assert h.matrix == [[0, 0, 1], [0, 0, 1], [1, 1, 0]]
        # eigenvalues of [[0,0,1],[0,0,1],[1,1,0]]: ±sqrt(2) and 0 (by hand: t^3 = 2t)
        assert h.eigenvalues[1] == 0
        assert math.isclose(h.eigenvalues[2], math.sqrt(2), rel_tol=1e-15)
        assert math.isclose(h.eigenvalues[0], -math.sqrt(2), rel_tol=1e-15)
        assert h.curvature.kind == "saddle"


def test_x_times_y_is_a_saddle_at_the_origin():
    h = hessian(circuitcli.parse("x*y"), {"x": 0.0, "y": 0.0})
    # f = xy: f_xy = 1 even where x = y = 0 (the exact-zero guard keeps no false slope 0)
    assert h.matrix == [[0.0, 1.0], [1.0, 0.0]]
    assert h.eigenvalues == [-1.0, 1.0]
    assert h.curvature.kind == "saddle" and "the gradient is 0 here" in h.curvature.text


def test_the_neuron_against_sympy_at_50_digits():
    c = circuitcli.parse((Path(__file__).parent.parent / "samples" / "neuron.circuit").read_text())
    a, b, cc, x, y = syms = sp.symbols("a b c x y")
    f = 1 / (1 + sp.exp(-(a * x + b * y + cc)))
    at = dict(zip(syms, [sp.Integer(1), sp.Integer(2), sp.Integer(-3), sp.Integer(-1),
                         sp.Integer(3)]))
    truth = sp.hessian(f, syms)
    h = hessian(c, NEURON)
    assert h.inputs == ["a", "b", "c", "x", "y"]
    for r in range(5):
        for k in range(5):
            exact = float(sp.N(truth[r, k].subs(at), 50))
            assert math.isclose(h.matrix[r][k], exact, rel_tol=8e-16, abs_tol=1e-300), (r, k)
    # the gradient beside it is the notebook's
    assert h.gradient == pytest.approx([-0.10499358540350662, 0.31498075621051985,
                                        0.10499358540350662, 0.10499358540350662,
                                        0.20998717080701323], rel=1e-15)


def test_forward_mode_on_the_notebook_circuit_by_hand():
    c = circuitcli.parse("q = x + y; f = q * z")
    t = forward_mode(c, {"x": -2, "y": 5, "z": -4}, {"x": 1.0})
    tan = {c.label(i): t.tangents[i] for i in range(len(c))}
    # dq/dx = 1, df/dx = z = -4; y and z do not move
    assert tan["q"] == 1 and tan["f"] == -4 and tan["y"] == 0 and tan["z"] == 0
    t = forward_mode(c, {"x": -2, "y": 5, "z": -4}, {"y": 2.0, "z": 1.0})
    # along (0, 2, 1): dq = 2, df = dq*z + q*dz = -8 + 3
    assert t.tangents[c.named["f"]] == -5
    assert "1 forward + 1 backward pass" in t.costs and "3 passes" in t.costs


def test_the_jacobian_picks_the_mode_with_fewer_passes():
    c = circuitcli.parse("q = x + y; f = q * z")
    p = {"x": -2, "y": 5, "z": -4}
    j = jacobian(c, p, ["q", "f"])
    assert j.mode == "reverse" and "2 sweeps" in j.why
    assert j.rows == [[1, 1, 0], [-4, -4, 3]]
    c2 = circuitcli.parse("u = x * y; v = x + y; w = x - y; f = u * v")
    j2 = jacobian(c2, {"x": 3, "y": 2}, ["u", "v", "w", "f"])
    assert j2.mode == "forward" and "2 inputs" in j2.why
    # by hand: u = xy, v = x + y, w = x - y, f = xy(x+y) = x^2 y + x y^2
    assert j2.rows == [[2, 3], [1, 1], [1, -1], [2 * 3 * 2 + 2 * 2, 3 * 3 + 2 * 3 * 2]]
    assert jacobian(c2, {"x": 3, "y": 2}, ["u", "f"], "forward").rows == \
        jacobian(c2, {"x": 3, "y": 2}, ["u", "f"], "reverse").rows
    with pytest.raises(CircuitError, match="no node named"):
        jacobian(c, p, ["q", "nope"])
    # a mode asked for is said to be asked for, and the other mode's count beside it
    asked = jacobian(c, p, ["q", "f"], "forward")
    assert asked.why == ("forward mode, as asked: 3 passes (one per input); reverse mode "
                         "would need one backward sweep per output (2)")
    assert asked.rows == j.rows


def test_a_direction_with_several_outputs_is_refused_plainly():
    r = invoke("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--of", "q,f",
               "--forward", "--wrt", "x")
    assert r.exit_code == 2 and "leave out --of" in r.stderr


def test_classify_in_plain_words():
    assert classify([-2.0, -1.0], [0.0, 0.0]).kind == "maximum"
    assert classify([1.0, 3.0], [0.0, 0.0]).kind == "minimum"
    assert classify([-1.0, 1.0], [0.0, 0.0]).kind == "saddle"
    assert classify([0.0, 0.0], [1.0, 0.0]).kind == "flat"
    assert "flat along 1" in classify([0.0, 2.0], [0.0, 0.0]).text
    assert "not a stationary point" in classify([1.0], [2.0]).text


# ---- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(expressions(), st.randoms(use_true_random=False))
def test_forward_mode_is_the_gradient_along_the_direction(text, rnd):
    c = circuitcli.parse(text)
    p = point(rnd)
    values = c.values_for({k: v for k, v in p.items() if k in c.inputs})
    try:
        result = c.grad(**{k: v for k, v in p.items() if k in c.inputs})
    except CircuitError:
        return
    if result.kinks or any(not math.isfinite(g) for g in result.grads):
        return
    direction = {n: rnd.choice([-1.0, 0.5, 2.0]) for n in c.inputs}
    t = forward_mode(c, values, direction)
    along = sum(result.input_grads[n] * v for n, v in direction.items())
    # rounding is relative to what flows through each node (x - x: 1 and -1, summing to 0)
    size = max((abs(t.tangents[i] * result.grads[i]) for i in range(len(c)) if c.live[i]),
               default=0.0)
    assert abs(t.tangents[c.output] - along) <= 1e-12 * (size + 1e-300) * len(c)
    # the dual pass's values are the float pass's, bit for bit
    assert [d.v for d in dual_values(c, values, direction)] == list(result.values)


@settings(max_examples=40, deadline=None)
@given(expressions(), st.randoms(use_true_random=False))
def test_the_hessian_is_symmetric_and_its_hvp_is_its_product(text, rnd):
    c = circuitcli.parse(text)
    p = {k: v for k, v in point(rnd).items() if k in c.inputs}
    try:
        result = c.grad(**p)
        g, H = hessian_of(c, c.values_for(p))
    except CircuitError:
        return
    if result.kinks:
        return
    n = len(H)
    # Rounding in a mixed partial scales with the matrix, not with the entry: an entry that
    # cancels to 0 one way may keep a few ulps of its neighbours the other way.
    scale = max([abs(x) for row in H for x in row if math.isfinite(x)], default=0.0) + 1e-300
    v = [rnd.choice([-1.0, 0.5, 2.0]) for _ in range(n)]
    _, Hv = hvp(c, c.values_for(p), dict(zip(c.inputs, v)))
    for r in range(n):
        row = [H[r][k] * v[k] for k in range(n)]
        if not all(math.isfinite(x) for x in [*row, Hv[r]]):
            continue
        assert abs(Hv[r] - sum(row)) <= 1e-12 * (sum(map(abs, row)) + 2 * scale) * len(c)
        for k in range(n):
            if math.isfinite(H[r][k]) and math.isfinite(H[k][r]):
                assert abs(H[r][k] - H[k][r]) <= 1e-12 * scale * len(c)
    # the same numbers, nan as nan ((-1) ** x has no real slope in x)
    assert list(map(repr, g)) == [repr(result.input_grads[name]) for name in c.inputs]


# ---- against the 50-digit reference ----------------------------------------------------------


def _second_verdicts(seed: int, count: int) -> dict:
    rnd = random.Random(seed)
    found: dict = {}
    for n in range(count):
        c, p = R.random_case(rnd, stress=n % 2 == 1)
        try:
            c.grad(**p)
            _, H = hessian_of(c, c.values_for(p))
            names = list(c.inputs)
            tans = [d.t for d in dual_values(c, c.values_for(p), {names[0]: 1.0})] \
                if names else None
        except CircuitError:
            H, tans = None, None
        v = R.judge_second(c, p, H, tans)
        found.setdefault(v.kind, []).append((c.text, p, v.detail))
    return found


def test_random_circuits_of_every_gate_have_no_wrong_hessian_entry():
    found = _second_verdicts(20, 120)
    assert not found.get("wrong"), found.get("wrong")
    assert not found.get("nan-where-finite"), found.get("nan-where-finite")
    assert len(found.get("ok", [])) > 60  # the test judges, it does not only skip


@pytest.mark.slow
def test_many_random_circuits_of_every_gate_have_no_wrong_hessian_entry():
    found = _second_verdicts(2026, 1500)
    assert not found.get("wrong"), found.get("wrong")[:5]
    # pow at bases below 1e-150 included (sin(z) ** z at z = 1e-300: H = 1e300)
    assert not found.get("nan-where-finite"), found.get("nan-where-finite")[:5]


def test_the_reference_catches_a_wrong_hessian():
    c = circuitcli.parse("x * y")
    mp.mp.dps = 50
    assert R.judge_second(c, {"x": 1.0, "y": 2.0}, [[0.0, 1.0], [1.0, 0.0]]).kind == "ok"
    assert R.judge_second(c, {"x": 1.0, "y": 2.0}, [[0.0, 1.0], [1.0, 1e-9]]).kind == "wrong"
    assert R.judge_second(c, {"x": 1.0, "y": 2.0}, [[0.0, 1.0 + 1e-12], [1.0, 0.0]]).kind \
        == "wrong"


# ---- a new gate: forward mode and Hessians with no other edit ---------------------------------


def test_a_new_gate_gets_forward_mode_and_hessians_from_its_rules(monkeypatch):
    softplus = Gate(name="softplus", arity=1, function=True, rule="log(1.0 + exp(x))",
                    pull=("g / (1.0 + exp(-x))",), display="softplus({0})",
                    sympy=lambda sp, x: sp.log(1 + sp.exp(x)), stem="sp")
    monkeypatch.setitem(GATES, "softplus", softplus)
    monkeypatch.setitem(FUNCTIONS, "softplus", softplus)
    c = circuitcli.parse("f = softplus(x * y)")
    p = {"x": 0.5, "y": -3.0}
    # by hand: f = log(1 + e^u), u = xy; f' = s(u), f'' = s(u)(1 - s(u)), s the sigmoid
    u = -1.5
    s = 1 / (1 + math.exp(-u))
    t = forward_mode(c, p, {"x": 1.0})
    assert math.isclose(t.tangents[c.output], s * -3.0, rel_tol=1e-15)
    h = hessian(c, p)
    d2 = s * (1 - s)
    want = [[d2 * 9.0, d2 * -1.5 + s], [d2 * -1.5 + s, d2 * 0.25]]
    for r in range(2):
        for k in range(2):
            assert math.isclose(h.matrix[r][k], want[r][k], rel_tol=1e-14)


# ---- the dual numbers' care ------------------------------------------------------------------


def test_tangents_keep_the_float_rules_care():
    # division's ordering: d(1/y)/dy at y = 1e200 is -1e-400 in truth: underflows to -0, not nan
    assert DUAL.power(Dual(-2.0, 1.0), Dual(3.0, 0.0)).t == 12.0  # no log of a negative base
    big = Dual(1e300, 0.0) * Dual(5.0, 1.0)
    assert big.t == 1e300  # a flat factor adds exactly 0, even beside inf later
    assert (Dual(math.inf, 0.0) * Dual(2.0, 0.0)).t == 0.0
    # tanh's slope from the input, not 1 - tanh^2: at 20, 4e^-40 not 0
    assert math.isclose(DUAL.tanh(Dual(20.0, 1.0)).t, 4 * math.exp(-40), rel_tol=1e-14)
    # sigmoid's rule over duals at 800: its tangent is e^-800 (underflows to 0, no nan)
    s = GATES["sigmoid"].forward(DUAL, Dual(-40.0, 1.0))
    assert math.isclose(s.t, math.exp(-40) / (1 + math.exp(-40)) ** 2, rel_tol=1e-14)
    # a pull of exactly 0 passes back exactly 0, tangent too: exp(1000) * 0 is not nan
    c = circuitcli.parse("f = 0 * exp(x)")
    g, H = hessian_of(c, {"x": 1000.0})
    assert g == [0.0] and H == [[0.0]]


# ---- the commands ----------------------------------------------------------------------------


def test_hessian_command_table_and_json(doc):
    r = invoke("hessian", "x*y", "x=3", "y=-2")
    assert r.exit_code == 0, r.output
    assert "saddle" in r.stdout and "eigenvalues: -1, 1" in r.stdout
    d = doc("hessian", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert set(d) >= {"output", "inputs", "gradient", "hessian", "eigenvalues", "kinks",
                      "warnings"}
    assert d["output"] == {"name": "out", "value": -12.0}
    assert d["inputs"] == ["x", "y", "z"] and d["gradient"] == [-4.0, -4.0, 3.0]
    assert d["hessian"] == [[0, 0, 1], [0, 0, 1], [1, 1, 0]]
    assert d["eigenvalues"][1] == 0.0


def test_hessian_hvp_replaces_the_matrix(doc):
    d = doc("hessian", "(x+y)*z", "x=-2", "y=5", "z=-4", "--hvp", "z=2", "--hvp", "x=1")
    assert "hessian" not in d and "eigenvalues" not in d
    # H (1, 0, 2) = (2, 2, 1), by hand from the matrix above
    assert d["hvp"] == {"x": 2.0, "y": 2.0, "z": 1.0}
    r = invoke("hessian", "x*y", "x=1", "y=1", "--hvp", "q=1")
    assert r.exit_code == 2 and "no input named q" in r.stderr
    r = invoke("hessian", "x*y", "x=1", "y=1", "--hvp", "x=inf")
    assert r.exit_code == 2 and "finite" in r.stderr and "Traceback" not in r.output


def test_hessian_of_and_output_file(tmp_path, doc):
    d = doc("hessian", "q = x*y; f = q + x*x", "x=1", "y=2", "--of", "q")
    assert d["output"]["name"] == "q" and d["hessian"] == [[0, 1], [1, 0]]
    out = tmp_path / "h.csv"
    r = invoke("hessian", "x*y", "x=1", "y=2", "-o", str(out))
    assert r.exit_code == 0 and f"wrote {out}" in r.stderr
    assert out.read_text().splitlines() == [",x,y", "x,0.0,1.0", "y,1.0,0.0"]
    r = invoke("hessian", "x*y", "x=1", "y=2", "--of", "nope")
    assert r.exit_code == 2


def test_hessian_nan_is_null_with_a_warning():
    r = invoke("hessian", "sqrt(x)", "x=0", "--json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["hessian"] == [[None]] and d["eigenvalues"] is None
    assert "warning:" in r.stderr


def test_hessian_only_looks(session_file):
    assert invoke("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_file.read_bytes()
    assert invoke("hessian", "x+y*y", "x=5", "y=7").exit_code == 0
    assert invoke("hessian", "y=9").exit_code == 0
    assert session_file.read_bytes() == before


def test_hessian_help_and_did_you_mean():
    r = invoke("hessian", "-h")
    assert r.exit_code == 0 and "--hvp" in r.stdout and "eigenvalues" in r.stdout
    r = invoke("hesian", "x")
    assert r.exit_code == 2 and "hessian" in r.stderr


def test_grad_forward_json_shape(doc):
    d = doc("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--forward", "--wrt", "x")
    assert d["direction"] == {"x": 1.0, "y": 0.0, "z": 0.0}
    tangents = {n["name"]: n["tangent"] for n in d["nodes"]}
    assert tangents == {"x": 1.0, "y": 0.0, "add1": 1.0, "z": 0.0, "out": -4.0}
    d = doc("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--forward", "--direction", "y=2",
            "--direction", "z=1")
    assert d["output"]["tangent"] == -8.0 + 3.0


def test_grad_forward_table_says_what_each_mode_costs():
    r = invoke("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--forward", "--wrt", "z")
    assert r.exit_code == 0
    assert "tangent" in r.stdout and "forward mode along z=1" in r.stdout
    assert "1 forward + 1 backward pass" in r.stderr and "3 passes" in r.stderr
    r = invoke("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--wrt", "z")
    assert r.exit_code == 2 and "--forward" in r.stderr
    r = invoke("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--forward", "--wrt", "w")
    assert r.exit_code == 2 and "no input named w" in r.stderr


def test_grad_of_several_outputs_is_the_jacobian(doc):
    d = doc("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--of", "q,f")
    assert d["jacobian"] == {"outputs": ["q", "f"], "inputs": ["x", "y", "z"],
                             "rows": [[1, 1, 0], [-4, -4, 3]], "mode": "reverse"}
    r = invoke("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--of", "q,f")
    assert r.exit_code == 0 and "reverse mode" in r.stdout
    r = invoke("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--of", "q,nope")
    assert r.exit_code == 2 and "no node named nope" in r.stderr


def test_the_jacobian_takes_the_names_the_tables_show(doc):
    # unnamed gates are shown as add1, out: a reader types those next. By hand at
    # x=-2, y=5, z=-4: d(x+y)/d(x,y,z) = (1, 1, 0); d((x+y)*z) = (z, z, x+y) = (-4, -4, 3).
    d = doc("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--of", "add1,out")
    assert d["jacobian"]["rows"] == [[1, 1, 0], [-4, -4, 3]]
    r = invoke("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--of", "add,out")
    assert r.exit_code == 2 and "did you mean add1?" in r.stderr
    r = invoke("grad", "x*2+1", "x=1", "--of", "2,out")  # a constant is not a node to pick
    assert r.exit_code == 2 and "no node named 2" in r.stderr


def test_of_out_names_the_unnamed_output_the_tables_call_out(doc):
    # d²((x+y)*z) by hand: only the z-row/z-column off the diagonal and x-y cross terms of 0
    d = doc("hessian", "(x+y)*z", "x=-2", "y=5", "z=-4", "--of", "out")
    assert d["output"] == {"name": "out", "value": -12.0}
    assert d["hessian"] == [[0, 0, 1], [0, 0, 1], [1, 1, 0]]
    r = invoke("grad", "a = x*2; b = a+1", "x=1", "--of", "out")  # shown as b: no node out
    assert r.exit_code == 2 and "no node named out" in r.stderr


def test_check_order_2_keeps_the_entries_worth_reading_when_not_all_fit(doc):
    # sum of x_i * x_(i+1) around a ring of 8: by hand every entry is 0 but the 16 (i, i±1)
    text = "; ".join(f"x{i} = {i / 10}" for i in range(8)) + "; out = " + \
        " + ".join(f"x{i}*x{(i + 1) % 8}" for i in range(8))
    r = invoke("check", "--order", "2", text, "--max-rows", "16", env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    shown = [line for line in r.stdout.splitlines() if line.startswith("d²/")]
    assert len(shown) == 16
    assert all(line.split("│")[1].strip() == "1" for line in shown)
    assert "48 entries left out" in r.stdout
    d = doc("check", "--order", "2", text)
    ones = {(e["row"], e["col"]) for e in d["entries"] if e["analytic"] == 1}
    assert ones == {(f"x{i}", f"x{(i + k) % 8}") for i in range(8) for k in (1, 7)}


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def test_the_lowered_rules_give_the_dual_objects_numbers_bit_for_bit():
    # core/dual_rules.py rewrites the texts into float code for speed; over random circuits
    # of every gate, half at stress points, it must give what the Dual objects give
    from circuitcli.methods.derivatives import adjoint_pass, reverse_sweep, tangent_pass

    rnd = random.Random(5)
    compared = 0
    for n in range(600):
        c, p = R.random_case(rnd, n % 2 == 1)
        try:
            c.grad(**p)
        except CircuitError:
            continue
        names = list(c.inputs)
        if not names:
            continue
        values = c.values_for(p)
        d = {name: rnd.choice([1.0, -0.5, 0.0]) for name in names}
        duals = dual_values(c, values, d)
        vals, tans = tangent_pass(c, values, d)
        assert all(_same(x.v, v) and _same(x.t, t) for x, v, t in zip(duals, vals, tans)), c.text
        grads = reverse_sweep(c, duals, c.output, Dual(1.0, 0.0), DUAL)
        G, T = adjoint_pass(c, vals, tans, c.output)
        assert all(_same(x.v, v) and _same(x.t, t) for x, v, t in zip(grads, G, T)), c.text
        compared += 1
    assert compared > 300


# ---- check --order 2 -------------------------------------------------------------------------


def _rewritten(gate: Gate, *pulls: str) -> Gate:
    """The gate with other pull texts (a slip in the table), compiled like any rule."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(Gate)}
    extra = {"partials": None} if "partials" in fields else {}
    return dataclasses.replace(gate, pull=tuple(pulls), **extra)


def _plant(monkeypatch, gate: Gate) -> None:
    """Put `gate` in the table wherever the parser finds the gate of its name."""
    from circuitcli.core.gates import OPERATORS

    for table in (GATES, OPERATORS, FUNCTIONS):
        for key, found in list(table.items()):
            if found.name == gate.name:
                monkeypatch.setitem(table, key, gate)


def test_check_order_2_agrees_on_the_notebook_circuits():
    from circuitcli.methods.check2 import check_second

    for text, p in (("(x+y)*z", {"x": -2, "y": 5, "z": -4}), ("x*y", {"x": 3, "y": -2}),
                    ("sigmoid(a*x + b*y + c)", NEURON)):
        found = check_second(circuitcli.parse(text), p)
        assert found.ok and found.exact_used and not found.culprits, text
        assert all(e.ok for e in found.entries)


def test_a_zero_guard_that_reads_only_values_is_blamed_at_second_order(monkeypatch):
    # first order right everywhere, but `abs(y) > 0` reads only the value: at y = 0 the rule
    # takes its constant branch and d2(xy)/dxdy comes out 0, not 1

    from circuitcli.methods.check import check
    from circuitcli.methods.check2 import check_second

    wrong = _rewritten(GATES["mul"], "y * g if abs(y) > 0 else 0.0",
                       "x * g if abs(x) > 0 else 0.0")
    _plant(monkeypatch, wrong)
    c = circuitcli.parse("q = x + 1; f = q * y + sin(x)")
    p = {"x": 0.5, "y": 0.0}
    assert check(c, p).ok  # the first-order check cannot see it
    found = check_second(c, p)
    assert not found.ok
    assert [x.gate for x in found.culprits] == ["mul"]
    bad = {(e.row, e.col) for e in found.entries if e.ok is False}
    # d/dx (df/dy) goes through the pull to y, whose guard tests q = 1.5: right; d/dy (df/dx)
    # goes through the pull to q, whose guard tests y = 0: wrong, and the matrix not symmetric
    assert bad == {("x", "y")}
    r = invoke("check", "q = x + 1; f = q * y + sin(x)", "x=0.5", "y=0", "--order", "2")
    assert r.exit_code == 1 and "wrong rule at" in r.stdout and "(mul)" in r.stdout


@pytest.mark.parametrize("name", ["mul", "div", "exp", "tanh", "sigmoid", "sin", "log", "pow"])
def test_a_scaled_rule_is_blamed_on_its_gate_alone(monkeypatch, name):

    from circuitcli.methods.check2 import check_second

    gate = GATES[name]
    _plant(monkeypatch, _rewritten(gate, *(f"({p}) * 1.5" for p in gate.pull)))
    args = ["u", "v"][: gate.arity]
    c = circuitcli.parse(f"u = x * 0.7 + y; v = y - 0.3 * x; f = {spell(name, args)} + v * u")
    found = check_second(c, {"x": 0.9, "y": 1.3})
    assert not found.ok
    assert {x.gate for x in found.culprits} == {name}


@settings(max_examples=40, deadline=None)
@given(expressions(max_leaves=6), st.randoms(use_true_random=False))
def test_check_order_2_raises_no_false_alarm_on_smooth_circuits(text, rnd):
    from circuitcli.methods.check2 import check_second

    c = circuitcli.parse(text)
    p = {k: v for k, v in point(rnd).items() if k in c.inputs}
    try:
        r = c.grad(**p)
        found = check_second(c, c.values_for(p))
    except CircuitError:
        return
    if r.kinks or r.warnings or not found.exact_used:
        return
    assert found.ok, (text, p, [e for e in found.entries if e.ok is False], found.culprits)


def test_a_new_gate_gets_the_second_order_check(monkeypatch):

    from circuitcli.methods.check2 import check_second

    softplus = Gate(name="softplus", arity=1, function=True, rule="log(1.0 + exp(x))",
                    pull=("g / (1.0 + exp(-x))",), display="softplus({0})",
                    sympy=lambda sp, x: sp.log(1 + sp.exp(x)), stem="sp")
    monkeypatch.setitem(GATES, "softplus", softplus)
    monkeypatch.setitem(FUNCTIONS, "softplus", softplus)
    c = circuitcli.parse("f = softplus(x * y)")
    assert check_second(c, {"x": 0.5, "y": -3.0}).ok
    slipped = _rewritten(softplus, "g / (1.0 + exp(x))")
    monkeypatch.setitem(GATES, "softplus", slipped)
    monkeypatch.setitem(FUNCTIONS, "softplus", slipped)
    found = check_second(circuitcli.parse("f = softplus(x * y)"), {"x": 0.5, "y": -3.0})
    assert not found.ok and [x.gate for x in found.culprits] == ["softplus"]


def test_the_complex_step_column_is_the_exact_hessian_on_the_notebook_circuits():
    from circuitcli.methods.check2 import check_second

    # by hand: (x+y)*z has d2/dxdz = d2/dydz = 1 and all else 0; x*y the saddle [[0,1],[1,0]]
    hand = {"(x+y)*z": {("x", "z"): 1.0, ("z", "x"): 1.0, ("y", "z"): 1.0, ("z", "y"): 1.0},
            "x*y": {("x", "y"): 1.0, ("y", "x"): 1.0}}
    for text, p in (("(x+y)*z", {"x": -2, "y": 5, "z": -4}), ("x*y", {"x": 3, "y": -2})):
        found = check_second(circuitcli.parse(text), p, use_sympy=False)
        assert found.ok
        for e in found.entries:
            assert e.complex_step == hand[text].get((e.row, e.col), 0.0), (text, e)
    # the neuron: sympy's Hessian of sigmoid(a*x + b*y + c) at 40 digits
    syms = sp.symbols("a b c x y")
    f = 1 / (1 + sp.exp(-(syms[0] * syms[3] + syms[1] * syms[4] + syms[2])))
    at = {s: NEURON[str(s)] for s in syms}
    found = check_second(circuitcli.parse("sigmoid(a*x + b*y + c)"), NEURON, use_sympy=False)
    for e in found.entries:
        truth = sp.diff(f, sp.Symbol(e.row), sp.Symbol(e.col)).evalf(40, subs=at)
        assert abs(e.complex_step - float(truth)) <= 4 * 2.0**-52 * abs(float(truth)), e
    assert found.ok


def test_without_sympy_either_witness_refutes(monkeypatch):
    from circuitcli.methods import check2

    # a zero guard that reads only values: the duals and the complex step (0 + ih compares as
    # 0) both take the constant branch at y = 0; central differences see the slope of 1
    with monkeypatch.context() as m:
        _plant(m, _rewritten(GATES["mul"], "y * g if abs(y) > 0 else 0.0",
                             "x * g if abs(x) > 0 else 0.0"))
        found = check2.check_second(circuitcli.parse("q = x + 1; f = q * y + sin(x)"),
                                    {"x": 0.5, "y": 0.0}, use_sympy=False)
    bad = [e for e in found.entries if e.ok is False]
    assert [(e.row, e.col) for e in bad] == [("x", "y")]
    assert bad[0].analytic == 0.0 and abs(bad[0].numerical - 1.0) < 1e-8
    assert bad[0].note == "differs from the numerical estimate beyond its error"
    # an analytic Hessian off by 1e-11 relative: far inside the differences' error bound
    # (about 6e-11 here), hundreds of ulps away from the complex step
    exact = check2.hessian_of

    def slipped(*args, **kwargs):
        g, H = exact(*args, **kwargs)
        return g, [[v * (1 + 1e-11) for v in row] for row in H]

    monkeypatch.setattr(check2, "hessian_of", slipped)
    found = check2.check_second(circuitcli.parse("x*y + sin(x)"), {"x": 0.5, "y": 2.0},
                                use_sympy=False)
    bad = {(e.row, e.col): e.note for e in found.entries if e.ok is False}
    assert bad == {(r, c): "differs from the complex step"
                   for r, c in (("x", "x"), ("x", "y"), ("y", "x"))}


def test_the_complex_step_keeps_the_float_values_and_a_tiny_imaginary_part():
    # cos(3 ** z) at 30: numpy's complex 3 ** 30 is off by 0.1 in its real part, and a
    # step of 1e-20 moves 3 ** z by 7e-5, where sinh(7e-5) != 7e-5 at the 1e-9 level
    from circuitcli.methods.check2 import check_second

    mp.mp.dps = 50
    u, ln3 = mp.mpf(3) ** 30, mp.log(3)
    truth = float(-mp.cos(u) * (u * ln3) ** 2 - mp.sin(u) * u * ln3**2)
    found = check_second(circuitcli.parse("cos(3 ** z)"), {"z": 30.0}, use_sympy=False)
    (entry,) = found.entries
    assert abs(entry.complex_step - truth) <= 1e-13 * abs(truth)
    assert abs(entry.analytic - truth) <= 1e-13 * abs(truth) and found.ok


@settings(max_examples=30, deadline=None)
@given(expressions(max_leaves=6), st.randoms(use_true_random=False))
def test_without_sympy_no_false_alarm_where_sympy_agrees(text, rnd):
    from circuitcli.methods.check2 import check_second

    c = circuitcli.parse(text)
    p = {k: v for k, v in point(rnd).items() if k in c.inputs}
    try:
        r = c.grad(**p)
        with_sympy = check_second(c, c.values_for(p))
        without = check_second(c, c.values_for(p), use_sympy=False)
    except CircuitError:
        return
    if r.kinks or r.warnings or not with_sympy.exact_used or not with_sympy.ok:
        return
    assert without.ok, (text, p, [e for e in without.entries if e.ok is False])


@pytest.mark.parametrize("width", (40, 60, 80, 120))
def test_check_order_2_keeps_every_number_at_any_width(width):
    from test_widths import assert_numbers, numbers_in, run

    args = ["check", "neuron.circuit", "--order", "2"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    # "d²": the 2 of the notation; "all 25 judged entries agree"
    assert_numbers(text, [*numbers_in(doc), 2, len(doc["entries"])])
    assert max(len(line) for line in text.splitlines()) <= width
    assert "complex step" in text


def test_check_order_2_at_a_kink_flags_and_does_not_judge():
    r = invoke("check", "relu(x)*y", "x=0", "y=2", "--order", "2", "--json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["order"] == 2 and all(e["ok"] is None for e in d["entries"])
    assert d["kinks"] and "kink" in r.stderr


# ---- step --newton and compare's fourth strategy ----------------------------------------------


def test_newton_lands_on_the_top_of_a_quadratic_in_one_step(doc):
    # f = -(x-1)^2 - y^2 has its maximum at (1, 0): one Newton step from anywhere gets there
    d = doc("step", "-(x-1)*(x-1) - y*y", "x=3", "y=2", "--newton")
    assert d["inputs"]["x"]["after"] == 1.0 and d["inputs"]["y"]["after"] == 0.0
    assert d["output"]["after"] == 0.0 and d["eigenvalues"] == [-2.0, -2.0]
    # n = 2 inputs: 2 forward and 2 backward passes over duals, and one forward to measure
    assert d["passes"] == {"forward": 3, "backward": 2}
    # like step, it remembers where it landed
    assert doc("show")["inputs"] == {"x": 1.0, "y": 0.0}


def test_newton_minimizes_a_bowl(doc):
    d = doc("step", "x*x + 3*y*y", "x=3", "y=2", "--newton", "--minimize")
    assert d["output"]["after"] == 0.0 and d["scales"] == [1.0]


def test_newton_refuses_the_wrong_curvature_and_a_singular_hessian(session_file):
    assert invoke("grad", "x*y", "x=3", "y=2").exit_code == 0
    before = session_file.read_bytes()
    r = invoke("step", "--newton")
    assert r.exit_code == 1 and "curves up along 1 direction" in r.stderr
    assert "values are unchanged" in r.stderr and "Traceback" not in r.output
    assert session_file.read_bytes() == before
    r = invoke("step", "x + y*y", "x=1", "y=2", "--newton", "--minimize")
    assert r.exit_code == 1 and "singular" in r.stderr
    # damping makes the flat direction usable: H + L I is positive definite
    r = invoke("step", "x*x + y", "x=1", "y=2", "--newton", "--minimize", "--damping", "1",
               "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["output"]["after"] < 3.0
    r = invoke("step", "x*y", "x=1", "y=2", "--damping", "1")
    assert r.exit_code == 2 and "--newton" in r.stderr


def test_compare_shows_newton_as_a_fourth_strategy_with_its_cost(doc):
    d = doc("compare", "-(x-1)*(x-1) - y*y", "x=3", "y=2", "--seed", "1")
    names = [s["name"] for s in d["strategies"]]
    assert names[:3] == ["random search", "numerical gradient", "analytic gradient"]
    assert names[3] == "newton step"
    newton = d["strategies"][3]
    assert newton["output"] == 0.0 and newton["forward"] == 3 and newton["backward"] == 2
    r = invoke("compare", "x*y", "x=3", "y=2", "--seed", "1")
    assert r.exit_code == 0 and "newton step: refused" in r.stdout


# ---- explain --forward and the REPL's :hessian ----------------------------------------------


def test_explain_forward_tells_the_story_node_by_node(doc, session_file):
    r = invoke("explain", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--forward", "--wrt",
               "x")
    assert r.exit_code == 0
    # by hand: dq = 1*1 + 1*0 = 1; df = z*dq + q*dz = -4*1 + 3*0 = -4
    assert "tangent of q: 1 × 1 + 1 × 0 = 1" in r.stdout
    assert "tangent of f: -4 × 1 + 3 × 0 = -4" in r.stdout
    d = doc("explain", "a*a", "a=3", "--forward")
    assert d["output"]["tangent"] == 6.0  # d(a²)/da = 2a, a node used twice: 3 + 3
    assert [(t["local"], t["tangent"]) for t in d["nodes"][0]["tangents_in"]] == [(3, 1), (3, 1)]
    assert not session_file.exists()  # explain only looks
    r = invoke("explain", "x*y", "x=1", "y=2", "--wrt", "x")
    assert r.exit_code == 2 and "--forward" in r.stderr


def test_repl_hessian():
    from click.testing import CliRunner

    from circuitcli.cli import main

    r = CliRunner().invoke(main, ["repl"], input="x = 3\ny = -2\nx*y\n:hessian\n"
                           ":hessian x=1 y=2\n:hessian q=1\n")
    assert "eigenvalues: -1, 1" in r.stdout and "saddle" in r.stdout
    # H (1, 2) for x*y = (2, 1), by hand
    assert "Hessian-vector product along x=1, y=2" in r.stdout
    assert "no input named q" in r.stderr


def test_the_hessian_in_vector_mode_is_the_hvps_side_by_side():
    # hessian_of carries all n directions in one pass (numpy tangents); each column must be
    # the scalar forward-over-reverse HVP along that input, to rounding (sqrt's slope is
    # taken as a product there, a quotient here), inf and nan where it has them
    rnd = random.Random(11)
    compared = 0
    for n in range(400):
        c, p = R.random_case(rnd, n % 2 == 1)
        try:
            c.grad(**p)
        except CircuitError:
            continue
        names = list(c.inputs)
        if not names:
            continue
        values = c.values_for(p)
        g, H = hessian_of(c, values)
        for k, name in enumerate(names):
            g1, col = hvp(c, values, {name: 1.0})
            assert all(_same(a, b) for a, b in zip(g, g1)), c.text
            for r in range(len(names)):
                a, b = H[r][k], col[r]
                assert _same(a, b) or (math.isfinite(a) and abs(a - b) <= 1e-15 * abs(b)), \
                    (c.text, p, r, k, a, b)
        compared += 1
    assert compared > 200


def test_a_jacobian_output_named_twice_is_refused():
    """`--of q,q,r` showed q's row twice; a repeated name is a slip, said in one line."""
    r = invoke("grad", "q = x*y; r = x+y", "x=1", "y=2", "--of", "q,q,r")
    assert r.exit_code == 2 and "q is given twice" in r.stderr and "--of" in r.stderr
    assert r.stdout == ""
