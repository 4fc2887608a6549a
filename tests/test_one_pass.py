"""The one-pass parser, and the statement-shape fast path in front of it, build the same
tape, and raise the same errors, as the old parser.

The old parser (tokens, then postfix Terms and Statement objects, then a tape) is kept
here, verbatim, as the reference: random statements, valid and invalid, go through both,
and every column of the tape, or the error and its caret, must agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import circuitcli
from circuitcli.core import parser as parser_module
from circuitcli.core import shapes as shapes_module
from circuitcli.core.circuit import _CONST, _INPUT, Circuit
from circuitcli.core.gates import FUNCTIONS, OPERATORS, Gate
from circuitcli.core.syntax import CircuitError, suggest

# ---- the old parser, the reference (as it was before the one-pass parser) --------------


class Term(NamedTuple):
    """One postfix item: a number, a name, an operator or a call with its arity.

    Built as a plain tuple on the hot path (a million of them for a long chain).
    """

    kind: str  # "num" | "name" | "op" | "call"
    text: str  # the number's or name's text, the operator ("+", "neg", "**") or the function
    start: int
    end: int
    arity: int


@dataclass(slots=True)
class Statement:
    """`name = expr` (name may be None for a bare expression); expr is postfix."""

    name: str | None
    expr: list[Term]
    start: int
    end: int
    name_start: int = 0
    name_end: int = 0
    # a statement `name = <number>` declares an input with that default value
    default: float | None = None


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+|\\\n)
  | (?P<comment>\#[^\n]*)
  | (?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)  # ASCII digits only
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|[-+*/^(),=;\n])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# binary operators: precedence, right-associative?
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "**": (4, True)}
_UNARY_PREC = 3  # binds looser than ** (so -x**2 is -(x**2)), tighter than * and /

Token = tuple  # (kind, text, start, end); kind is "num", "name" or the operator itself


def old_iter_statements(text: str, source: str = ""):
    """Yield statements one at a time, so a huge file never holds all its tokens at once."""
    chunk: list[Token] = []
    append = chunk.append
    depth = 0
    try:
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind == "name" or kind == "num":
                append((kind, m.group(), *m.span()))
            elif kind == "op":
                tok = m.group()
                if tok == "\n" or tok == ";":
                    if tok == "\n" and depth > 0:
                        continue  # a newline inside parentheses continues the statement
                    depth = 0
                    if chunk:
                        yield _statement(text, chunk)
                        chunk = []
                        append = chunk.append
                    continue
                if tok == "(":
                    depth += 1
                elif tok == ")":
                    depth -= 1
                elif tok == "^":
                    tok = "**"
                append((tok, tok, *m.span()))
            elif kind == "bad":
                pos = m.start()
                ch = text[pos]
                hint = ""
                if ch in "<>!&|%":
                    hint = "; the operators are + - * / ** ^ and functions such as max(a, b)"
                elif ch.isdigit() or ch.isnumeric():
                    hint = "; numbers are written with the digits 0-9"
                raise CircuitError(f"unexpected character {ch!r}{hint}", text, pos)
        if chunk:
            yield _statement(text, chunk)
    except CircuitError as err:
        err.source = source
        raise


def _statement(text: str, toks: list[Token]) -> Statement:
    start, end = toks[0][2], toks[-1][3]
    name = None
    name_start = name_end = 0
    body = toks
    if len(toks) >= 2 and toks[1][0] == "=" and toks[0][0] == "name":
        name, name_start, name_end = toks[0][1], toks[0][2], toks[0][3]
        body = toks[2:]
        if not body:
            raise CircuitError(f"nothing after '{name} =': give an expression or a number",
                               text, toks[1][2])
    expr = _postfix(text, body)
    default = _literal(body) if name is not None else None
    return Statement(name, expr, start, end, name_start, name_end, default)


def _literal(body: list[Token]) -> float | None:
    """The value of `<number>` or `-<number>` / `+<number>`, else None."""
    if len(body) == 1 and body[0][0] == "num":
        return float(body[0][1])
    if len(body) == 2 and body[0][0] in ("+", "-") and body[1][0] == "num":
        value = float(body[1][1])
        return -value if body[0][0] == "-" else value
    return None


def _postfix(text: str, toks: list[Token]) -> list[Term]:
    """Shunting-yard over one statement's tokens; every mistake points at its token."""
    out: list = []
    emit = out.append
    # stack items: (kind, text, start, end, prec, right_assoc) with kind "op" (binary),
    # "pre" (prefix minus), "(" (grouping) or "call" (a function's open parenthesis);
    # argument counts of open calls live on their own stack
    stack: list[tuple] = []
    push = stack.append
    counts: list[int] = []
    expect_operand = True
    n = len(toks)
    i = 0
    while i < n:
        kind, val, s, e = toks[i]
        i += 1
        if expect_operand:
            if kind == "name":
                if i < n and toks[i][0] == "(":
                    if i + 1 < n and toks[i + 1][0] == ")":  # f(): no arguments
                        emit(("call", val, s, toks[i + 1][3], 0))
                        i += 2
                        expect_operand = False
                    else:
                        push(("call", val, s, e, 0, False))
                        counts.append(1)
                        i += 1
                else:
                    emit(("name", val, s, e, 0))
                    expect_operand = False
            elif kind == "num":
                emit(("num", val, s, e, 0))
                expect_operand = False
            elif kind == "(":
                push(("(", "(", s, e, 0, False))
            elif kind == "-":
                push(("pre", "neg", s, e, _UNARY_PREC, True))
            elif kind == "+":
                pass  # unary plus changes nothing
            elif kind == ")":
                raise CircuitError("expected an expression before ')'", text, s)
            elif kind == ",":
                raise CircuitError("expected an argument before ','", text, s)
            elif kind == "=":
                raise CircuitError("unexpected '=': assignments are `name = expression`, one per"
                                   " statement", text, s)
            else:
                raise CircuitError(f"'{val}' needs something on its left", text, s, e)
            continue
        binary = _BINARY.get(kind)
        if binary is not None:
            prec, right = binary
            while stack:
                top = stack[-1]
                tp = top[4]
                if tp > prec or (tp == prec and not right):
                    stack.pop()
                    emit(("op", top[1], top[2], top[3], 2 if top[0] == "op" else 1))
                else:
                    break  # "(" and "call" have precedence 0 and stop the loop
            push(("op", kind, s, e, prec, right))
            expect_operand = True
        elif kind == ")" or kind == ",":
            while stack and stack[-1][4] > 0:
                top = stack.pop()
                emit(("op", top[1], top[2], top[3], 2 if top[0] == "op" else 1))
            if not stack:
                if kind == ")":
                    raise CircuitError("unmatched ')'", text, s)
                raise CircuitError("',' outside a function call", text, s)
            top = stack[-1]
            if kind == ",":
                if top[0] != "call":
                    raise CircuitError("',' outside a function call", text, s)
                counts[-1] += 1
                expect_operand = True
            else:
                stack.pop()
                if top[0] == "call":
                    emit(("call", top[1], top[2], e, counts.pop()))
                else:  # a group: its operand's span takes in the parentheses
                    emit(("group", "(", top[2], e, 1))
        elif kind == "=":
            raise CircuitError("unexpected '=': one assignment per statement (separate with ';')",
                               text, s)
        else:
            prev = toks[i - 2]
            hint = (f"write {prev[1]}*{val}, not {prev[1]}{val}"
                    if kind == "name" and prev[0] == "num" else f"put '*' before {text[s:e]!r}")
            raise CircuitError(f"missing operator (implicit multiplication): {hint}", text, s, e)
    if expect_operand:
        where = toks[-1][3] if toks else 0
        raise CircuitError("the expression ends early: expected a number, a name or '('",
                           text, where)
    while stack:
        top = stack.pop()
        if top[4] == 0:
            raise CircuitError("'(' is never closed", text, top[2])
        emit(("op", top[1], top[2], top[3], 2 if top[0] == "op" else 1))
    return out


