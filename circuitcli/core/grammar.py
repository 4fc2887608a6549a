"""The expression language, written once: every reader of circuit text builds on this.

A number, a name, the operators with their precedence, the named constants and the
other spellings of functions are defined here and nowhere else. From them come the
patterns each reader needs: `TOKEN`, the one pattern the exact parser (core/parser.py)
runs over a text; the checker's token pattern (core/syntax.py), which explains a
mistake; `WORD`, which cuts a big file into words and statement shapes (core/shapes.py);
and `parse_number`, which reads a value a user gives outside an expression (NAME=VALUE,
a CSV cell, a REPL value). Digits are ASCII: `x*٣` is refused as `y=٣` is.
"""

from __future__ import annotations

import math
import re

from .gates import FUNCTIONS, Gate

__all__ = ["BINARY", "CONSTANTS", "NUMBER", "TOKEN", "UNARY", "WORD", "function",
           "function_names", "is_function_name", "is_number_word", "parse_number",
           "reserved_names"]

# ---- the words -----------------------------------------------------------------------------

# a number: digits with an optional point and exponent; ASCII digits only (\d would take
# other scripts' digits too, which float() reads but a user did not mean as a number)
NUMBER_TEXT = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
# a name: a letter or underscore of any script, then letters, digits, underscores
NAME_TEXT = r"[^\W\d]\w*"
# spaces that do not end a statement (a newline does, outside parentheses)
SPACE = r"[ \t\r\f\v]"

# named constants: a name the circuit does not define itself is this number (a leaf, not
# an input); a circuit that defines the name (`e = 0.5`) uses its own from then on
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# other spellings of functions: `ln(x)` is log(x). ALIASES are reserved as functions are;
# CALL_ONLY spellings are functions only where a '(' follows (σ stays a node name too)
ALIASES: dict[str, str] = {"ln": "log"}
CALL_ONLY: dict[str, str] = {"σ": "sigmoid"}


def function(word: str) -> Gate | None:
    """The gate a call `word(...)` makes, or None: an unknown function."""
    return FUNCTIONS.get(ALIASES.get(word) or CALL_ONLY.get(word) or word)


def is_function_name(word: str) -> bool:
    """A name reserved for a function: it is called, never defined or read."""
    return word in FUNCTIONS or word in ALIASES


def reserved_names() -> list[str]:
    """The names no statement may define or read as an operand: the functions'."""
    return [*FUNCTIONS, *ALIASES]


def function_names() -> list[str]:
    """Every spelling a call may use, for suggestions and error messages."""
    return [*FUNCTIONS, *ALIASES, *CALL_ONLY]


# ---- the operators -------------------------------------------------------------------------

# binary operators: symbol -> (gate key in gates.OPERATORS, precedence, right-associative)
BINARY: dict[str, tuple[str, int, bool]] = {
    "+": ("+", 1, False),
    "-": ("-", 1, False),
    "*": ("*", 2, False),
    "/": ("/", 2, False),
    "**": ("**", 4, True),
    "^": ("**", 4, True),  # another spelling of **
}
# prefix minus (plus changes nothing): looser than ** (-x**2 is -(x**2)), tighter than * /
UNARY = 3
UNARY_GATE = "neg"

# ---- the patterns --------------------------------------------------------------------------

# Inside a TOKEN match, spaces, `\` line continuations and comments are skipped
_SKIP = rf"{SPACE}*(?:(?:\\\n|\#[^\n]*){SPACE}*)*"


def _alternatives(symbols) -> str:
    """A regular-expression alternation of these symbols, longest first (`**` before `*`)."""
    return "|".join(re.escape(s) for s in sorted(symbols, key=len, reverse=True))


# the operator groups of TOKEN, in group order: each group's symbols spell one gate
# (a group whose symbol is longer comes first, so that `**` is never read as two `*`)
_OPERATOR_GROUPS: tuple[str, ...] = tuple(sorted(
    dict.fromkeys(gate for gate, _, _ in BINARY.values()),
    key=lambda key: -max(len(s) for s, (gate, _, _) in BINARY.items() if gate == key)))
_OPERATOR_PATTERNS = "\n    | ".join(
    "(" + _alternatives([s for s, (gate, _, _) in BINARY.items() if gate == key]) + ")"
    for key in _OPERATOR_GROUPS)

# One match per token; the group that matched says the kind (the constants below)
TOKEN = re.compile(
    _SKIP
    + rf"""(?:
      ({NAME_TEXT})                              # a name, maybe followed by '=' (an
      (?:{SPACE}*(?:\\\n{SPACE}*)*(?:(=)|(\()))?  # assignment) or '(' (a call)
    | {_OPERATOR_PATTERNS}
    | ({NUMBER_TEXT})
    | ([\n;])                                    # the end of a statement
    | (\))
    | (\()
    | (,)
    | (=)                                        # an '=' not after a name
    | ([^ \t\r\f\v\\]|\\(?!\n))                  # anything else is a mistake
    | (\Z)                                       # the end of the text
    )""",
    re.VERBOSE,
)
NAME, ASSIGN, CALL = 1, 2, 3
# the operator groups follow CALL, one per gate: group CALL + 1 + i spells _OPERATOR_GROUPS[i]
FIRST_OPERATOR = CALL + 1
LAST_OPERATOR = CALL + len(_OPERATOR_GROUPS)
NUM, END, CLOSE, OPEN, COMMA, EQUALS, BAD, EOF = range(LAST_OPERATOR + 1, LAST_OPERATOR + 9)
PLUS = FIRST_OPERATOR + _OPERATOR_GROUPS.index("+")
MINUS = FIRST_OPERATOR + _OPERATOR_GROUPS.index("-")


def operator_groups() -> tuple[tuple[str, int, int], ...]:
    """Per TOKEN operator group, in order: (gate key, precedence, the lowest precedence it
    reduces from the operator stack before it is pushed: its own, or one above for a
    right-associative operator)."""
    found = []
    for key in _OPERATOR_GROUPS:
        prec, right = next((p, r) for gate, p, r in BINARY.values() if gate == key)
        found.append((key, prec, prec + right))
    return tuple(found)


# The tokens one at a time, as the statement checker reads them (space is a token there)
_PUNCTUATION = _alternatives([*BINARY, "(", ")", ",", "=", ";", chr(10)])
SCAN = (
    rf"""
    (?P<ws>{SPACE}+|\\\n)
  | (?P<comment>\#[^\n]*)
  | (?P<num>{NUMBER_TEXT})
  | (?P<name>{NAME_TEXT})
  | (?P<op>{_PUNCTUATION})
  | (?P<bad>.)
    """
)

# A word of a statement shape (core/shapes.py): a name or a number. The group makes
# re.split return the words between the pieces of shape.
WORD = re.compile(rf"({NAME_TEXT}|{NUMBER_TEXT})")

# `name = <number>` (or -<number>, +<number>): the body of a statement that declares an
# input with a default, read between the '=' and the statement's end
LITERAL = re.compile(rf"(?:{SPACE}|\\\n)*([+-]?)(?:{SPACE}|\\\n)*({NUMBER_TEXT})")

# a number as a user gives one outside an expression: NAME=VALUE, a CSV cell, a REPL value
NUMBER = re.compile(rf"[-+]?{NUMBER_TEXT}")


def is_number_word(word: str) -> bool:
    """Whether a word (a name or a number, as WORD cuts them) is a number."""
    return word[0] == "." or "0" <= word[0] <= "9"


def parse_number(text: str) -> float | None:
    """The finite number `text` spells (sign, digits, point, exponent), else None.

    Python's float() also takes "inf", "nan", "1_000" and other scripts' digits, and turns
    1e400 into inf; none of those is a value a circuit input can have.
    """
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if value - value == 0 else None
