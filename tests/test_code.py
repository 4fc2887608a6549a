"""`circuit code`: the backprop-ninja program reads like the notebook and runs to `circuit grad`'s
gradients. The tests execute the text the tool generated (never anything a user typed)."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import circuitcli
from circuitcli.cli import main
from circuitcli.core.backend import REAL
from circuitcli.core.gates import FUNCTIONS, GATES, OPERATORS, Gate
from circuitcli.core.syntax import CircuitError
from circuitcli.io.bundled import samples
from circuitcli.render.code import ninja_code, python_names

SAMPLES = sorted(f"{name}.circuit" for name in samples())


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def execute(program: str, namespace: dict | None = None) -> tuple[dict, dict[str, float]]:
    """Run generated code; returns its variables and the `name = value` lines it printed."""
    ns = dict(namespace or {})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(program, "<circuit code>", "exec"), ns)
    printed = {}
    for line in out.getvalue().splitlines():
        name, _, value = line.partition(" = ")
        printed[name] = float(value)
    return ns, printed


def grad_json(*args: str) -> dict:
    r = run("grad", *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def close(a: float, b: float, scale: float = 1.0) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * scale)


def section(text: str, title: str) -> list[str]:
    """The statements under `# forward pass` or `# backward pass ...`, without comments."""
    lines = text.split("\n# " + title, 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [line.split("  #")[0].rstrip() for line in lines]


def comments(text: str) -> dict[str, str]:
    """statement -> its comment."""
    return {line.split("  #")[0].rstrip(): line.split("  # ", 1)[1] for line in text.splitlines()
            if "  # " in line and not line.startswith("#")}


def code_lines(text: str) -> list[str]:
    """The program's statements without their comments."""
    return [line.split("  #")[0].rstrip() for line in text.splitlines()
            if line and not line.startswith("#")]


# ---- the notebook's examples ------------------------------------------------------------------


def test_chain_reads_like_the_notebook():
    r = run("code", "chain.circuit")
    assert r.exit_code == 0, r.output
    assert code_lines(r.output) == [
        "q = x + y", "f = q * z",
        # the notebook's dq = z * df, where a factor of exactly 0 passes back 0 (even an inf)
        "df = 1.0", "dq = 0.0 if df == 0 else z * df if z != 0 else 0.0",
        "dz = 0.0 if df == 0 else q * df if q != 0 else 0.0",
        "dx = 1.0 * dq", "dy = 1.0 * dq",
        # grad sums pulls from 0.0: a first pull of -0.0 reads 0.0 (cos at 0: -sin(0) * 1)
        "dx += 0.0; dy += 0.0; dz += 0.0",
    ]
    assert "# inputs: x, y, z (assign them first, or use circuit code --values)" in r.output


def test_chain_runs_to_the_notebook_gradients():
    r = run("code", "chain.circuit", "--values")
    _, printed = execute(r.output)
    # notebook: f = -12 at (-2, 5, -4); df/dx = df/dy = -4, df/dz = 3
    assert printed == {"f": -12.0, "dx": -4.0, "dy": -4.0, "dz": 3.0}


def test_neuron_reads_like_the_notebook_and_gives_its_numbers():
    r = run("code", "neuron.circuit", "--values")
    lines = code_lines(r.output)
    # sigmoid is written so that neither branch overflows (x = -800 runs), and its slope is
    # taken from the input: the notebook's s * (1 - s) cancels once s rounds to 1
    assert "def sigmoid(x):" in lines and "def dsigmoid(x, g):" in lines
    assert "s = sigmoid(axpbypc)" in lines
    backward = lines[lines.index("ds = 1.0"):]
    assert backward[:4] == ["ds = 1.0", "daxpbypc = 0.0 if ds == 0 else dsigmoid(axpbypc, ds)",
                            "daxpby = 1.0 * daxpbypc", "dc = 1.0 * daxpbypc"]
    assert {"da = 0.0 if dax == 0 else x * dax if x != 0 else 0.0",
            "dx = 0.0 if dax == 0 else a * dax if a != 0 else 0.0",
            "db = 0.0 if dby == 0 else y * dby if y != 0 else 0.0",
            "dy = 0.0 if dby == 0 else b * dby if b != 0 else 0.0"} <= set(backward)
    _, printed = execute(r.output)
    # the notebook's numbers (written in samples/neuron.circuit)
    expected = {"s": 0.8807970779778823, "da": -0.10499358540350662, "db": 0.31498075621051985,
                "dc": 0.10499358540350662, "dx": 0.10499358540350662, "dy": 0.20998717080701323}
    assert printed.keys() == expected.keys()
    assert all(close(printed[k], v) for k, v in expected.items())