def old_build(statements: Iterable[Statement], text: str, source: str = "",
          output: str | None = None) -> Circuit:
    """Statements to a tape, one at a time; names, arities and definition order are checked.

    A name met before any statement defines it becomes an input; should a later
    statement define it after all, that is the "used before its definition" error.
    """
    c = Circuit(text, source)
    defined: dict[str, int] = {}  # name -> where its statement names it
    named = c.named
    last: Statement | None = None
    try:
        for st in statements:
            if last is not None and last.name is None:
                raise CircuitError("only the last statement may be a bare expression; name this"
                                   " one (q = ...)", text, last.start, last.end)
            last = st
            name = st.name
            if name is not None:
                _check_new_name(c, defined, st, text)
                defined[name] = st.name_start
            if st.default is not None:
                i = c._add(_INPUT, (), st.name_start, st.name_end, live=True)
                c.names[i] = name
                c.inputs[name] = i
                c.defaults[name] = st.default
                named[name] = i
                continue
            top = _expression(c, st, text)
            last_top = top
            if name is not None:
                if c.names[top] is None:
                    c.names[top] = name
                named[name] = top
    except CircuitError as err:
        err.source = source
        raise
    if last is None:
        raise CircuitError("the circuit is empty: write an expression such as (x+y)*z",
                           source=source)
    if output is not None:
        if output not in named:
            raise CircuitError(f"--of {output}: the circuit has no node named {output}"
                               + suggest(output, named), source=source)
        c.output = named[output]
    else:
        # (the old parser took the last tape node for a bare last statement, so `q` alone
        # after `r = q*2` gave r: fixed in both, the bare statement's own node is the output)
        c.output = named[last.name] if last.name is not None else last_top
    return c


