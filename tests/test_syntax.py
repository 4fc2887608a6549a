"""The expression language: precedence, statements, and errors that point at the column."""

from __future__ import annotations

import math

import pytest

import circuitcli
from circuitcli import CircuitError, parse


def value(text: str, **values: float) -> float:
    return parse(text).forward(**values).output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ** 3 ** 2", 512.0),  # right-associative
        ("2 ^ 3 ^ 2", 512.0),  # ^ is the same as **
        ("-2 ** 2", -4.0),  # ** binds tighter than unary minus
        ("(-2) ** 2", 4.0),
        ("2 ** -1", 0.5),
        ("2 ** -1 ** 2", 0.5),  # 2 ** (-(1 ** 2))
        ("--3", 3.0),
        ("+-+3", -3.0),
        ("-3 * 2", -6.0),
        ("8 / 4 / 2", 1.0),  # left-associative
        ("10 - 4 - 3", 3.0),
        ("1e-3 * 1000", 1.0),
        (".5 + 0.25", 0.75),
        ("pow(2, 10)", 1024.0),
        ("max(1, 7, 3) + min(4, -2)", 5.0),
        ("max(5)", 5.0),
        ("abs(-3) + sqrt(16) + exp(0) + log(1)", 8.0),
        ("relu(-2) + relu(2)", 2.0),
        ("sin(0) + cos(0) + tanh(0)", 1.0),
        ("sigmoid(0)", 0.5),
    ],
)
def test_constant_expressions(text, expected):
    assert value(text) == expected


def test_minus_x_squared():
    assert value("-x**2", x=3) == -9.0
    assert parse("-x**2").grad(x=3).input_grads == {"x": -6.0}


def test_statements_names_and_defaults():
    c = parse("a = -4; b = 2\nq = a * b  # a comment\n\n# another\nf = q + 1\n")
    r = c.grad()
    assert r.output == -7.0
    assert c.output_name == "f"
    assert r.input_grads == {"a": 2.0, "b": -4.0}
    assert c.defaults == {"a": -4.0, "b": 2.0}


def test_command_line_values_override_defaults():
    assert parse("a = 1; f = a * 3").grad(a=2).output == 6.0


def test_newline_inside_parentheses_continues():
    assert value("(1 +\n 2) * 3") == 9.0


def test_output_option_picks_a_named_node():
    c = parse("q = x + y; f = q * z", output="q")
    assert c.grad(x=1, y=2, z=3).input_grads == {"x": 1.0, "y": 1.0, "z": 0.0}


def test_reused_variable_is_one_node():
    c = parse("a * a")
    assert len(c.inputs) == 1
    assert c.grad(a=3).input_grads == {"a": 6.0}


def test_alias_names_the_same_node():
    c = parse("x = 2; y = x; f = y * y")
    assert c.grad().input_grads == {"x": 4.0}


def error_of(text: str, **values: float) -> CircuitError:
    with pytest.raises(CircuitError) as info:
        circuitcli.parse(text).grad(**values)
    return info.value


def caret_column(err: CircuitError) -> int:
    """The 1-based column the caret line points at."""
    caret_line = err.render().splitlines()[-1]
    return len(caret_line) - len(caret_line.lstrip()) - 1  # two spaces of indent, then ^


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("2x", "write 2*x, not 2x", 2),
        ("(a+b)(c+d)", "implicit multiplication", 6),
        ("x y", "implicit multiplication", 3),
        ("sigmod(x)", "did you mean sigmoid?", 1),
        ("relu(x, y)", "relu() takes 1 argument, got 2", 1),
        ("pow(x)", "pow() takes 2 arguments, got 1", 1),
        ("max()", "at least 1 argument", 1),
        ("x + ", "ends early", 4),
        ("((x)", "never closed", 1),
        ("x)", "unmatched ')'", 2),
        ("x $ y", "unexpected character '$'", 3),
        ("x < y", "the operators are", 3),
        ("*x", "needs something on its left", 1),
        ("f(x, )", "expected an expression", 6),
        ("x, y", "outside a function call", 2),
        ("x = = 2", "unexpected '='", 5),
        ("q = x; q = 2", "defined twice", 8),
        ("a = b; b = 3", "used before its definition", 5),
        ("a = a + 1", "its own definition", 5),
        ("sin = 3", "is a function", 1),
        ("exp + 1", "is a function", 1),
        ("q = 1; x + 1; y", "only the last statement", 8),
    ],
)
def test_errors_point_at_the_column(text, fragment, column):
    err = error_of(text, x=1, y=1)
    assert fragment in err.message
    assert caret_column(err) == column, err.render()
    first, line, _caret = err.render().splitlines()
    assert first.startswith("error: 1:")
    assert line.strip() == text.splitlines()[0].strip() or text in line


def test_error_on_a_later_line_names_that_line():
    err = error_of("a = 1\nb = 2\nf = a +* b")
    assert err.located()[:2] == (3, 8)
    assert "f = a +* b" in err.render()


def test_missing_value_names_the_variable():
    err = error_of("x * y", x=1)
    assert "no value for y" in err.message


def test_unknown_input_name_suggests():
    with pytest.raises(CircuitError, match="did you mean alpha"):
        parse("alpha * 2").grad(alpa=1)


