"""The grammar is written once (core/grammar.py): the exact parser, the shape path, the
statement checker and the value parser read the same number, name and operator table."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import circuitcli
from circuitcli import CircuitError
from circuitcli.core import grammar
from circuitcli.core.grammar import parse_number


def test_a_unicode_digit_in_an_expression_is_refused_with_a_caret(run):
    """Issue 19: `x*٣` gave out = 3 while `y=٣` was refused; both are refused now."""
    r = run("grad", "x*٣", "x=1")
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == "error: 1:3: unexpected character '٣'; numbers are written with the" \
                       " digits 0-9"
    assert lines[1:] == ["  x*٣", "    ^"]
    value = run("grad", "x*y", "x=1", "y=٣")
    assert value.exit_code == 2


@pytest.mark.parametrize("text", ["q = ٣ * x", "x + ١٢", "x * 1٣", "1.5e٣ * x"])
def test_no_digit_of_another_script_makes_a_number(text):
    with pytest.raises(CircuitError):
        circuitcli.parse(text)


DIGITS = "0123456789٣١٢߀०৪୫௮౬໙၅᠑"  # ASCII and other scripts' decimal digits


@given(st.text(alphabet=DIGITS + ".eE+-", min_size=1, max_size=8))
def test_an_expression_takes_the_numbers_a_value_takes(word):
    """A word the value parser reads as a finite number reads as the same constant in an
    expression; a word it refuses for its characters is never a number there."""
    value = parse_number(word)
    unsigned = not word.startswith(("+", "-"))
    try:
        c = circuitcli.parse(f"q = x * ({word})")
    except CircuitError:
        assert value is None or not unsigned
        return
    if value is not None and unsigned:
        assert c.base[c.consts[word]] == value
    assert all(literal.isascii() for literal in c.consts)  # only ASCII digits make a number


def test_values_and_expressions_share_the_number_pattern():
    """The same text, read by each reader (no second spelling of a number to drift)."""
    for word in ["3", "0.5", ".5", "5.", "1e-3", "2E+8", "00"]:
        assert parse_number(word) == float(word)
        assert grammar.WORD.fullmatch(word)
        kinds = [m.lastindex for m in grammar.TOKEN.finditer(word)]
        assert kinds[0] == grammar.NUM
        assert re.compile(grammar.SCAN, re.VERBOSE).fullmatch(word).lastgroup == "num"
    for word in ["inf", "nan", "1_000", "٣", "0x10", "1e400"]:
        assert parse_number(word) is None


def test_the_operator_table_gives_precedence_and_both_spellings_of_power():
    """Issue's acceptance: one precedence table, read by the parser and the checker."""
    assert circuitcli.parse("2 ^ 3 ^ 2").forward().output == 2.0 ** 9
    assert circuitcli.parse("2 ** 3 ** 2").forward().output == 2.0 ** 9
    assert circuitcli.parse("-2 ** 2").forward().output == -4.0
    assert circuitcli.parse("1 - 2 - 3").forward().output == -4.0
    assert circuitcli.parse("8 / 4 / 2").forward().output == 1.0
    with pytest.raises(CircuitError, match="'\\*\\*' needs something on its left"):
        circuitcli.parse("^ 2")


# ---- named constants and other spellings of functions (issue 23) ---------------------------

import mpmath as mp  # noqa: E402

mp.mp.dps = 50


def ulps(value: float, exact) -> float:
    """How many units in the last place `value` is from the exact number."""
    import math

    return abs(mp.mpf(value) - exact) / mp.mpf(math.ulp(float(exact)))


@pytest.mark.parametrize("x", [-3.5, -0.25, 0.0, 1.0, 2.5, 40.0])
def test_pi_and_e_are_constants_with_their_exact_values(x):
    r = circuitcli.parse("2*pi*x + e").grad(x=x)
    assert list(r.circuit.inputs) == ["x"]  # neither pi nor e is an input
    assert ulps(r.output, 2 * mp.pi * mp.mpf(x) + mp.e) <= 2 or abs(r.output) < 1e-300
    assert r.input_grads["x"] == float(2 * mp.mpf(float(mp.pi)))  # 2 * the double nearest pi