def test_ex8_square_chain_as_an_expression():
    r = run("code", "((a*b+c)*d)**2", "a=3", "b=-2", "c=5", "d=0.5", "--values")
    lines = code_lines(r.output)
    assert section(r.output, "inputs") == ["a = 3.0", "b = -2.0", "c = 5.0", "d = 0.5"]
    assert section(r.output, "forward pass") == [
        "mul1 = a * b", "add1 = mul1 + c", "mul2 = add1 * d", "out = power(mul2, 2)"]
    # the notebook's dx2 = 2 * x2 * dx, as y * x ** (y - 1), kept in range by a helper
    assert "dmul2 = 0.0 if dout == 0 else dpow(dout, mul2, 2, out) if mul2 != 0 else 0.0" in lines
    assert {"dadd1 = 0.0 if dmul2 == 0 else d * dmul2 if d != 0 else 0.0",
            "dd = 0.0 if dmul2 == 0 else add1 * dmul2 if add1 != 0 else 0.0",
            "dmul1 = 1.0 * dadd1", "dc = 1.0 * dadd1",
            "da = 0.0 if dmul1 == 0 else b * dmul1 if b != 0 else 0.0",
            "db = 0.0 if dmul1 == 0 else a * dmul1 if a != 0 else 0.0"} <= set(lines)
    _, printed = execute(r.output)
    # by hand: x1 = -1, x2 = -0.5, x = 0.25; dx2 = -1, dd = 1, dx1 = -0.5, da = 1, db = -1.5
    assert printed == {"out": 0.25, "da": 1.0, "db": -1.5, "dc": -0.5, "dd": 1.0}


def test_ex8_square_chain_file_accumulates_with_plus_equals():
    lines = code_lines(run("code", "ex8_square_chain.circuit").output)
    at = lines.index("dx2 = 0.0 if dx == 0 else x2 * dx if x2 != 0 else 0.0")
    assert lines[at + 1] == (
        "dx2 += 0.0 if dx == 0 else x2 * dx if x2 != 0 else 0.0")  # x = x2 * x2: used twice
    assert lines[at + 2:at + 4] == ["dx1 = 0.0 if dx2 == 0 else d * dx2 if d != 0 else 0.0",
                                    "dd = 0.0 if dx2 == 0 else x1 * dx2 if x1 != 0 else 0.0"]


def test_the_notebooks_two_mistakes_are_corrected():
    # Ex-4: the notebook writes da = db * dx; the multiply gate's rule is da = b * (pull)
    ex4 = code_lines(run("code", "ex4_mul_add.circuit").output)
    assert {"da = 0.0 if dmul1 == 0 else b * dmul1 if b != 0 else 0.0",
            "db = 0.0 if dmul1 == 0 else a * dmul1 if a != 0 else 0.0",
            "dc = 1.0 * dx"} <= set(ex4)
    # division: the notebook writes da = -(1.0)/(a*a) and forgets the pull from above; the
    # rule takes -x / a**2 as -(pull / a) * x, which stays in range where a * a would not
    recip = code_lines(run("code", "ex8_reciprocal.circuit").output)
    assert "da = 0.0 if dx == 0 else -(dx / a) * x" in recip and "x = 1.0 / a" in recip
    div2 = code_lines(run("code", "ex8_division.circuit").output)
    assert {"dx1 = 0.0 if dx == 0 else x3 * dx if x3 != 0 else 0.0",
            "dx3 = 0.0 if dx == 0 else x1 * dx if x1 != 0 else 0.0",
            "dx2 = 0.0 if dx3 == 0 else -(dx3 / x2) * x3", "da = 1.0 * dx1",
            "dd = 1.0 * dx2"} <= set(div2)