def _check_new_name(c: Circuit, defined: dict[str, int], st: Statement, text: str) -> None:
    name = st.name
    if name in FUNCTIONS:
        raise CircuitError(f"{name} is a function and cannot be a name", text, st.name_start,
                           st.name_end)
    if name in defined:
        raise CircuitError(
            f"{name} is defined twice: at {_place(text, defined[name])} and at "
            f"{_place(text, st.name_start)}", text, st.name_start, st.name_end)
    if name in c.inputs:  # met earlier as an input, defined only now
        first = c.inputs[name]
        raise CircuitError(f"{name} is used before its definition at "
                           f"{_place(text, st.name_start)}", text, c.starts[first],
                           c.ends[first])


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _place(text: str, pos: int) -> str:
    """`line 3, column 1`: where a statement starts."""
    line_start = text.rfind("\n", 0, pos) + 1
    return f"line {_line(text, pos)}, column {pos - line_start + 1}"


def _expression(c: Circuit, st: Statement, text: str) -> int:
    """Append one statement's postfix terms to the tape; returns its top node.

    The appends are inlined: this loop runs once per gate of a million-gate chain.
    """
    stack: list[tuple[int, int, int]] = []  # (node, start, end)
    push = stack.append
    named = c.named
    gates, names, starts, ends, base, live = (
        c.gates, c.names, c.starts, c.ends, c.base, c.live)
    kinkable = c.kinkable
    consts = c.consts
    operators = OPERATORS
    for kind, word, start, end, arity in st.expr:
        if kind == "num":
            # one node per distinct constant: 0.5 written a thousand times is one leaf
            node = consts.get(word)
            if node is not None:
                push((node, start, end))
                continue
            node = consts[word] = len(gates)
            push((node, start, end))
            c._put_args(len(gates), ())
            gates.append(_CONST)
            base.append(float(word))
            live.append(0)
        elif kind == "name":
            node = named.get(word)
            if node is None:
                node = _new_input(c, st, word, start, end, text)
            push((node, start, end))
            continue
        elif kind == "group":
            push((stack.pop()[0], start, end))
            continue
        else:
            gate = operators[word] if kind == "op" else _function(word, arity, start, end, text)
            if arity == 2:
                (a, s0, _), (b, _, e1) = stack[-2], stack[-1]
                del stack[-2:]
                args = (a, b)
                alive = live[a] or live[b]
            elif arity == 1:
                a, s0, e1 = stack.pop()
                args = (a,)
                alive = live[a]
            else:
                items = stack[-arity:]
                del stack[-arity:]
                args = tuple(item[0] for item in items)
                s0, e1 = items[0][1], items[-1][2]
                alive = any(live[a] for a in args)
            if start > s0:
                start = s0
            if e1 > end:
                end = e1
            if gate.kink is not None:
                kinkable.append(len(gates))
            push((len(gates), start, end))
            c._put_args(len(gates), args)
            gates.append(gate)
            base.append(0.0)
            live.append(alive)
        names.append(None)
        starts.append(start)
        ends.append(end)
    return stack[-1][0]


def _new_input(c: Circuit, st: Statement, word: str, start: int, end: int, text: str) -> int:
    """A name seen for the first time is an input, unless it names a function or a cycle."""
    if word == st.name:
        raise CircuitError(f"{word} is used in its own definition (a cycle)", text, start, end)
    if word in FUNCTIONS:
        raise CircuitError(f"{word} is a function: call it as {word}(...)", text, start, end)
    node = c._add(_INPUT, (), start, end, live=True)
    c.names[node] = word
    c.inputs[word] = node
    c.named[word] = node
    return node


def _function(word: str, arity: int, start: int, end: int, text: str) -> Gate:
    """The gate a call names, with its argument count checked."""
    gate = FUNCTIONS.get(word)
    if gate is None:
        hint = suggest(word, FUNCTIONS) or "; functions: " + ", ".join(FUNCTIONS)
        raise CircuitError(f"unknown function {word}(){hint}", text, start, start + len(word))
    want = gate.arity
    if (want is None and arity < 1) or (want is not None and arity != want):
        need = "at least 1 argument" if want is None else (
            f"{want} argument" + ("s" if want != 1 else ""))
        others = [name for name, g in FUNCTIONS.items()
                  if g.arity == arity or (g.arity is None and arity >= 1)]
        hint = f"; functions of {arity} argument{'s' * (arity != 1)}: {', '.join(others)}" if (
            others and arity) else ""
        raise CircuitError(f"{word}() takes {need}, got {arity}{hint}", text, start, end)
    return gate


def old_parse(text: str, source: str = "", output: str | None = None) -> Circuit:
    return old_build(old_iter_statements(text, source), text, source, output)


