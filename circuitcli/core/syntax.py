"""Text to statements: tokens, a shunting-yard parser and errors that point at a column.

The parser never recurses (an explicit operator stack does the work), so 100,000
nested parentheses cost no more than 100,000 additions. An expression comes out
in postfix order: each term carries its source span, and a consumer rebuilds the
tree with a stack of its own. Nothing here knows what a gate computes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "NUMBER",
    "CircuitError",
    "Statement",
    "Term",
    "iter_statements",
    "parse_number",
    "parse_program",
]

# a number as a user gives one outside an expression: NAME=VALUE, a CSV cell, a REPL value
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)


def parse_number(text: str) -> float | None:
    """The finite number `text` spells (sign, digits, point, exponent), else None.

    Python's float() also takes "inf", "nan", "1_000" and other scripts' digits, and turns
    1e400 into inf; none of those is a value a circuit input can have.
    """
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if value - value == 0 else None


class CircuitError(Exception):
    """A problem in what the user wrote, with the span it points at (exit code 2)."""

    def __init__(
        self,
        message: str,
        text: str | None = None,
        start: int | None = None,
        end: int | None = None,
        source: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.start = start
        self.end = end if end is not None else (start + 1 if start is not None else None)
        self.source = source

    def located(self) -> tuple[int, int, str] | None:
        """(line number, column, that line's text), counted from 1, or None."""
        if self.text is None or self.start is None:
            return None
        start = min(self.start, len(self.text))
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", start)
        if line_end < 0:
            line_end = len(self.text)
        line_no = self.text.count("\n", 0, line_start) + 1
        return line_no, start - line_start + 1, self.text[line_start:line_end]

    def render(self) -> str:
        """The message, then the offending line with a caret under the span."""
        where = self.located()
        if where is None:
            return f"error: {self.message}"
        line_no, col, line = where
        place = f"{self.source}:" if self.source else ""
        head = f"error: {place}{line_no}:{col}: {self.message}"
        # Very long lines (a million-gate chain) are cut to a window around the caret.
        width = 100
        offset = 0
        if len(line) > width:
            offset = max(0, col - 1 - width // 2)
            line = line[offset : offset + width]
        width_left = len(line) - (col - 1 - offset)
        span = max(1, min((self.end or self.start + 1) - self.start, width_left))
        caret = " " * (col - 1 - offset) + "^" * span
        return f"{head}\n  {line}\n  {caret}"

    def __str__(self) -> str:
        return self.render()


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
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
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


def iter_statements(text: str, source: str = ""):
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
                raise CircuitError(f"unexpected character {ch!r}{hint}", text, pos)
        if chunk:
            yield _statement(text, chunk)
    except CircuitError as err:
        err.source = source
        raise


def parse_program(text: str, source: str = "") -> list[Statement]:
    """Parse a whole circuit (one expression, or statements) into postfix statements."""
    statements = list(iter_statements(text, source))
    if not statements:
        raise CircuitError("the circuit is empty: write an expression such as (x+y)*z",
                           source=source)
    return statements


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