def test_square_and_max_rules():
    assert code_lines(run("code", "ex6_square.circuit").output)[-3:] == [
        "da = 0.0 if dx == 0 else a * dx if a != 0 else 0.0",
        "da += 0.0 if dx == 0 else a * dx if a != 0 else 0.0", "da += 0.0"]
    assert code_lines(run("code", "ex8_max.circuit").output)[-3:-1] == [
        "da = 0.0 if dx == 0 else dx / ties(x, a, b) if a == x else nan if x != x else 0.0",
        "db = 0.0 if dx == 0 else dx / ties(x, a, b) if b == x else nan if x != x else 0.0"]


def test_every_line_is_commented_with_its_gate():
    text = run("code", "ex8_division.circuit", "--values").output
    notes = comments(text)
    assert [notes[line] for line in section(text, "inputs")] == ["input"] * 4
    assert [notes[line] for line in section(text, "forward pass")] == [
        "add", "add", "div", "mul"]
    backward = section(text, "backward pass")
    assert notes[backward[0]] == "the pull on the output from above"
    assert [notes[line] for line in backward[1:]] == [
        "mul: x = x1 * x3", "mul: x = x1 * x3", "div: x3 = 1.0 / x2",
        "add: x2 = c + d", "add: x2 = c + d", "add: x1 = a + b", "add: x1 = a + b",
        "so that -0.0 reads 0.0, as in grad"]


def test_forward_lines_come_first_then_backward_in_reverse():
    text = run("code", "neuron.circuit").output
    lines = code_lines(text.split("# forward pass")[1])
    assigned = [line.split()[0] for line in lines if " = " in line or " += " in line]
    forward = [n for n in assigned if not n.startswith("d")]
    assert forward == ["ax", "by", "axpby", "axpbypc", "s"]
    backward = section(text, "backward pass")
    assert backward[0] == "ds = 1.0"
    # a gradient is used as the pull only once it is complete: nothing adds to it later
    for k, line in enumerate(backward[1:], 1):
        pull = line.split()[-1]
        assert all(later.split()[0] != pull for later in backward[k + 1:]), line
    # the pull, then a line per use: sigmoid, 4 binary; then -0.0 made 0.0 as grad's sums do
    assert len(backward) == 1 + 1 + 2 * 4 + 1
    assert backward[-1] == "da += 0.0; db += 0.0; dc += 0.0; dx += 0.0; dy += 0.0"


# ---- every sample runs to circuit grad's gradients --------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_runs_to_the_same_gradients(sample):
    text = samples()[sample[:-8]][0].read_text()
    circuit = circuitcli.parse(text)
    missing = [n for n in circuit.inputs if n not in circuit.defaults]
    # samples meant for training give no parameter values: use some, the same on both sides
    values = [f"{n}={0.1 * (k % 7) - 0.3:g}" for k, n in enumerate(missing)]
    r = run("code", sample, *values, "--values")
    assert r.exit_code == 0, r.output
    _, printed = execute(r.stdout)
    doc = grad_json(sample, *values)
    scale = max([1.0, *(abs(v["grad"]) for v in doc["inputs"].values())])
    assert close(printed[doc["output"]["name"]], doc["output"]["value"])
    assert {k[1:] for k in printed if k.startswith("d")} >= set(doc["inputs"])
    for name, entry in doc["inputs"].items():
        assert close(printed["d" + name], entry["grad"], scale), name


# ---- random circuits --------------------------------------------------------------------------

NAMES = ["a", "b", "c"]
# every gate of the table, so a new gate is drawn here too: operators by their spelling,
# functions called by name (variadic ones with two and three arguments)
_SPELL = {"+": "({}) + ({})", "-": "({}) - ({})", "*": "({}) * ({})", "/": "({}) / ({})",
          "**": "({}) ** ({})", "neg": "-({})"}
UNARY = sorted([*(f"{n}({{}})" for n, g in FUNCTIONS.items() if g.arity in (1, None)),
                *(_SPELL[op] for op, g in OPERATORS.items() if g.arity == 1),
                "({}) ** 2", "({}) ** 3", "({}) / 2"])
