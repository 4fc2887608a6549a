"""`circuit explain`: each use's local × pull, summed, is `circuit grad`'s gradient.

The notebook's examples are checked against numbers worked out by hand in this file.
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from random_circuits import VARS, expressions

from circuitcli import CircuitError
from circuitcli.cli import main
from circuitcli.core.evaluate import evaluate
from circuitcli.core.parser import parse
from circuitcli.io.bundled import samples
from circuitcli.methods.explain import edge_contributions, explain

SAMPLES = sorted(f"{name}.circuit" for name in samples())


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def doc(*args: str) -> dict:
    result = run("explain", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def uses(document: dict, name: str) -> list[tuple[str, float, float, float]]:
    node = next(n for n in document["nodes"] if n["name"] == name)
    return [(u["by"], u["local"], u["pull"], u["contribution"]) for u in node["uses"]]


def node(document: dict, name: str) -> dict:
    return next(n for n in document["nodes"] if n["name"] == name)


# ---- the notebook's examples, by hand ----------------------------------------------------


def test_chain_rule_example():
    # f = q * z, q = x + y at x=-2, y=5, z=-4: q = 3, f = -12
    # dq/dx = dq/dy = 1 and df/dq = z = -4, so x and y get 1 × -4; z gets q × 1 = 3
    d = doc("(x+y)*z", "x=-2", "y=5", "z=-4")
    assert d["output"] == {"name": "out", "value": -12.0}
    assert uses(d, "z") == [("out", 3.0, 1.0, 3.0)]
    assert uses(d, "add1") == [("out", -4.0, 1.0, -4.0)]
    assert uses(d, "x") == [("add1", 1.0, -4.0, -4.0)]
    assert uses(d, "y") == [("add1", 1.0, -4.0, -4.0)]
    assert node(d, "x")["grad"] == -4.0 and node(d, "z")["grad"] == 3.0
    assert uses(d, "out") == [] and node(d, "out")["grad"] == 1.0


def test_square_adds_both_uses():
    # a*a at a=3: each use pulls with the other argument, 3, so da = 3 + 3 = 6
    d = doc("a*a", "a=3")
    assert uses(d, "a") == [("out", 3.0, 1.0, 3.0), ("out", 3.0, 1.0, 3.0)]
    assert node(d, "a")["grad"] == 6.0
    text = run("explain", "a*a", "a=3").output
    assert "gradient of a: 3 + 3 = 6" in text
    assert "out = a * a pulls on a: local 3 × pull 1 = 3" in text


def test_micrograd_double_use_needs_the_sum():
    # b = a + a; c = b + b: dc/db = 1 + 1 = 2, dc/da = 2 + 2 = 4
    d = doc("b = a + a; c = b + b", "a=-1.5")
    assert uses(d, "b") == [("c", 1.0, 1.0, 1.0), ("c", 1.0, 1.0, 1.0)]
    assert uses(d, "a") == [("b", 1.0, 2.0, 2.0), ("b", 1.0, 2.0, 2.0)]
    assert node(d, "a")["grad"] == 4.0
    assert "gradient of a: 2 + 2 = 4" in run("explain", "b = a + a; c = b + b", "a=1").output


def test_neuron():
    # f = sigmoid(a*x + b*y + c) at a=1, b=2, c=-3, x=-1, y=3: the sum is 2
    s = 1 / (1 + math.exp(-2.0))
    ds = s * (1 - s)  # sigmoid's local derivative, pulled with 1
    d = doc("neuron.circuit")
    assert d["output"]["value"] == pytest.approx(s, rel=1e-15)
    assert uses(d, "axpbypc")[0][1] == pytest.approx(ds, rel=1e-15)
    for name, by, local in [("a", "ax", -1.0), ("x", "ax", 1.0), ("b", "by", 3.0),
                            ("y", "by", 2.0), ("c", "axpbypc", 1.0)]:
        [(who, loc, pull, contribution)] = uses(d, name)
        assert (who, loc) == (by, local)
        assert pull == pytest.approx(ds, rel=1e-15)
        assert contribution == pytest.approx(local * ds, rel=1e-15)
        assert node(d, name)["grad"] == contribution


@pytest.mark.parametrize(("a", "local", "kink"), [(1.5, 1.0, False), (-2.0, 0.0, False),
                                                  (0.0, 0.0, True)])
def test_relu(a, local, kink):
    # relu passes the pull through where its input is positive and blocks it elsewhere;
    # at exactly 0 it uses the subgradient 0 and says so
    d = doc("relu(a) * 2", f"a={a}")
    [(by, loc, pull, contribution)] = uses(d, "a")
    assert (by, loc, pull, contribution) == ("relu1", local, 2.0, 2.0 * local)
    assert bool(d["kinks"]) is kink
    text = run("explain", "relu(a) * 2", f"a={a}").output
    assert ("kink" in text) is kink


def test_notebook_relu_sample_as_max():
    # x = max(a, 0) at a = 1.5: a wins the max, so da = 1 × dx = 1
    d = doc("ex8_relu.circuit")
    assert uses(d, "a") == [("x", 1.0, 1.0, 1.0)]


# ---- properties: the contributions are the gradient ---------------------------------------


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(),
       st.fixed_dictionaries({v: st.floats(-3, 3, allow_nan=False) for v in VARS}))
def test_contributions_sum_to_the_gradient(text, point):
    circuit = parse(text)
    try:
        result = evaluate(circuit, circuit.values_for({k: point[k] for k in circuit.inputs}))
    except CircuitError:
        assume(False)
    ex = explain(result)
    for i in range(len(circuit)):
        total = ex.total(i)
        g = result.grads[i]
        assert total == g or (total != total and g != g), (text, i, total, g)
        for use in ex.uses[i]:
            # the gate's backward rule is local × pull, ordered to stay in range: equal to
            # the plain product within rounding, and exactly 0 where the slope is 0
            expected = use.local * use.pull
            if use.local == 0:
                assert use.contribution == 0
            elif math.isfinite(expected):
                assert math.isclose(use.contribution, expected, rel_tol=1e-13, abs_tol=1e-300)


def test_every_grad_node_appears_with_its_gradient():
    for sample in SAMPLES:
        path = samples()[sample.removesuffix(".circuit")][0]
        circuit = parse(path.read_text(encoding="utf-8"))
        values = [f"{name}=0.25" for name in circuit.inputs if name not in circuit.defaults]
        g = run("grad", sample, *values, "--json")
        assert g.exit_code == 0, (sample, g.output)
        e = doc(sample, *values)
        grad_nodes = {n["name"]: n["grad"] for n in json.loads(g.stdout)["nodes"]}
        assert {n["name"]: n["grad"] for n in e["nodes"]} == grad_nodes, sample


def test_edge_contributions_follow_each_use():
    circuit = parse("a * a + b")
    result = evaluate(circuit, {"a": 3.0, "b": 1.0})
    flows = edge_contributions(explain(result))
    # a feeds mul1 twice (slots 0 and 1), each carrying 3; mul1 and b each carry 1
    assert flows == {(0, 1, 0): 3.0, (0, 1, 1): 3.0, (1, 3, 0): 1.0, (2, 3, 1): 1.0}


# ---- the command -----------------------------------------------------------------------


def test_forward_pass_comes_first_and_plain_when_piped():
    out = run("explain", "(x+y)*z", "x=-2", "y=5", "z=-4").output
    assert "\x1b[" not in out
    forward = out.index("add1 = x + y = (-2) + 5 = 3")
    assert forward < out.index("out = add1 * z = 3 * (-4) = -12") < out.index("backward")
    # reverse tape order: z before add1 before y before x
    blocks = [out.index(f"\n{name} = ") for name in ("out", "z", "add1", "y", "x")]
    assert blocks == sorted(blocks)


def test_long_circuits_keep_the_strongest_pulls():
    terms = " + ".join(f"{k}*x{k}" for k in range(1, 60))
    values = [f"x{k}=1" for k in range(1, 60)]
    out = run("explain", f"f = {terms}", *values, "--max-rows", "65").output
    assert "nodes left out" in out
    # every input is kept; of the products, the one pulled hardest (by 59) stays
    assert "x59 = 1  (input)" in out and "gradient of x59: 59" in out
    assert "--all" in out
    full = run("explain", f"f = {terms}", *values, "--all").output
    assert "left out" not in full


def test_look_only_the_session_is_unchanged():
    assert run("grad", "x*y", "x=2", "y=3").exit_code == 0
    assert run("explain", "a*a", "a=3").exit_code == 0
    assert run("explain", "x=5").exit_code == 0  # the current circuit, other values, not kept
    shown = run("show").output
    assert "x*y" in shown and "a*a" not in shown
    d = doc()
    assert node(d, "x")["value"] == 2.0


def test_bad_input_is_one_line_exit_2():
    result = run("explain", "log(x)", "x=-1")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert run("explain", "(x+", "x=1").exit_code == 2


def test_json_is_json_alone_with_null_for_inf():
    result = run("explain", "exp(x) * y", "x=1000", "y=0", "--json")
    assert result.exit_code == 0
    d = json.loads(result.stdout)
    assert node(d, "exp1")["value"] is None
    assert d["warnings"] and "warning" in result.stderr


# ---- contributions on the graph's edges -------------------------------------------------


def test_graph_edges_carry_contributions():
    mermaid = run("graph", "a*a", "a=3", "--format", "mermaid").output.splitlines()
    assert mermaid.count('    n0 -->|"3"| n1') == 2  # each use of a hands back 3
    dot = run("graph", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "dot").output
    # x and y each get 1 × -4 (red), add1 gets z = -4, z gets add1 = 3 (green)
    assert dot.count('>-4</FONT>>, color="#b91c1c"];') == 3
    assert 'n3 -> n4 [label=<<FONT COLOR="#15803d" POINT-SIZE="9">3</FONT>>' in dot
    bare = run("graph", "(x+y)*z", "--format", "dot").output  # no values: no labels
    assert "label=<<FONT" not in bare and "  n0 -> n2;" in bare


def test_page_is_one_file_and_cannot_be_broken_out_of(tmp_path):
    from circuitcli.render.html import page_data, page_html
    from circuitcli.render.layout import own_layout

    circuit = parse("(x+y)*z")
    title = "</script><script>alert(1)</script>"
    html = page_html(page_data(circuit, {"x": 1.0, "y": 2.0, "z": 3.0}, title,
                               own_layout(circuit)))
    assert html.count("<script") == 2 and html.count("</script>") == 2
    for word in ("src=", "href=", "@import", "url(http", "fetch("):
        assert word not in html
    result = run("graph", "(x+y)*z", "x=1", "y=2", "z=3", "-o", str(tmp_path / "p.html"))
    assert result.exit_code == 0 and "wrote" in result.stderr
    assert (tmp_path / "p.html").read_text().startswith("<!DOCTYPE html>")


def test_the_page_names_no_gate():
    # the page's arithmetic comes from GATES (render/js.py, generated from the gate table):
    # page.js itself never spells a gate's name as a string or a GATES member
    import re
    from importlib import resources

    from circuitcli.core.gates import GATES
    from circuitcli.render.js import gates_js

    script = resources.files("circuitcli.render.page").joinpath("page.js").read_text()
    for name, gate in GATES.items():
        if gate.arity == 0:
            continue  # inputs and constants: the page reads their values
        assert not re.search(rf"""["'`]{name}["'`]|GATES\.{name}\b""", script), name
        assert re.search(rf"^  \"{name}\": {{$", gates_js(), re.MULTILINE), name
