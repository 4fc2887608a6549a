"""Errors that point at a column, and the slow path that explains a mistake.

The parser (core/parser.py) builds the tape as the tokens arrive and checks as little
as it needs to notice that a statement is wrong; `check_statement` then explains the
first mistake of that statement (caret, column, suggestion). Explaining is the slow
path: it runs only when there is an error. `split_statements` gives the statements of a
text to the one tool that edits circuit text (the REPL). The grammar both read is
core/grammar.py's. Nothing here knows what a gate computes, and nothing here recurses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .grammar import BINARY, SCAN, UNARY
from .lazy import lazy
from .safe_text import printable

difflib = lazy("difflib")

__all__ = ["CircuitError", "Statement", "check_statement", "split_statements",  # noqa: F822
           "statement_span", "suggest"]


def suggest(word: str, choices, what: str = "") -> str:
    """'; did you mean X?' for the nearest choice, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


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
        """The message, then the offending line with a caret under the span; every part
        that came from the user (the message quotes it, the line is it) through the one
        sanitiser, so an escape sequence in them is shown, never obeyed."""
        where = self.located()
        message = printable(self.message)
        if where is None:
            return f"error: {message}"
        line_no, col, line = where
        place = f"{printable(self.source)}:" if self.source else ""
        head = f"error: {place}{line_no}:{col}: {message}"
        # Very long lines (a million-gate chain) are cut to a window around the caret.
        width = 100
        offset = 0
        if len(line) > width:
            offset = max(0, col - 1 - width // 2)
            line = line[offset : offset + width]
        width_left = len(line) - (col - 1 - offset)
        span = max(1, min((self.end or self.start + 1) - self.start, width_left))
        # the caret counts the characters as shown: an escaped ESC is four of them
        before = printable(line[: col - 1 - offset])
        marked = printable(line[col - 1 - offset : col - 1 - offset + span])
        caret = " " * len(before) + "^" * max(1, len(marked))
        return f"{head}\n  {printable(line)}\n  {caret}"

    def __str__(self) -> str:
        return self.render()


# ---- the slow path: what exactly is wrong with one statement -----------------------------

@cache
def _scan() -> re.Pattern:
    """Compiled on the first error only: start-up pays for the fast pattern alone."""
    return re.compile(SCAN, re.VERBOSE | re.DOTALL)


# each operator's one spelling in messages: the first symbol of its gate in BINARY
_SPELLED = {gate: symbol for symbol, (gate, _, _) in reversed(BINARY.items())}

Token = tuple  # (kind, text, start, end); kind is "num", "name" or the operator itself


def statement_tokens(text: str, pos: int) -> list[Token]:
    """The tokens of the statement that starts at `pos` (a bad character raises)."""
    chunk: list[Token] = []
    depth = 0
    for m in _scan().finditer(text, pos):
        kind = m.lastgroup
        if kind == "name" or kind == "num":
            chunk.append((kind, m.group(), *m.span()))
        elif kind == "op":
            tok = m.group()
            if tok == "\n" or tok == ";":
                if tok == "\n" and depth > 0:
                    continue  # a newline inside parentheses continues the statement
                if chunk:
                    break
                depth = 0
                continue
            if tok == "(":
                depth += 1
            elif tok == ")":
                depth -= 1
            elif tok in BINARY:
                tok = _SPELLED[BINARY[tok][0]]  # `^` is read as `**`
            chunk.append((tok, tok, *m.span()))
        elif kind == "bad":
            at = m.start()
            ch = text[at]
            hint = ""
            if ch in "<>!&|%":
                hint = "; the operators are + - * / ** ^ and functions such as max(a, b)"
            elif ch.isdigit() or ch.isnumeric():
                hint = "; numbers are written with the digits 0-9"
            raise CircuitError(f"unexpected character {ch!r}{hint}", text, at)
    return chunk


def statement_span(text: str, pos: int) -> tuple[int, int]:
    """Where the statement that starts at `pos` starts and ends (its first and last token)."""
    toks = statement_tokens(text, pos)
    return toks[0][2], toks[-1][3]


def check_statement(text: str, pos: int) -> None:
    """Raise the first mistake in the statement that starts at `pos`, as the user should
    read it; return if its syntax is right. Runs only after the parser noticed a problem."""
    toks = statement_tokens(text, pos)
    if len(toks) >= 2 and toks[1][0] == "=" and toks[0][0] == "name":
        if len(toks) == 2:
            raise CircuitError(f"nothing after '{toks[0][1]} =': give an expression or a number",
                               text, toks[1][2])
        toks = toks[2:]
    _check_expression(text, toks)


def _check_expression(text: str, toks: list[Token]) -> None:
    """Shunting-yard over one statement's tokens; every mistake points at its token."""
    # stack items: (kind, start, prec) with kind "op" (binary or prefix minus), "(" or "call"
    stack: list[tuple] = []
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
                        i += 2
                        expect_operand = False
                    else:
                        stack.append(("call", s, 0))
                        counts.append(1)
                        i += 1
                else:
                    expect_operand = False
            elif kind == "num":
                expect_operand = False
            elif kind == "(":
                stack.append(("(", s, 0))
            elif kind == "-":
                stack.append(("op", s, UNARY))
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
        binary = BINARY.get(kind)
        if binary is not None:
            _, prec, right = binary
            while stack and (stack[-1][2] > prec or (stack[-1][2] == prec and not right)):
                stack.pop()
            stack.append(("op", s, prec))
            expect_operand = True
        elif kind == ")" or kind == ",":
            while stack and stack[-1][2] > 0:
                stack.pop()
            if not stack:
                if kind == ")":
                    raise CircuitError("unmatched ')'", text, s)
                raise CircuitError("',' outside a function call", text, s)
            if kind == ",":
                if stack[-1][0] != "call":
                    raise CircuitError("',' outside a function call", text, s)
                counts[-1] += 1
                expect_operand = True
            elif stack.pop()[0] == "call":
                counts.pop()
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
    for kind, s, _ in reversed(stack):
        if kind != "op":
            raise CircuitError("'(' is never closed", text, s)


@cache
def _statement_class() -> type:
    """`Statement`, made on first use (the REPL's): a dataclass costs start-up time, and
    `circuit grad` never needs this one."""
    @dataclass(frozen=True, slots=True)
    class Statement:
        """One statement as a tool that edits a circuit's text sees it (the REPL).

        Not on the parse path: `parse` builds the tape in one pass and never makes these.
        """

        name: str | None  # `name = ...`, or None for a bare expression
        start: int
        end: int
        default: float | None  # `name = <number>` (or -<number>) declares an input
        uses: tuple[tuple[str, int, int], ...]  # the names it reads (not functions), with spans

    Statement.__qualname__ = "Statement"
    Statement.__module__ = __name__
    return Statement


def __getattr__(name: str) -> type:
    if name == "Statement":  # syntax.Statement, as before, made when first asked for
        return _statement_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_statements(text: str, source: str = "") -> list[Statement]:  # noqa: F821
    """The statements of `text`, each checked for its syntax (CircuitError points at it)."""
    found = []
    pos = 0
    try:
        while True:
            toks = statement_tokens(text, pos)
            if not toks:
                return found
            check_statement(text, toks[0][2])
            name = None
            body = toks
            if len(toks) >= 2 and toks[1][0] == "=" and toks[0][0] == "name":
                name, body = toks[0][1], toks[2:]
            uses = tuple((word, s, e) for k, (kind, word, s, e) in enumerate(body)
                         if kind == "name" and not (k + 1 < len(body) and body[k + 1][0] == "("))
            found.append(_statement_class()(name, toks[0][2], toks[-1][3],
                                            _literal(body) if name is not None else None, uses))
            pos = toks[-1][3]
    except CircuitError as err:
        err.source = source
        raise


def _literal(body: list[Token]) -> float | None:
    """The value of `<number>` or `-<number>` / `+<number>`, else None."""
    if len(body) == 1 and body[0][0] == "num":
        return float(body[0][1])
    if len(body) == 2 and body[0][0] in ("+", "-") and body[1][0] == "num":
        value = float(body[1][1])
        return -value if body[0][0] == "-" else value
    return None