BINARY = sorted([*(f"{n}({{}}, {{}})" for n, g in FUNCTIONS.items() if g.arity in (2, None)),
                 *(_SPELL[op] for op, g in OPERATORS.items() if g.arity == 2),
                 "min({}, {}, 0.5)", "(abs({}) + 0.5) ** ({})"])
# ordinary numbers and the places where rules used to break: saturation, exp's overflow
# edge, tiny and huge numbers, zeros (kinks, 0 ** 0)
VALUES = st.one_of(st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)),
                   st.sampled_from([0.0, 1.0, -1.0, 20.0, 40.0, 700.0, 710.0, -800.0, 1e-300,
                                    1e300, -1e-200, 3e-320]))


def test_the_generator_draws_every_gate():
    drawn = " ".join(UNARY + BINARY)
    assert all(f"{n}(" in drawn for n in FUNCTIONS)
    assert all(_SPELL[op].format("", "").strip("() ") in drawn for op in OPERATORS)


def expressions(leaves):
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda f, x: f.format(x), st.sampled_from(UNARY), inner),
            st.builds(lambda f, x, y: f.format(x, y), st.sampled_from(BINARY), inner, inner)),
        max_leaves=6)


@st.composite
def programs(draw):
    """Two to four statements, each over the inputs and earlier statements (so nodes get reused)."""
    lines = []
    names = list(NAMES)
    for k in range(draw(st.integers(2, 4))):
        leaves = st.one_of(st.sampled_from(names), st.sampled_from(["2", "0.5", "3", "0"]))
        lines.append(f"t{k} = {draw(expressions(leaves))}")
        names.append(f"t{k}")
    return "\n".join(lines), {n: draw(VALUES) for n in NAMES}


def same(a: float, b: float) -> bool:
    """Equal as numbers, nan equal to nan (the sign of a zero aside)."""
    return a == b or (a != a and b != b)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_circuits_run_to_the_same_numbers_bit_for_bit(program):
    text, values = program
    try:
        circuit = circuitcli.parse(text)
        values = {n: v for n, v in values.items() if n in circuit.inputs}
        result = circuit.grad(**values)
    except CircuitError:
        assume(False)  # outside a gate's domain: grad refuses, with the node and a caret
    source = ninja_code(circuit, circuit.values_for(values))
    ns, _ = execute(source)  # inf and nan included: the program never raises here
    assert same(ns[circuit.output_name], result.output), source
    for i in range(circuit.output + 1):
        if circuit.args[i] and circuit.live[i]:
            name = python_names(circuit)[i]
            assert same(ns[name], result.values[i]), (name, source)
    for name, g in result.input_grads.items():
        assert same(ns["d" + name], g), (name, source)


def test_saturated_and_overflowing_points_run():
    # the textbook sigmoid raised OverflowError at -800; pow's exponent rule at a base <= 0
    for text, values in [("sigmoid(x)", {"x": -800.0}), ("pow(x, y)", {"x": -2.0, "y": 3.0}),
                         ("pow(x, y)", {"x": 0.0, "y": 0.5}), ("exp(x) * 0", {"x": 1000.0})]:
        circuit = circuitcli.parse(text)
        result = circuit.grad(**values)
        ns, _ = execute(ninja_code(circuit, values))
        for name, g in result.input_grads.items():
            assert same(ns["d" + name], g), (text, name)


# ---- names, pulls, outputs --------------------------------------------------------------------


def test_names_python_would_misread_are_renamed():
    text = "ef = x * 2\ndx = ef * x\nmath = 3\nf = dx + lambda * math"
    circuit = circuitcli.parse(text)
    values = circuit.values_for({"x": 1.5, "lambda": 2})
    source = ninja_code(circuit, values)
    ast.parse(source)  # valid Python, though `lambda` is a keyword and `math` a module
    _, printed = execute(source)
    grads = circuit.grad(**values).input_grads  # x: 2*2x = 6, lambda: 3, math: 2
    assert grads == {"x": 6.0, "lambda": 3.0, "math": 2.0}
    assert printed == {"f": 10.5, "dx": 6.0, "dlambda_": 3.0, "dmath_": 2.0}
    # the user's dx is a value here, so it must not be the gradient of x; and the gradient
    # of a node ef would be `def`, so ef becomes ef_
    assert section(source, "forward pass")[:2] == ["ef_ = x * 2", "dx_ = ef_ * x"]