# ---- the comparison -----------------------------------------------------------------------


def outcome(parse, text: str, output: str | None = None) -> tuple:
    """Everything a parse produces: every column of the tape, or the error as shown."""
    try:
        c = parse(text, "f.circuit", output)
    except CircuitError as err:
        return ("error", err.message, err.start, err.end, err.source, err.render())
    return ([g.name for g in c.gates], list(c.args), c.names, list(c.starts), list(c.ends),
            [repr(v) for v in c.base], bytes(c.live), c.inputs, c.defaults, c.named,
            c.kinkable, c.consts, c.output)


def shape_parse(text: str, source: str = "", output: str | None = None) -> Circuit:
    """parse with the statement-shape fast path (core/shapes.py) tried on any text."""
    saved = parser_module._FAST_FROM, shapes_module.VECTOR_FROM
    parser_module._FAST_FROM = shapes_module.VECTOR_FROM = 0
    try:
        return parser_module.parse(text, source, output)
    finally:
        parser_module._FAST_FROM, shapes_module.VECTOR_FROM = saved


def same(text: str, output: str | None = None) -> None:
    expected = outcome(old_parse, text, output)
    assert outcome(circuitcli.parse, text, output) == expected, text
    assert outcome(shape_parse, text, output) == expected, text


PIECES = ["x", "y", "q", "a", "b2", "sin", "relu", "max", "pow", "sigmod", "é", "2", "0.5",
          "1e3", ".5", "2.", "1e", "٣", "+", "-", "*", "/", "**", "^", "(", ")", ",", "=", ";",
          "\n", " ", "  ", "\t", "# c\n", "#", "\\\n", "\\", "$", "<", "\u00a0", "\r", "\f"]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
       st.sampled_from([None, None, "q", "x", "nope"]))
def test_any_text_gives_the_same_tape_or_the_same_error(text, output):
    same(text, output)


NAMES = ["x", "y", "z", "q", "w"]


def _combine(children):
    unary = st.tuples(st.sampled_from(["relu", "exp", "sigmoid", "abs", "-", "+", ""]),
                      children).map(lambda t: f"{t[0]}({t[1]})" if t[0] else f"({t[1]})")
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "^"]), children,
                       st.sampled_from(["", " ", "\\\n"])).map(
        lambda t: f"{t[0]}{t[3]}{t[1]}{t[3]}{t[2]}")
    variadic = st.tuples(st.sampled_from(["max", "min", "pow"]),
                         st.lists(children, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})")
    return st.one_of(unary, binary, variadic)


EXPRESSIONS = st.recursive(
    st.one_of(st.sampled_from(NAMES), st.sampled_from(["2", "0.5", "-1", "3e-2", "0.5"])),
    _combine, max_leaves=8)
STATEMENTS = st.lists(
    st.tuples(st.sampled_from([*NAMES, None]), EXPRESSIONS,
              st.sampled_from(["\n", ";", "; ", "  # note\n", "\n\n"])),
    min_size=1, max_size=6).map(
    lambda sts: "".join(f"{n} = {e}{sep}" if n else f"{e}{sep}" for n, e, sep in sts))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STATEMENTS, st.sampled_from([None, "q", "w"]))
def test_random_programs_give_the_same_tape(text, output):
    same(text, output)


@pytest.mark.parametrize("text", [
    "a = 2", "a = -2", "a = +2", "a = --2", "a = (2)", "a = 2; b = a; b", "a = 0.5; b = 0.5*x",
    "x = 0.5*y; a = 0.5", "a = - \\\n 2", "f()", "f( # c\n)", "max(+)", "(relu\n(x))",
    "relu\n(x)", "x(y)", "2 sin(x)", "(x)(y)", "x + y = 2", "x == 2", "a = b = 2",
    "q = 1; x + 1; y", "x + 1; y $", "x + ) $", "a =", "a = +", "(x; y)", "x)\n y",
    "a = 2; b = 3; a", "a = a + 1", "exp + 1", "x \\\n", "x   ", "x\\", "x # c", "",
])
def test_corner_cases(text):
    same(text)
    same(text, "a")


LABEL_NAMES = ["x", "mul1", "add2", "out", "sub01", "relu1", "q"]
LABELLED = st.lists(
    st.tuples(st.sampled_from([*LABEL_NAMES, None]), EXPRESSIONS), min_size=1, max_size=5).map(
    lambda sts: "\n".join(f"{n} = {e}" if n else e for n, e in sts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LABELLED, st.sampled_from([None, "x", "q", "mul1"]))
def test_one_label_is_the_label_among_all(text, output):
    try:
        c = circuitcli.parse(text, output=output)
    except CircuitError:
        return
    one = [c.label(i) for i in range(len(c))]  # before labels() caches them
    assert one == c.labels(), text