def test_intermediate_node_is_not_an_input():
    with pytest.raises(CircuitError, match="computed by the circuit"):
        parse("q = x + 1; q * 2").grad(x=1, q=3)


def test_empty_circuit():
    with pytest.raises(CircuitError, match="empty"):
        parse("  # nothing\n\n")


@pytest.mark.parametrize(
    ("text", "values", "fragment"),
    [
        ("q = x - y; log(q)", {"x": 1, "y": 4}, "log(q): argument is -3 at node q = x - y"),
        ("sqrt(x)", {"x": -1}, "sqrt(x): argument is -1"),
        ("x / y", {"x": 1, "y": 0}, "division by zero"),
        ("x ** 0.5", {"x": -8}, "not a real number"),
        ("0 ** x", {"x": -1}, "0 to a negative power"),
        ("log(x)", {"x": 0}, "log needs a positive number"),
    ],
)
def test_domain_errors_name_the_node(text, values, fragment):
    err = error_of(text, **values)
    assert fragment in err.message, err.message
    assert "^" in err.render()


def test_overflow_is_a_warning_not_a_crash():
    r = parse("exp(x) * 2").grad(x=1000)
    assert math.isinf(r.output)
    assert any("exp(x) is inf" in w for w in r.warnings)
    assert len(r.warnings) >= 1


def test_sigmoid_is_stable_at_both_ends():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low = parse("sigmoid(x)").grad(x=-1000)
        high = parse("sigmoid(x)").grad(x=1000)
    assert low.output == 0.0 and high.output == 1.0
    assert low.input_grads == {"x": 0.0} and high.input_grads == {"x": 0.0}
    # sigmoid(-1000) = e^-1000 is not 0, nor is the slope e^-1000 / (1 + e^-1000)^2 at either
    # end: their underflows are said (issue 22), nothing else is
    grad = "gradient of x = input"
    assert [w.split(" underflows")[0] for w in high.warnings] == [grad]
    assert [w.split(" underflows")[0] for w in low.warnings] == ["value of out = sigmoid(x)", grad]


def test_kinks_are_flagged_with_the_documented_subgradient():
    r = parse("relu(x) + abs(x)").grad(x=0)
    assert r.input_grads == {"x": 0.0}
    assert len(r.kinks) == 2
    r = parse("max(x, y, z)").grad(x=2, y=2, z=2)
    assert r.input_grads == {"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}
    assert "1/3" in next(iter(r.kinks.values()))
    r = parse("min(x, y)").grad(x=1, y=1)
    assert r.input_grads == {"x": 0.5, "y": 0.5}


def test_no_kink_away_from_it():
    assert not parse("relu(x) + max(x, y)").grad(x=1, y=0).kinks


def test_pull_scales_every_gradient():
    r = parse("(x+y)*z").grad(pull=2.5, x=-2, y=5, z=-4)
    assert r.input_grads == {"x": -10.0, "y": -10.0, "z": 7.5}


def test_constant_exponent_needs_no_log_of_a_negative_base():
    r = parse("x ** 2").grad(x=-3)
    assert r.input_grads == {"x": -6.0}
    assert not r.warnings


def test_a_file_circuit_is_named_not_echoed_and_no_nodes_labels_no_node(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from circuitcli.cli import main
    from circuitcli.core.circuit import Circuit

    path = tmp_path / "big.circuit"
    path.write_text("a = 2\nb = -3\nq = relu(a) * b\nq + a * 4  # the output has no name\n")

    def no_labels(self):
        raise AssertionError("--no-nodes must not label every node")

    monkeypatch.setattr(Circuit, "labels", no_labels)
    r = CliRunner().invoke(main, ["grad", str(path), "--json", "--no-nodes", "--no-session"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["file"] == str(path) and "expression" not in doc
    assert "relu" not in r.output  # the text is not echoed
    assert doc["output"] == {"name": "out", "value": 2.0}  # -6 + 2*4
    assert doc["inputs"]["a"] == {"value": 2.0, "grad": -3.0 + 4.0}


def test_a_bare_name_as_the_last_statement_makes_that_node_the_output():
    # q = x + y = 5 at x=2, y=3; r = 2q is defined after q but the output is q, d q / d x = 1
    result = circuitcli.parse("q = x + y; r = q * 2; q").grad(x=2, y=3)
    assert result.circuit.output_name == "q"
    assert (result.output, result.input_grads) == (5.0, {"x": 1.0, "y": 1.0})


@pytest.mark.parametrize(("text", "underlined"), [
    ("1/(x-3)", "1/(x-3)"),  # the division's caret reached only `1/(x-3`
    ("2*(x-3)**-1", "(x-3)**-1"),  # and began inside the parenthesis
    ("y + ((x-3))*log((x-3))", "log((x-3))"),
])
def test_the_caret_takes_in_a_parenthesised_operand_whole(text, underlined):
    """Found in the hostile-input round: a span ended at the operand inside ')'."""
    values = {"x": 3.0, "y": 1.0} if "y" in text else {"x": 3.0}
    err = error_of(text, **values)
    _, line, caret = err.render().splitlines()
    start = line.index(underlined)
    assert caret.strip() == "^" * len(underlined), err.render()
    assert caret.index("^") == start, err.render()