def test_without_values_the_program_runs_once_the_inputs_are_set():
    source = run("code", "(x+y)*z").stdout
    assert "x = " not in source.split("# forward pass")[0]
    ns, printed = execute(source, {"x": -2.0, "y": 5.0, "z": -4.0})
    assert printed == {}
    assert (ns["out"], ns["dx"], ns["dy"], ns["dz"]) == (-12.0, -4.0, -4.0, 3.0)


def test_pull_scales_the_gradients():
    _, printed = execute(run("code", "chain.circuit", "--values", "--pull", "-0.5").stdout)
    assert printed == {"f": -12.0, "dx": 2.0, "dy": 2.0, "dz": -1.5}


def test_an_input_the_output_ignores_gets_zero():
    source = run("code", "a = 1\nb = 2\nf = a * 3", "--values").stdout
    assert comments(source)["db = 0.0"] == "the output does not depend on b"
    assert execute(source)[1] == {"f": 3.0, "da": 3.0, "db": 0.0}


def test_output_option_picks_an_inner_node():
    _, printed = execute(run("code", "chain.circuit", "--of", "q", "--values").stdout)
    assert printed == {"q": 3.0, "dx": 1.0, "dy": 1.0, "dz": 0.0}


def test_missing_values_with_values_flag_is_a_usage_error():
    r = run("code", "(x+y)*z", "x=1", "--values")
    assert r.exit_code == 2
    assert "no value for y, z" in r.output and "Traceback" not in r.output


def test_infinite_values_come_from_math():
    source = ninja_code(circuitcli.parse("x * 2"), {"x": math.inf})
    assert "x = math.inf" in source and source.startswith("# backprop ninja")
    assert "import math" in source
    assert execute(source)[1] == {"out": math.inf, "dx": 2.0}


def test_a_20000_deep_chain():
    circuit = circuitcli.parse("x" + "*1.0001" * 20_000)
    source = ninja_code(circuit, {"x": 1.0})
    _, printed = execute(source)
    assert close(printed["dx"], circuit.grad(x=1.0).input_grads["x"])


# ---- a new gate needs no change in the code generator -----------------------------------------


def test_a_new_gate_gets_its_code_from_the_table(monkeypatch):
    softplus = Gate(name="softplus", arity=1, function=True, rule="log(1.0 + exp(x))",
                    pull=("g / (1.0 + exp(-x))",), display="softplus({0})",
                    sympy=lambda sp, x: sp.log(1 + sp.exp(x)), stem="sp")
    monkeypatch.setitem(GATES, "softplus", softplus)
    monkeypatch.setitem(FUNCTIONS, "softplus", softplus)
    circuit = circuitcli.parse("f = softplus(x * y)")
    source = ninja_code(circuit, {"x": 0.5, "y": -3.0})
    assert comments(source)["f = log(1.0 + exp(mul1))"] == "softplus"
    _, printed = execute(source)
    # d/dx log(1 + e^(xy)) = y * sigmoid(xy), by hand
    s = 1 / (1 + math.exp(1.5))
    assert close(printed["dx"], -3.0 * s) and close(printed["dy"], 0.5 * s)
    assert close(printed["f"], softplus.forward(REAL, -1.5))


@pytest.mark.parametrize("text, expected", [
    ("min(-(0), x)", -0.0),  # IEEE: -(0.0) is -0.0, and min(-0.0, 1) is -0.0
    ("0 * -1 + 0 * x", 0.0),  # -0.0 + 0.0 is +0.0 (round to nearest)
    ("min(0 * -1, x)", -0.0),  # 0.0 * -1.0 is -0.0
])
def test_a_gate_of_constants_only_computes_in_floats(text, expected):
    """Found by the page/code/grad stress comparison: `-0` in Python is the integer 0, so
    code wrote a value of 0 where grad has -0.0; constants-only gates are written as floats."""
    r = run("code", text, "x=1", "--values")
    assert r.exit_code == 0, r.output
    _, printed = execute(r.stdout)
    assert math.copysign(1, printed["out"]) == math.copysign(1, expected)
    assert printed["out"] == expected
