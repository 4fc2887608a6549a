"""Circuit text to a tape: the exact parser, and the choice of the fast path for big files.

The exact parser reads a text in one pass: one regular expression (grammar.TOKEN) finds
the tokens, and a shunting-yard with explicit stacks appends each gate to the tape the
moment its operator is reduced. No token, tree or statement objects are made and nothing
recurses, so a million-gate chain or 100,000 nested parentheses are as safe as `x*y`.
The loop only notices that a statement is wrong; syntax.check_statement then re-reads
that statement to say what is wrong, with the caret. Every text can take this parser,
and it is the reference the shape path (core/shapes.py) is tested against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from .circuit import Circuit
from .evaluate import Evaluable
from .gates import FUNCTIONS, GATES, OPERATORS
from .grammar import (
    ASSIGN,
    CALL,
    CLOSE,
    COMMA,
    CONSTANTS,
    END,
    EOF,
    FIRST_OPERATOR,
    LAST_OPERATOR,
    LITERAL,
    MINUS,
    NAME,
    NAME_TEXT,
    NUM,
    OPEN,
    PLUS,
    TOKEN,
    UNARY,
    UNARY_GATE,
    function,
    function_names,
    is_function_name,
    operator_groups,
    reserved_names,
)
from .lazy import lazy
from .syntax import CircuitError, check_statement, statement_span, suggest

shapes = lazy("circuitcli.core.shapes")

__all__ = ["exact", "parse"]

INPUT = GATES["input"]
CONST = GATES["const"]


def parse(text: str, source: str = "", output: str | None = None) -> Evaluable:
    """Text (an expression or a circuit file's statements) to a Circuit.

    A name met before any statement defines it becomes an input; should a later statement
    define it after all, that is the "used before its definition" error. Texts of
    _FAST_FROM characters and more try the shape path first, which hands back what it
    cannot vouch for.
    """
    c = Evaluable(text, source)
    try:
        if len(text) < _FAST_FROM or not shapes.build_by_shape(c, text, exact):
            c = Evaluable(text, source)
            _build(c, text)
        c.output = _output(c, output)
    except CircuitError as err:
        err.source = source
        raise
    return c


# Texts this long take the fast path first (core/shapes.py); shorter ones are parsed at
# once by the exact parser, which is as fast for them and keeps start-up lean.
_FAST_FROM = 20_000


def exact(text: str) -> Circuit:
    """The exact parser alone: a tape with source spans, and every error explained."""
    c = Circuit(text)
    _build(c, text)
    return c


def _operator_table() -> tuple:
    """Per TOKEN group: for an operator's group, its gate and (precedence, gate, start), the
    entry it pushes, and the lowest precedence it reduces from the stack first. Read from
    the gate table at each parse, so a gate replaced in the table is the one used."""
    table: list = [None] * (LAST_OPERATOR + 1)
    for k, (key, prec, lowest) in enumerate(operator_groups(), FIRST_OPERATOR):
        gate = OPERATORS[key]
        table[k] = ((prec, gate, 0), lowest)
    return tuple(table)


def _build(c: Circuit, text: str) -> None:
    """The one pass: tokens in, gates appended to the tape's columns; no recursion.

    The operand stack holds (node, start, end): a node and the span of the text that made
    it; the operator stack holds (precedence, gate, start), (0, None, where it opens) for a
    parenthesis and (0, function name, start, end of '(') for a call. What every operand and
    operator costs is written in this loop; statements, parentheses, calls and mistakes go
    to _Parser's methods, once each.
    """
    named, consts = c.named, c.consts
    table = _operator_table()
    neg = OPERATORS[UNARY_GATE]
    p = _Parser(c, text)
    stack, ops = p.stack, p.ops
    push = stack.append
    expect = True  # an operand comes next (else an operator)

    p.reduce = reduce = _reducer(c, ops, stack)
    end, assign, close, open_ = p.end, p.assign, p.close, p.open
    for m in TOKEN.finditer(text):
        k = m.lastindex
        if k == NAME:
            if not expect:
                raise p.mistake()
            word = m.group(1)
            e = m.end()
            s = e - len(word)
            node = named.get(word)
            if node is None:
                node = p.new_name(word, s, e)
                if node < 0:
                    continue  # a call after all, its '(' on a later line: opened
            push((node, s, e))
            expect = False
        elif FIRST_OPERATOR <= k <= LAST_OPERATOR:
            if expect:
                if k == MINUS:
                    ops.append((UNARY, neg, m.end() - 1))
                elif k != PLUS:  # unary plus changes nothing
                    raise p.mistake()
                continue
            entry, lowest = table[k]
            if ops and ops[-1][0] >= lowest:
                reduce(lowest)
            ops.append(entry)
            expect = True
        elif k == NUM:
            if not expect:
                raise p.mistake()
            word = m.group(k)
            e = m.end()
            node = consts.get(word)
            if node is None:
                node = _constant(c, word, float(word), e - len(word), e)
            push((node, e - len(word), e))
            expect = False
        elif k in (END, EOF):
            if k == END and p.depth > 0 and m.group(k) == "\n":
                continue  # a newline inside parentheses continues the statement
            end(m, expect)
            expect = True
            if k == EOF:
                break
        elif k == CALL:
            if not expect:
                raise p.mistake()
            p.open_call(m.group(NAME), m.start(NAME), m.end())
        elif k == CLOSE:
            close(m.end(), expect)
        elif k == OPEN:
            open_(m.end(), expect)
            expect = True
        elif k == COMMA:
            p.comma(expect)
            expect = True
        elif k == ASSIGN:
            assign(m)
        else:  # EQUALS, BAD
            raise p.mistake()
    if not p.count:
        raise CircuitError("the circuit is empty: write an expression such as (x+y)*z")


def _reducer(c: Circuit, ops: list, stack: list) -> Callable[[int], None]:
    """reduce(lowest): apply the operators on top of the stack of precedence `lowest` and
    above, appending their gates to c. The one place a gate of an operator is made."""
    gates, a0, a1, names, starts, ends, base, live = (
        c.gates, c.a0, c.a1, c.names, c._starts, c._ends, c.base, c.live)
    kinkable, pop = c.kinkable, stack.pop
    neg = OPERATORS[UNARY_GATE]
    power, exp = OPERATORS["**"], FUNCTIONS["exp"]

    def reduce(lowest: int, ops=ops, stack=stack, pop=pop, gates=gates, a0=a0, a1=a1,
               names=names, starts=starts, ends=ends, base=base, live=live, kinkable=kinkable,
               neg=neg, power=power, exp=exp) -> None:
        # the columns as defaults: fast locals, where a closure's cells are slower
        while ops and ops[-1][0] >= lowest:
            _, g, s = ops.pop()
            if g is neg:
                a, _, e = stack[-1]
                a0.append(a)
                a1.append(-1)
                live.append(live[a])
            else:
                b, _, e = pop()
                a, s, _ = stack[-1]
                if g is power and gates[a] is CONST and names[a] == "e":
                    g, a, b = exp, b, -1  # e ** x is exp(x), to the last bit
                    live.append(live[a])
                else:
                    live.append(live[a] or live[b])
                a0.append(a)
                a1.append(b)
            n = len(gates)
            gates.append(g)
            if g.kink is not None:  # pow at 0 ** 0
                kinkable.append(n)
            names.append(None)
            starts.append(s)
            ends.append(e)
            base.append(0.0)
            stack[-1] = (n, s, e)

    return reduce


class _Parser:
    """The parser's state beyond the loop's locals, and what it does once per statement,
    parenthesis, call or new name."""

    __slots__ = ("at", "bare", "body_at", "c", "constants", "count", "counts", "defined",
                 "depth", "first", "name", "name_end", "name_start", "ops", "reduce", "reserved",
                 "skip", "stack", "text")

    def __init__(self, c: Circuit, text: str) -> None:
        self.c, self.text = c, text
        self.stack: list[tuple[int, int, int]] = []  # operands: (node, start, end)
        self.ops: list[tuple] = []  # operators, parentheses and open calls
        self.counts: list[int] = []  # arguments so far of each open call
        self.reduce: Callable[[int], None] = _never
        self.depth = 0  # open parentheses, so a newline inside them continues the statement
        self.skip = -1  # the end of a '(' already taken as a call's
        self.at = 0  # where the current statement starts (after the last ';' or newline)
        self.name: str | None = None  # its `name =`
        self.name_start = self.name_end = self.body_at = 0
        self.first = 0  # the tape's length when it began
        self.bare = -1  # where the last bare expression statement starts, -1 if none
        self.count = 0  # statements finished
        self.defined: dict[str, int] = {}  # name -> where its statement names it
        self.constants: dict[str, int] = {}  # a named constant -> where it was first read
        self.reserved = frozenset(reserved_names())  # functions' names: never operands

    def mistake(self) -> CircuitError:
        """The current statement is wrong: check_statement raises what is wrong with it."""
        return _mistake(self.text, self.at)

    def wrong(self, err: CircuitError) -> CircuitError:
        return _wrong(self.text, self.at, self.bare, err)

    def new_name(self, word: str, s: int, e: int) -> int:
        """The node a name not met before stands for: a named constant, or a new input.

        A function's name, or the statement's own, may still be a call whose '(' is on the
        next line inside parentheses: then the call is opened and the answer is -1.
        """
        c = self.c
        if word == self.name or word in self.reserved:
            # (relu
            #  (x)): a call after all, its '(' on the next line
            after = _rare(_NOTHING + r"\(").match(self.text, e) if self.depth > 0 else None
            if after is None:
                raise self.wrong(_bad_reference(self.text, word, self.name, s, e))
            self.open_call(word, s, after.end())
            self.skip = after.end()
            return -1
        value = CONSTANTS.get(word)
        if value is not None:
            node = _constant(c, repr(value), value, s, e)
            if c.names[node] is None:
                c.names[node] = word  # shown as `pi`, not as its digits
            self.constants.setdefault(word, s)
            return node
        node = c._add(INPUT, (), s, e, live=True)
        c.names[node] = word
        c.inputs[word] = node
        c.named[word] = node
        return node

    def end(self, m: re.Match, expect: bool) -> None:
        """A statement's end (or an empty statement): its value is the operand left; name
        it, or take `name = <number>` as an input with a default."""
        if m.start() == self.at:  # an empty statement
            self.at = m.end()
            return
        if expect:
            raise self.mistake()
        if self.ops:
            self.reduce(1)
            if self.ops:
                raise self.mistake()  # a parenthesis never closed
        if self.bare >= 0:
            raise _bare_error(self.text, self.bare)
        c = self.c
        node, _, e = self.stack.pop()
        self.count += 1
        self.depth = 0
        name = self.name
        if name is None:
            self.bare = self.at
            c._last = node  # `q` alone names node q, even when later nodes use it
        else:
            if len(c.gates) - self.first <= 2:  # maybe `name = <number>`
                literal = _literal(c, self.text, node, self.first, self.body_at, e)
                if literal is not None:
                    node = c._add(INPUT, (), self.name_start, self.name_end, live=True)
                    c.inputs[name] = node
                    c.defaults[name] = literal
            if c.names[node] is None:
                c.names[node] = name
            c.named[name] = node
            c._last = node
            self.name = None
        self.at = m.end()

    def assign(self, m: re.Match) -> None:
        """`name =` at a statement's start: the name must be new and allowed."""
        if m.start() != self.at:
            raise self.mistake()  # `=` anywhere but after a statement's first name
        name = m.group(NAME)
        start = m.start(NAME)
        end = start + len(name)
        defined = self.defined
        if (name in defined or name in self.c.inputs or self.bare >= 0
                or name in self.reserved or name in self.constants):
            problem = _check_new_name(self.c, self, name, start, end, self.text)
            raise self.wrong(problem or _bare_error(self.text, self.bare))
        defined[name] = start
        self.name, self.name_start, self.name_end = name, start, end
        self.first = len(self.c.gates)
        self.body_at = m.end()

    def open_call(self, word: str, start: int, paren_end: int) -> None:
        self.ops.append((0, word, start, paren_end))
        self.counts.append(1)
        self.depth += 1

    def open(self, paren_end: int, expect: bool) -> None:
        """'(': a parenthesis, or (after a name on an earlier line) a call after all."""
        if paren_end == self.skip:
            return  # the '(' of a call already opened
        if expect:
            self.ops.append((0, None, paren_end - 1))  # where it opens: the span's start
            self.depth += 1
            return
        call = _call_after_all(self.c, self.text, self.stack, paren_end)
        if call is None:
            raise self.mistake()
        self.open_call(*call, paren_end)

    def comma(self, expect: bool) -> None:
        """',' between a call's arguments."""
        ops = self.ops
        if expect:
            raise self.mistake()
        if ops and ops[-1][0] > 0:
            self.reduce(1)
        if not ops or type(ops[-1][1]) is not str:
            raise self.mistake()
        self.counts[-1] += 1

    def close(self, end: int, expect: bool) -> None:
        """')': the parenthesis's operand stays; a call becomes its gate."""
        ops = self.ops
        self.depth -= 1
        if expect:
            raise self.empty_call(end)
        if ops and ops[-1][0] > 0:
            self.reduce(1)
        if not ops:
            raise self.mistake()
        entry = ops.pop()
        if entry[1] is not None:
            self.call(entry[1], entry[2], self.counts.pop(), end)
        elif self.stack:  # the operand's span takes in its parentheses: `1/(x-3)` whole
            node = self.stack[-1][0]
            self.stack[-1] = (node, entry[2], end)

    def call(self, word: str, s: int, arity: int, end: int) -> None:
        """`f(a, b)` closed: its gate over the top `arity` operands."""
        gate = function(word)
        if gate is None or (gate.arity != arity and (gate.arity is not None or arity < 1)):
            raise self.wrong(_function_error(word, arity, s, end, self.text))
        stack = self.stack
        args = tuple(item[0] for item in stack[-arity:])
        del stack[-arity:]
        stack.append((self.c._add(gate, args, s, end), s, end))

    def empty_call(self, end: int) -> CircuitError:
        """')' where an operand was expected: `f()` (a call without arguments, never
        right), else a syntax mistake."""
        ops, text = self.ops, self.text
        if not (ops and type(ops[-1][1]) is str and self.counts[-1] == 1
                and _rare(_NOTHING).fullmatch(text, ops[-1][3], end - 1)):
            raise self.mistake()
        return self.wrong(_function_error(ops[-1][1], 0, ops[-1][2], end, text))


def _never(lowest: int) -> None:
    raise AssertionError("the parser's reduce is set by _build")


def _constant(c: Circuit, word: str, value: float, start: int, end: int) -> int:
    """The node of a constant (one node per distinct literal: 0.5 written a thousand times
    is one leaf), made the first time it is met."""
    node = c.consts.get(word)
    if node is None:
        node = c.consts[word] = len(c.gates)
        c.gates.append(CONST)
        c.a0.append(-1)
        c.a1.append(-1)
        c.names.append(None)
        c._starts.append(start)
        c._ends.append(end)
        c.base.append(value)
        c.live.append(0)
    return node


# what may stand between two tokens: f( # nothing here
# ) is still f()
_NOTHING = r"(?:[ \t\r\f\v\n]+|\\\n|\#[^\n]*)*"


@cache
def _rare(pattern: str) -> re.Pattern:
    """Patterns for rare corners, compiled when first met (start-up stays lean)."""
    return re.compile(pattern)


def _mistake(text: str, at: int) -> CircuitError:
    """The statement at `at` is wrong: check_statement raises what is wrong with it."""
    check_statement(text, at)
    raise AssertionError(f"parser and checker disagree on the statement at {at}")


def _wrong(text: str, at: int, bare: int, err: CircuitError) -> CircuitError:
    """A mistake in meaning; syntax errors of the statement, and a bare statement before
    it, are reported first, in the order the user reads them."""
    check_statement(text, at)
    if bare >= 0:
        return _bare_error(text, bare)
    return err


def _call_after_all(c: Circuit, text: str, stack: list, paren_end: int
                    ) -> tuple[str, int] | None:
    """(name, start) when the operand just read is a name and this '(' follows it on a
    later line inside parentheses: `(relu` newline `(x))` calls relu. The operand is taken
    back (and the input it made, if it made one). None otherwise: a missing operator."""
    if not stack:
        return None
    node, s, e = stack[-1]
    if not (_rare(NAME_TEXT).fullmatch(text, s, e)
            and _rare(_NOTHING).fullmatch(text, e, paren_end - 1)):
        return None
    stack.pop()
    word = text[s:e]
    if (node == len(c.gates) - 1 and c.gates[node] is INPUT and c.starts[node] == s
            and c.inputs.get(word) == node):
        _truncate(c, node)
        del c.inputs[word]
        del c.named[word]
    return word, s


def _truncate(c: Circuit, length: int) -> None:
    """Take the nodes from `length` on off the tape."""
    for column in (c.gates, c.a0, c.a1, c.names, c.base, c._starts, c._ends, c.live):
        del column[length:]
    for i in [i for i in c.more if i >= length]:
        del c.more[i]


def _output(c: Circuit, output: str | None) -> int:
    """The node to differentiate: --of NAME, else the last statement's."""
    if output == "out" and "out" not in c.named and c.names[c._last] is None:
        return c._last  # the name every table gives an unnamed output
    if output is not None:
        if output not in c.named:
            raise CircuitError(f"--of {output}: the circuit has no node named {output}"
                               + suggest(output, c.named))
        return c.named[output]
    return c._last


def _literal(c: Circuit, text: str, top: int, first: int, after: int, end: int) -> float | None:
    """`name = <number>` (or -<number>, +<number>) declares an input: its default, else None.

    The tape has then just grown by that constant (and its negation): they are taken off.
    """
    if len(c.gates) - first > 2:
        return None
    gate = c.gates[top]
    if not (gate is CONST or (gate is OPERATORS[UNARY_GATE] and c.gates[c.a0[top]] is CONST)):
        return None
    m = LITERAL.fullmatch(text, after, end)
    if m is None:
        return None
    sign, word = m.groups()
    value = float(word)
    if len(c.gates) > first:  # undo the nodes this statement made
        for i in range(first, len(c.gates)):
            if c.gates[i] is CONST:
                del c.consts[word]
        _truncate(c, first)
    return -value if sign == "-" else value


def _bare_error(text: str, at: int) -> CircuitError:
    start, end = statement_span(text, at)
    return CircuitError("only the last statement may be a bare expression; name this one"
                        " (q = ...)", text, start, end)


def _check_new_name(c: Circuit, st: _Parser, name: str, start: int, end: int, text: str
                    ) -> CircuitError | None:
    if is_function_name(name):
        return CircuitError(f"{name} is a function and cannot be a name", text, start, end)
    if name in st.defined:
        return CircuitError(
            f"{name} is defined twice: at {_place(text, st.defined[name])} and at "
            f"{_place(text, start)}", text, start, end)
    if name in c.inputs:  # met earlier as an input, defined only now
        first = c.inputs[name]
        return CircuitError(f"{name} is used before its definition at "
                            f"{_place(text, start)}", text, c.starts[first], c.ends[first])
    if name in st.constants:  # read as the constant, defined only now
        at = st.constants[name]
        return CircuitError(
            f"{name} is read as the constant {name} = {CONSTANTS[name]!r} here, and defined"
            f" only at {_place(text, start)}: define it before its first use, or give it"
            " another name", text, at, at + len(name))
    return None


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _place(text: str, pos: int) -> str:
    """`line 3, column 1`: where a statement starts."""
    line_start = text.rfind("\n", 0, pos) + 1
    return f"line {_line(text, pos)}, column {pos - line_start + 1}"


def _bad_reference(text: str, word: str, name: str | None, start: int, end: int
                   ) -> CircuitError:
    """A name that cannot be an input: the statement's own name, or a function's."""
    if word == name:
        return CircuitError(f"{word} is used in its own definition (a cycle)", text, start, end)
    return CircuitError(f"{word} is a function: call it as {word}(...)", text, start, end)


def _function_error(word: str, arity: int, start: int, end: int, text: str) -> CircuitError:
    """Why a call is wrong: an unknown function, or the wrong number of arguments."""
    gate = function(word)
    if gate is None:
        spellings = function_names()
        hint = suggest(word, spellings) or "; functions: " + ", ".join(FUNCTIONS)
        return CircuitError(f"unknown function {word}(){hint}", text, start, start + len(word))
    want = gate.arity
    need = "at least 1 argument" if want is None else (
        f"{want} argument" + ("s" if want != 1 else ""))
    others = [name for name, g in FUNCTIONS.items()
              if g.arity == arity or (g.arity is None and arity >= 1)]
    hint = f"; functions of {arity} argument{'s' * (arity != 1)}: {', '.join(others)}" if (
        others and arity) else ""
    return CircuitError(f"{word}() takes {need}, got {arity}{hint}", text, start, end)