@pytest.mark.parametrize("x", [-700.0, -3.0, 0.0, 0.5, 2.0, 100.0, 709.0])
def test_e_to_the_x_is_exp_to_the_last_bit(x):
    """`e**x` and `exp(x)` agree bit for bit, value and gradient, and are right to the ulp."""
    ours = circuitcli.parse("e**x").grad(x=x)
    exp = circuitcli.parse("exp(x)").grad(x=x)
    assert ours.output == exp.output and ours.input_grads == exp.input_grads
    assert ulps(ours.output, mp.exp(x)) <= 1
    assert ulps(ours.input_grads["x"], mp.exp(x)) <= 1
    both = circuitcli.parse("e**(2*x) - exp(2*x)").grad(x=x / 2)
    assert both.output == 0.0


def test_the_constants_read_as_their_names():
    c = circuitcli.parse("q = 2*pi*r; q*e")
    assert c.formula(c.named["q"]).endswith("* r")
    assert "pi" in c.labels() and "e" in c.labels()
    assert circuitcli.parse("e").forward().output == float(mp.e)
    assert circuitcli.parse("-pi").forward().output == -float(mp.pi)


@pytest.mark.parametrize("x", [0.001, 0.5, 2.0, 1e300])
def test_ln_is_log(x):
    r = circuitcli.parse("ln(x)").grad(x=x)
    assert r.output == circuitcli.parse("log(x)").grad(x=x).output
    assert ulps(r.output, mp.log(x)) <= 1 or abs(r.output) < 1e-300
    assert ulps(r.input_grads["x"], 1 / mp.mpf(x)) <= 1


@pytest.mark.parametrize("x", [-800.0, -2.0, 0.0, 2.0, 30.0])
def test_sigma_called_is_the_sigmoid(x):
    r = circuitcli.parse("σ(x)").grad(x=x)
    same = circuitcli.parse("sigmoid(x)").grad(x=x)
    assert r.output == same.output and r.input_grads == same.input_grads
    exact = 1 / (1 + mp.exp(-x))
    assert ulps(r.output, exact) <= 2 or r.output < 1e-300
    slope = exact * (1 - exact)
    assert ulps(r.input_grads["x"], slope) <= 2 or r.input_grads["x"] < 1e-300


def test_sigma_stays_a_node_name():
    """σ was a name before it was a function: it stays one where no '(' follows."""
    r = circuitcli.parse("σ = 2*x\nq = σ(σ) + σ").grad(x=1.5)
    assert r.output == pytest.approx(float(1 / (1 + mp.exp(-3)) + 3), rel=1e-15)
    assert circuitcli.parse("σ * 2").grad(σ=3).input_grads == {"σ": 2.0}


def test_a_circuit_that_defines_the_name_uses_its_own():
    c = circuitcli.parse("e = 2\ny = e * x")
    assert list(c.inputs) == ["e", "x"] and c.defaults == {"e": 2.0}
    assert c.grad(x=3).input_grads == {"e": 3.0, "x": 2.0}
    assert circuitcli.parse("pi = a * 2; pi * 3").grad(a=1).output == 6.0


def test_defining_the_name_after_reading_the_constant_is_refused_with_a_caret():
    with pytest.raises(CircuitError) as info:
        circuitcli.parse("y = e*x\ne = 3")
    err = info.value
    assert err.message == ("e is read as the constant e = 2.718281828459045 here, and defined"
                           " only at line 2, column 1: define it before its first use, or"
                           " give it another name")
    assert (err.start, err.end) == (4, 5)


def test_a_value_for_a_constant_is_refused_with_the_way_to_make_it_an_input(run):
    r = run("grad", "e*x", "x=1", "e=3")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: e is the constant 2.718281828459045 in this circuit,"
                               " not an input")
    assert run("grad", "e = 3; e*x", "x=1", "e=2").exit_code == 0


def test_ln_is_reserved_as_the_other_functions_are():
    with pytest.raises(CircuitError, match="ln is a function and cannot be a name"):
        circuitcli.parse("ln = 3")
    with pytest.raises(CircuitError, match="did you mean ln"):
        circuitcli.parse("lnn(x)")


def test_a_big_file_with_constants_gives_the_exact_parser_tape():
    """The shape path hands texts with named constants to the exact parser."""
    from circuitcli.core.parser import exact

    lines = [f"n{k} = pi*x{k % 7} + e**x{k % 5} + ln(x{k % 3} + 2) - σ(x{k % 2})"
             for k in range(1200)]
    text = "\n".join(lines) + "\n"
    assert len(text) > 20_000
    fast, slow = circuitcli.parse(text), exact(text)
    assert fast.gates == slow.gates and fast.a0 == slow.a0 and fast.a1 == slow.a1
    assert fast.names == slow.names and list(fast.base) == list(slow.base)
