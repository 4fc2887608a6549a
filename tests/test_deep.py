"""No recursion anywhere: deep nesting and million-gate chains parse, run and differentiate."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

import circuitcli
from circuitcli.cli import main


def test_100k_nested_parentheses():
    text = "(" * 100_000 + "x * 2" + ")" * 100_000
    r = circuitcli.parse(text).grad(x=3)
    assert (r.output, r.input_grads) == (6.0, {"x": 2.0})


def test_100k_unary_minuses():
    text = "-" * 100_000 + "x"  # an even number of minuses: +x
    r = circuitcli.parse(text).grad(x=3)
    assert (r.output, r.input_grads) == (3.0, {"x": 1.0})
    r = circuitcli.parse("-" + text).grad(x=3)
    assert (r.output, r.input_grads) == (-3.0, {"x": -1.0})


def test_million_gate_chain():
    # x + x + ... + x, a million add gates deep: the output is (n+1) x, the gradient n+1
    n = 1_000_000
    circuit = circuitcli.parse("x" + "+x" * n)
    assert len(circuit) == n + 1
    r = circuit.grad(x=0.5)
    assert r.output == (n + 1) * 0.5
    assert r.input_grads == {"x": float(n + 1)}


def test_long_statement_chain_through_the_cli(tmp_path):
    # t1 = t0 * 1.000001, ... : the gradient is the product of the factors
    n = 100_000
    lines = ["t0 = 1"] + [f"t{k} = t{k - 1} * 1.000001" for k in range(1, n + 1)]
    path = tmp_path / "chain.circuit"
    path.write_text("\n".join(lines))
    r = CliRunner().invoke(main, ["grad", str(path), "--json", "--no-nodes"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    expected = 1.000001 ** n
    assert abs(doc["inputs"]["t0"]["grad"] - expected) <= 1e-9 * expected


def test_error_deep_in_a_long_line_shows_a_window():
    text = "x+" * 50_000 + "2y"
    try:
        circuitcli.parse(text)
    except circuitcli.CircuitError as err:
        first, line, caret = err.render().splitlines()
        assert "write 2*y" in first
        assert len(line) <= 110
        assert line[caret.index("^")] == "y"  # the name that follows the number
    else:
        raise AssertionError("2y must be an error")


def test_grad_imports_neither_sympy_nor_numpy():
    code = (
        "import sys\n"
        "from circuitcli.cli import main\n"
        "try:\n"
        "    main(['grad', 'sigmoid(a*x + b)', 'a=1', 'x=2', 'b=3'], standalone_mode=False)\n"
        "finally:\n"
        "    print('HEAVY', sorted(m for m in ('sympy', 'numpy', 'mpmath') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"CIRCUIT_SESSION": "off", "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout
