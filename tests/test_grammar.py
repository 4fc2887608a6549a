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
